#!/usr/bin/env bash
# Stage 0 of egs/ravdess: $RAVDESS (Actor_01 .. Actor_24/) -> data/ravdess[_6folds][_<classes>][_<intensity>].
set -euo pipefail
[ ! -f ./db.sh ] || . ./db.sh
# Begin configuration section.
corpus_dir=${RAVDESS:-} # the folder holding Actor_01 .. Actor_24/ (default: RAVDESS from db.sh)
classes=conf/emotions.txt  # 8 classes (conf/emotions_7class.txt: no calm; _4class: ang hap neu sad)
folds=speaker           # speaker (leave-one-speaker-out) | 6 (6 folds of 4 actors in utt2fold)
intensity=all           # all | normal | strong
strict=false            # counts that differ from the published ones are an error
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/ravdess
[ "$folds" = speaker ] || data+=_${folds}folds
[ "$classes" = conf/emotions.txt ] || data+=_$(basename "$classes" .txt | sed 's/^emotions_//')
[ "$intensity" = all ] || data+=_$intensity
if "$names_only"; then echo "data=$data"; exit 0; fi
if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/Actor_01" ]; then
  echo "$0: error: set RAVDESS in db.sh or the environment, or pass --corpus-dir: the folder" \
       "must contain Actor_01 .. Actor_24/ (the speech part; got '${corpus_dir}')" >&2
  exit 1
fi
opts=(--classes "$classes" --folds "$folds" --intensity "$intensity")
! "$strict" || opts+=(--strict)
python -m emotion2vec.corpora.ravdess "${opts[@]}" "$corpus_dir" "$data"
