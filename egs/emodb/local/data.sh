#!/usr/bin/env bash
# Stage 0 of egs/emodb: $EMODB (the unzipped download.zip) -> data/emodb[_pairs][_<classes>].
set -euo pipefail
[ ! -f ./db.sh ] || . ./db.sh
# Begin configuration section.
corpus_dir=${EMODB:-}   # unzipped download.zip (default: EMODB from db.sh or the environment)
classes=conf/emotions.txt  # class inventory (conf/emotions_4class.txt: ang hap neu sad)
folds=speaker           # speaker (leave-one-speaker-out) | speaker-pairs (5 folds in utt2fold)
min_recognition=0       # keep files recognised by >= this % of listeners (erkennung.txt)
strict=false            # counts that differ from the published ones are an error
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/emodb
[ "$folds" = speaker ] || data+=_pairs
[ "$classes" = conf/emotions.txt ] || data+=_$(basename "$classes" .txt)
if "$names_only"; then echo "data=$data"; exit 0; fi
if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/wav" ]; then
  echo "$0: error: set EMODB in db.sh or the environment, or pass --corpus-dir: the folder" \
       "must contain wav/ with the 535 EmoDB files (the unzipped download.zip; got '${corpus_dir}')" >&2
  exit 1
fi
opts=(--classes "$classes" --folds "$folds" --min-recognition "$min_recognition")
! "$strict" || opts+=(--strict)
python -m emotion2vec.corpora.emodb "${opts[@]}" "$corpus_dir" "$data"
