#!/usr/bin/env bash
# Split a data directory into N parts for N parallel jobs: <data>/split<N>/<n>/ (n = 1..N),
# each a complete data dir carrying every file (wav.scp / segments restricted to the
# recordings used).  By speaker by default (each speaker in one part; fails when there are
# fewer speakers than parts), or per utterance (--per-utt: <data>/split<N>utt/<n>/).
# Deterministic.  An existing split is reused only if it was made from exactly the current
# files (content fingerprint); otherwise it is rebuilt and swapped in whole.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [--per-utt] <data-dir> <num-to-split>
 e.g.: $0 data/train 8          # -> data/train/split8/{1..8}
       $0 --per-utt data/test 4  # -> data/test/split4utt/{1..4}"

# Begin configuration section.
per_utt=false       # split per utterance instead of by speaker (bare --per-utt works too)
# End configuration section.

# Kaldi's bare flag --per-utt (the same as '--per-utt true').
if [ $# -gt 0 ] && [ "$1" = --per-utt ]; then
  if [ $# -ge 2 ] && { [ "$2" = true ] || [ "$2" = false ]; }; then
    per_utt=$2; shift 2
  else
    per_utt=true; shift
  fi
fi
. "$root/utils/parse_options.sh"

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
opts=()
if [ "$per_utt" = true ]; then opts+=(--per-utt); fi
exec python -m emotion2vec.bin.datadir_tools split_data.sh ${opts[@]+"${opts[@]}"} -- "$1" "$2"
