#!/usr/bin/env bash
# Train a downstream head with speaker/session-independent cross-validation and score it.
#   prepare (labels, features, folds) -> $cmd JOB=1:K train one fold each -> merge + score.
# Outputs in <exp-dir>: results.json (WA/UA/F1 in %, per fold, pooled, settings), predictions,
# summary.md, confusion.{txt,png}, cmd, fold<k>/seed<s>/ (reloadable head), log/train.<k>.log.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"
cmdline=$(printf 'cd %q && ' "$PWD"; printf '%q ' "$0" "$@")   # recorded in <exp>/cmd

help_message="Usage: $0 [options] <data-dir> <feat-dir> <exp-dir>
 e.g.: $0 --head e2v --cv leave-one-session-out data/iemocap feats/iemocap_e2v exp/iemocap_e2v
Reads <feat-dir>/feats.scp (frame [T,D] or utterance [1,D] matrices) and <data-dir>/utt2emo.
Early fusion: <feat-dir> may list several dirs, feats/a,feats/b[,...]: each set is pooled per
  utterance (--pooling; utterance-level sets as they are) and the vectors are concatenated
  into <exp-dir>/feats_fused for one utterance head (svm, logreg, linear, mlp), whose
  per-column z-normalisation (or --normalize speaker) normalises each set.
Folds (--cv): auto | utt2fold | lists:<dir> | leave-one-session-out | leave-one-speaker-out |
  leave-one-group-out | speaker-groups:K.  Validation (--valid): random:P | speaker |
  list:<file> | none | test.  Rerunning skips finished folds; changed settings are refused."

# Begin configuration section.
# '' = the toolkit default: emotion2vec/training/experiment.py holds each (DEFAULTS).
cmd=run.py              # job launcher ($train_cmd from cmd.sh; Kaldi's run.pl works too)
head=                   # e2v | attn | linear | mlp | cnn | svm | logreg ('' = the default for the feature type: heads/defaults.py, docs/training.md)
config=                 # head/trainer YAML ('' = the package's emotion2vec/heads/conf/<head>.yaml)
cv=                     # fold protocol, see above ('' = the toolkit default (auto))
valid=                  # validation set inside each training fold, see above ('' = the head's: none for logreg, svm; random:0.2 for attn, cnn, e2v, linear, mlp)
seeds=                  # training runs per fold, seeds seed..seed+N-1 ('' = the toolkit default (1))
seed=                   # first seed, also of speaker-groups:K and random validation ('' = the toolkit default (42))
classes=                # class inventory file ('' = <data-dir>/emotions.txt)
label_map=              # file of '<from> <to>' label merges (e.g. 'exc hap')
normalize=              # none | global | speaker (per-speaker statistics, test speakers' from their own utterances) ('' = the head config's choice)
pooling=                # utterance heads: frame statistics, e.g. mean | mean+std | stats | functionals | mean+std+p25+p75+slope ('' = the head config's choice)
class_weight=           # true | false: inverse-frequency class weights ('' = the head config's choice)
drop_unlisted=          # true: leave out (and list) utterances labelled outside the inventory ('' = the toolkit default (false))
allow_speaker_overlap=  # true: accept generated folds whose test speakers also train ('' = the toolkit default (false))
device=                 # cpu | cuda | auto for the PyTorch heads ('' = the config's, cpu)
num_threads=1           # CPU threads per fold job
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 3 arguments, got $#" >&2
  exit 2
fi
data=$1
feats=$2
exp=$3

[ -d "$data" ] || { echo "$0: error: no such data directory: $data" >&2; exit 1; }
IFS=, read -r -a feat_dirs <<< "$feats"   # several: early fusion
[ ${#feat_dirs[@]} -gt 0 ] || { echo "$0: error: empty <feat-dir>" >&2; exit 1; }
for f in "${feat_dirs[@]}"; do
  [ -n "$f" ] || { echo "$0: error: <feat-dir> '$feats': an empty name" >&2; exit 1; }
  [ -f "$f/feats.scp" ] || { echo "$0: error: no $f/feats.scp (run steps/extract_feats.sh)" >&2; exit 1; }
done
for d in "$data" "${feat_dirs[@]}"; do  # the experiment's files must never land on its inputs
  [ "$(readlink -m "$d")" != "$(readlink -m "$exp")" ] || { echo "$0: error: <exp-dir> is the input $d; use another directory" >&2; exit 1; }
done
mkdir -p "$exp/log"
# One run at a time per experiment dir; the fold jobs stop when this script dies.
exec {lock_fd}<>"$exp/.lock"
python -m emotion2vec.bin.lock_dir --fd "$lock_fd" --pid $$ --command "$cmdline" "$exp"
export E2V_STEP_PID=$$

# Only what the user set is passed on: train_cv_prepare applies the toolkit defaults.
opts=()
[ -z "$head" ] || opts+=(--head "$head")
[ -z "$config" ] || opts+=(--config "$config")
[ -z "$cv" ] || opts+=(--cv "$cv")
[ -z "$valid" ] || opts+=(--valid "$valid")
[ -z "$seeds" ] || opts+=(--seeds "$seeds")
[ -z "$seed" ] || opts+=(--seed "$seed")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
[ -z "$normalize" ] || opts+=(--normalize "$normalize")
[ -z "$pooling" ] || opts+=(--pooling "$pooling")
[ -z "$class_weight" ] || opts+=(--class-weight "$class_weight")
[ -z "$drop_unlisted" ] || opts+=(--drop-unlisted "$drop_unlisted")
[ -z "$allow_speaker_overlap" ] || opts+=(--allow-speaker-overlap "$allow_speaker_overlap")
[ -z "$device" ] || opts+=(--device "$device")

echo "$0: preparing $exp"
nf=$(python -m emotion2vec.bin.train_cv_prepare ${opts[@]+"${opts[@]}"} --command "$cmdline" \
       "$data" "$feats" "$exp" 2> "$exp/log/prepare.log") || {
  cat "$exp/log/prepare.log" >&2; exit 1; }
cat "$exp/log/prepare.log" >&2
echo "$cmdline" > "$exp/cmd"

echo "$0: training $nf folds: $cmd JOB=1:$nf $exp/log/train.JOB.log"
gpu_opts=()
case $device in cuda*|auto) gpu_opts=(--gpu 1) ;; esac
# $cmd is word-split on purpose: it may carry launcher options ("slurm.py --config F --mem 8G").
# shellcheck disable=SC2086
$cmd ${gpu_opts[@]+"${gpu_opts[@]}"} --num-threads "$num_threads" JOB=1:"$nf" "$exp/log/train.JOB.log" \
  env OMP_NUM_THREADS="$num_threads" MKL_NUM_THREADS="$num_threads" \
  python -m emotion2vec.bin.train_fold --fold JOB "$exp" || {
  echo "$0: error: training failed; see $exp/log/train.*.log (rerun to resume: done folds are kept)" >&2
  exit 1; }

python -m emotion2vec.bin.train_cv_merge "$exp"
echo "$0: results: $exp/results.json, summary: $exp/summary.md, confusion: $exp/confusion.png"
