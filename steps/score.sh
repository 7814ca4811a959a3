#!/usr/bin/env bash
# Score predictions against reference labels with the same code as steps/train_cv.sh, so any
# external system can be compared.  Every reference utterance is scored: a missing prediction
# counts as wrong and is listed; a prediction for an utterance not in the reference is an error,
# and so are an empty hypothesis file and (unless --allow-unknown-labels true) a hypothesis
# label outside the class inventory.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <ref-utt2emo> <hyp> [<out-dir>]
 e.g.: $0 --classes data/iemocap/emotions.txt data/iemocap/utt2emo my_system.txt exp/my_system
<hyp>: lines 'utt label [...]' (extra columns ignored), or a predictions file of train_cv.sh.
Prints WA, UA, macro-F1, weighted-F1 and the UA 95 % CI; with <out-dir> also writes
results.json, summary.md and confusion.{txt,png} there.
A hypothesis label outside the class inventory is an error naming the file, line, utterance
and label; with --allow-unknown-labels true it counts as a wrong answer and the report says
how many were counted that way."

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/score.py holds each.
classes=                # class inventory file ('' = the labels of <ref-utt2emo>)
label_map=              # '<from> <to>' label merges applied to both sides (before the check)
allow_unknown_labels=   # true: a hypothesis label outside the inventory counts as wrong ('' = the toolkit default (false))
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 2 or 3 arguments, got $#" >&2
  exit 2
fi
opts=()
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
[ -z "$allow_unknown_labels" ] || opts+=(--allow-unknown-labels "$allow_unknown_labels")
exec python -m emotion2vec.bin.score ${opts[@]+"${opts[@]}"} "$@"
