# shellcheck shell=bash
# Job launchers for the recipes ($train_cmd, $extract_cmd, $cuda_cmd), Kaldi style.
# Source it after path.sh:   . ./path.sh; . ./cmd.sh
# Steps call them as:        $extract_cmd JOB=1:$nj $dir/log/x.JOB.log <command ...>
#
# Pick the back end here or per run (cmd_backend=slurm ./run.sh):
#   local        this machine: utils/parallel/run.py (default)
#   slurm        one Slurm array job per step: utils/parallel/slurm.py + conf/slurm.conf
#   sge          Grid Engine: utils/parallel/queue.py + conf/queue.conf
#   kaldi-run | kaldi-slurm | kaldi-queue
#                Kaldi's own run.pl / slurm.pl / queue.pl from $KALDI_ROOT
# Cluster details (partition, account, how --mem/--gpu map to the scheduler) live in
# conf/slurm.conf and conf/queue.conf, not here.
cmd_backend=${cmd_backend:-local}

if [ -z "${E2V_ROOT:-}" ]; then
  E2V_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
  export E2V_ROOT
fi

case $cmd_backend in
  local)
    train_cmd="$E2V_ROOT/utils/parallel/run.py"
    extract_cmd="$E2V_ROOT/utils/parallel/run.py"
    cuda_cmd="$E2V_ROOT/utils/parallel/run.py --gpu 1"
    ;;
  slurm)
    train_cmd="$E2V_ROOT/utils/parallel/slurm.py --config $E2V_ROOT/conf/slurm.conf --mem 8G"
    extract_cmd="$E2V_ROOT/utils/parallel/slurm.py --config $E2V_ROOT/conf/slurm.conf --mem 4G"
    cuda_cmd="$E2V_ROOT/utils/parallel/slurm.py --config $E2V_ROOT/conf/slurm.conf --mem 16G --gpu 1"
    ;;
  sge)
    train_cmd="$E2V_ROOT/utils/parallel/queue.py --config $E2V_ROOT/conf/queue.conf --mem 8G"
    extract_cmd="$E2V_ROOT/utils/parallel/queue.py --config $E2V_ROOT/conf/queue.conf --mem 4G"
    cuda_cmd="$E2V_ROOT/utils/parallel/queue.py --config $E2V_ROOT/conf/queue.conf --mem 16G --gpu 1"
    ;;
  kaldi-run|kaldi-slurm|kaldi-queue)
    if [ -z "${KALDI_ROOT:-}" ] || [ ! -d "$KALDI_ROOT/egs/wsj/s5/utils/parallel" ]; then
      echo "cmd.sh: cmd_backend=$cmd_backend needs KALDI_ROOT (a Kaldi checkout)" >&2
      return 1
    fi
    _e2v_pl="$KALDI_ROOT/egs/wsj/s5/utils/parallel/${cmd_backend#kaldi-}.pl"
    case $cmd_backend in
      kaldi-run) _e2v_conf="" ;;
      kaldi-slurm) _e2v_conf="--config $E2V_ROOT/conf/slurm.conf" ;;
      kaldi-queue) _e2v_conf="--config $E2V_ROOT/conf/queue.conf" ;;
    esac
    train_cmd="$_e2v_pl $_e2v_conf --mem 8G"
    extract_cmd="$_e2v_pl $_e2v_conf --mem 4G"
    cuda_cmd="$_e2v_pl $_e2v_conf --mem 16G --gpu 1"
    unset _e2v_pl _e2v_conf
    ;;
  *)
    echo "cmd.sh: unknown cmd_backend '$cmd_backend' (local, slurm, sge, kaldi-run, kaldi-slurm, kaldi-queue)" >&2
    return 1
    ;;
esac
export cmd_backend train_cmd extract_cmd cuda_cmd
