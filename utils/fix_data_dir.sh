#!/usr/bin/env bash
# Repair a data directory in place: sort every file (LC_ALL=C, stable), keep the utterances
# present in every utterance file (and whose recording and speaker are known), drop
# recordings no utterance uses, regenerate spk2utt from utt2spk, filter the fold lists in cv/.
# Says per file how many entries it removed; originals of changed files go to <data>/.backup/.
# Duplicate keys and malformed lines are NOT repaired (they fail; nothing is written).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 <data-dir>
 e.g.: $0 data/train
Every file is carried (all Kaldi files, utt2emo utt2avd utt2gender utt2session utt2group
utt2fold, any other utt2*/reco2*/spk2* file, emotions.txt, cv/)."

# Begin configuration section.
# (no options)
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
exec python -m emotion2vec.bin.datadir_tools fix_data_dir.sh -- "$1"
