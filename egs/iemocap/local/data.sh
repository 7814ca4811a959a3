#!/usr/bin/env bash
# Stage 0 of egs/iemocap: $IEMOCAP (IEMOCAP_full_release) -> data/iemocap[_<subset>].
set -euo pipefail
[ ! -f ./db.sh ] || . ./db.sh
# Begin configuration section.
corpus_dir=${IEMOCAP:-} # IEMOCAP_full_release (default: IEMOCAP from db.sh or the environment)
subset=all              # all | improvised | scripted
audio=sentences         # sentences (per-utterance wavs) | dialog (dialog wavs + segments)
classes=conf/emotions.txt      # class inventory
label_map=conf/label_map       # exc -> hap ('' keeps exc out of the 4 classes)
strict=false            # counts that differ from the published ones are an error
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/iemocap$([ "$subset" = all ] || echo "_$subset")
if "$names_only"; then echo "data=$data"; exit 0; fi
if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/Session1" ]; then
  echo "$0: error: set IEMOCAP in db.sh or the environment, or pass --corpus-dir: the folder" \
       "must contain Session1..Session5/ (IEMOCAP_full_release; got '${corpus_dir}')" >&2
  exit 1
fi
opts=(--classes "$classes" --subset "$subset" --audio "$audio")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
! "$strict" || opts+=(--strict)
python -m emotion2vec.corpora.iemocap "${opts[@]}" "$corpus_dir" "$data"
