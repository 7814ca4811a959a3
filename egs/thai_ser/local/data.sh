#!/usr/bin/env bash
# Stage 0 of egs/thai_ser: $THAI_SER -> data/thai_ser_<mic>[_4class] (+ _zoom, _zoomtest: the
# studio folds tested on the Zoom recordings; features are extracted once for _zoomtest).
set -euo pipefail
[ ! -f ./db.sh ] || . ./db.sh
# Begin configuration section.
corpus_dir=${THAI_SER:-}  # emotion_label.json + studio*/zoom* (default: THAI_SER from db.sh)
classes=conf/emotions.txt  # 5 classes (conf/emotions_4class.txt drops frustrated)
mic=con                 # con (condenser) | clip (clip-on)
agreement=0.71          # minimum share of the top emotion among the annotators' votes
zoom_test=true          # also train on each studio fold and test on the Zoom recordings
strict=false            # counts that differ from the published ones are an error
names_only=false        # print the data dirs this makes (data=, feats_data=, also=), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/thai_ser_$mic
[ "$classes" = conf/emotions.txt ] || data+=_$(basename "$classes" .txt | sed 's/^emotions_//')
if "$names_only"; then
  echo "data=$data"
  ! "$zoom_test" || printf 'feats_data=%s\nalso=%s\n' "${data}_zoomtest" "${data}_zoomtest"
  exit 0
fi
if [ -z "$corpus_dir" ] || [ ! -f "$corpus_dir/emotion_label.json" ]; then
  echo "$0: error: set THAI_SER in db.sh or the environment, or pass --corpus-dir: the folder" \
       "must contain emotion_label.json, actor_demography.json and the unzipped studio*/zoom* archives (got '${corpus_dir}')" >&2
  exit 1
fi
opts=(--classes "$classes" --mic "$mic" --agreement "$agreement")
! "$strict" || opts+=(--strict)
"$zoom_test" || opts+=(--zoom-test-dir "")
python -m emotion2vec.corpora.thai_ser "${opts[@]}" "$corpus_dir" "$data"
