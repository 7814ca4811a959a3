#!/usr/bin/env bash
# Late fusion: combine the test posteriors of several experiments of steps/train_cv.sh per
# utterance and score the fused system with the same code, so it gets the same results.json,
# summary.md (with each system alone beside the fusion), per-fold spread and bootstrap CI.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"
cmdline=$(printf 'cd %q && ' "$PWD"; printf '%q ' "$0" "$@")   # recorded in <out-dir>/cmd

help_message="Usage: $0 [options] <exp-dir-1> <exp-dir-2> [<exp-dir-3> ...] <out-dir>
 e.g.: $0 exp/iemocap_e2v_svm exp/iemocap_fbank_mlp exp/iemocap_fusion
       $0 --weights 2,1 --method geometric exp/a exp/b exp/a+b
The experiments must test the same utterances in the same folds with the same labels and
classes (otherwise refused, naming what differs); every test utterance needs a posterior in
each.  Systems with the same seeds are fused seed by seed, otherwise each system's seed mean.
Writes <out-dir>/predictions, results.json, summary.md, confusion.{txt,png}, cmd."

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/fuse.py holds each.
weights=                # comma-separated weight per system, in argument order, e.g. 2,1 ('' = equal weights)
method=                 # mean (weighted arithmetic) | geometric (weighted, renormalised) ('' = the toolkit default (mean))
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -lt 3 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected at least 3 arguments (2 or more experiment directories and an output directory), got $#" >&2
  exit 2
fi

# Only what the user set is passed on: fuse applies the toolkit defaults.
opts=()
[ -z "$weights" ] || opts+=(--weights "$weights")
[ -z "$method" ] || opts+=(--method "$method")
python -m emotion2vec.bin.fuse ${opts[@]+"${opts[@]}"} --command "$cmdline" "$@"
