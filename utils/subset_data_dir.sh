#!/usr/bin/env bash
# Copy a subset of a data directory, carrying every file (recordings, speakers, emotion
# files, emotions.txt; fold lists in cv/ filtered to the subset).  Exactly one selector.
# Ids in --utt-list / --spk-list that the data does not have are an error unless
# --allow-missing true (then they are listed and skipped).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <src-data> <dest-data>
       $0 <src-data> <num-utt> <dest-data>    (Kaldi's default: num-utt evenly spaced)
 e.g.: $0 --utt-list lists/dev data/all data/dev
       $0 --spk-list conf/test_speakers data/all data/test
       $0 --random 500 --seed 3 data/train data/train_500"

# Begin configuration section.
utt_list=           # keep the utterances listed in this file (first field)
spk_list=           # keep the utterances of the speakers listed in this file
first=              # keep the first N utterances (sorted order)
last=               # keep the last N utterances
random=             # keep N utterances drawn at random (reproducible with --seed)
per_spk=            # keep N evenly spaced utterances of every speaker (all if fewer)
seed=0              # seed of --random
allow_missing=false # true: skip (and report) listed ids the data does not have
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 2 ] && [ $# -ne 3 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
opts=(--seed "$seed" --allow-missing "$allow_missing")
if [ -n "$utt_list" ]; then opts+=(--utt-list "$utt_list"); fi
if [ -n "$spk_list" ]; then opts+=(--spk-list "$spk_list"); fi
if [ -n "$first" ]; then opts+=(--first "$first"); fi
if [ -n "$last" ]; then opts+=(--last "$last"); fi
if [ -n "$random" ]; then opts+=(--random "$random"); fi
if [ -n "$per_spk" ]; then opts+=(--per-spk "$per_spk"); fi
exec python -m emotion2vec.bin.datadir_tools subset_data_dir.sh "${opts[@]}" -- "$@"
