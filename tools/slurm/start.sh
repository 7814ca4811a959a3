#!/usr/bin/env bash
# Start a real single-node Slurm cluster on this machine (for tests and demos).
#
#   tools/slurm/start.sh [--cpus N] [--mem-mb MB] <state-dir>
#
# Needs root and the Debian packages slurmctld slurmd slurm-client munge
# (tools/setup.sh --test installs them).  Everything the cluster writes (slurm.conf,
# state, spool, logs, pid files) lives in <state-dir>; the controller and node daemon
# listen on free ports picked at start, so several clusters can run side by side.
# On success it prints the line to use it:   export SLURM_CONF=<state-dir>/slurm.conf
# Stop it with tools/slurm/stop.sh <state-dir>.
#
# Memory is enforced (jobacct_gather/linux + OverMemoryKill): a task that exceeds its
# --mem is killed by slurmstepd and ends as OUT_OF_MEMORY, as on a production cluster.
set -euo pipefail

# Begin configuration section.
cpus=            # CPUs the node offers (default: nproc)
mem_mb=          # memory the node offers in MB (default: half of MemTotal, at most 16384)
timeout=60       # seconds to wait for the node to become idle
# End configuration section.

help_message="Usage: $0 [options] <state-dir>
Start a single-node Slurm cluster whose files live in <state-dir>."
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
. "$root/utils/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
dir=$1

if [ "$(id -u)" -ne 0 ]; then
  echo "$0: error: must run as root (slurmd runs jobs as their user)" >&2
  exit 1
fi
for prog in slurmctld slurmd munged sinfo sbatch scontrol; do
  if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
    echo "$0: error: '$prog' not found; install slurmctld slurmd slurm-client munge" \
      "(tools/setup.sh --test)" >&2
    exit 1
  fi
done
export PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
  echo "$0: error: a cluster already runs from $dir (stop it with tools/slurm/stop.sh $dir)" >&2
  exit 1
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/log"

[ -n "$cpus" ] || cpus=$(nproc)
if [ -z "$mem_mb" ]; then
  mem_mb=$(awk '/^MemTotal:/ {m = int($2 / 1024 / 2); if (m > 16384) m = 16384; print m}' /proc/meminfo)
fi

# munge: reuse a running daemon, else start one (and remember that we did).
if ! munge -n </dev/null >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  if [ ! -s /etc/munge/munge.key ]; then
    echo "$0: error: /etc/munge/munge.key is missing (reinstall munge)" >&2
    exit 1
  fi
  runuser -u munge -- munged
  echo started >"$dir/munged.started"
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null >/dev/null 2>&1 || { echo "$0: error: munged did not start" >&2; exit 1; }
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ctl_port=$(free_port)
node_port=$(free_port)
while [ "$node_port" = "$ctl_port" ]; do node_port=$(free_port); done

cat >"$dir/slurm.conf" <<CONF
# Written by tools/slurm/start.sh: a single-node test cluster.
ClusterName=e2vtest
SlurmctldHost=localhost
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem_mb / cpus))
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
ReturnToService=2
MinJobAge=600
MaxArraySize=10001
KillWait=5
SchedulerParameters=sched_interval=1
MpiDefault=none
NodeName=localhost NodeHostname=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost

state=""
for _ in $(seq $((timeout * 5))); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  case $state in idle*|mixed*|allocated*) break ;; esac
  sleep 0.2
done
case $state in
  idle*|mixed*|allocated*) ;;
  *)
    echo "$0: error: the node did not become idle within ${timeout}s (state '${state}');" \
      "see $dir/log/slurmctld.log and $dir/log/slurmd.log" >&2
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
    exit 1 ;;
esac
echo "export SLURM_CONF=$dir/slurm.conf"
