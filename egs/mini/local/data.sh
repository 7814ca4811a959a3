#!/usr/bin/env bash
# Stage 0 of egs/mini: generate corpus/IEMOCAP_full_release (emotion2vec.corpora.mini), prepare
# it with the real IEMOCAP code (sentence and dialog audio), mix the wav.scp forms -> data/mini.
set -euo pipefail
# Begin configuration section.
corpus_dir=corpus       # where the generated IEMOCAP_full_release/ is written
sentences=3             # sentences per speaker and emotion (5 sessions x 2 speakers x 4 emotions x this)
classes=conf/emotions.txt      # class inventory
label_map=conf/label_map       # exc -> hap, as in egs/iemocap
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/mini
if "$names_only"; then echo "data=$data"; exit 0; fi
python -m emotion2vec.corpora.mini --sentences-per-emotion "$sentences" "$corpus_dir"
mkdir -p data
opts=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
for audio in sentences dialog; do
  python -m emotion2vec.corpora.iemocap "${opts[@]}" --audio "$audio" \
    "$corpus_dir/IEMOCAP_full_release" "data/mini_$audio" >> data/prepare.log 2>&1 \
    || { cat data/prepare.log >&2; exit 1; }
done
grep -E "^IEMOCAP: [0-9]+ labelled|^IEMOCAP: wrote" data/prepare.log | tail -2
echo "(counts differ from the real IEMOCAP's on purpose: see $PWD/data/prepare.log)"
python -m emotion2vec.corpora.mini_mixed data/mini_sentences data/mini_dialog data/mini_wav "$data"
utils/validate_data_dir.sh --no-feats "$data"
