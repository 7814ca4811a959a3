#!/usr/bin/env bash
# Stage 0 of egs/emobox: $EMOBOX/data/<dataset> -> data/emobox_<dataset>[_to_<track2 set>].
set -euo pipefail
[ ! -f ./db.sh ] || . ./db.sh
# Begin configuration section.
corpus_dir=${EMOBOX:-}  # EmoBox checkout with data/<dataset>/ (default: EMOBOX from db.sh)
audio_root=${EMOBOX_AUDIO:-}  # folder holding downloads/ (default: the checkout)
dataset=iemocap         # EmoBox dataset name (as in data/)
cross_test=             # cross-corpus track: train on --dataset, test on this track2 set
                        # (IEMOCAP | MELD | RAVDESS | SAVEE; classes angry happy neutral sad)
track2_audio_root=      # folder holding the track2 set's wav_filename paths ('' = --audio-root)
classes=                # keep only these labels (default: every label of the dataset's label_map.json)
valid_fraction=0.2      # validation share carved from a training fold without an official one
split_seed=42           # seed of that split
strict=false            # counts that differ from the published ones are an error
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

data=data/emobox_${dataset//[:\/]/_}
[ -z "$cross_test" ] || data+=_to_$cross_test
if "$names_only"; then echo "data=$data"; exit 0; fi
if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/data" ]; then
  echo "$0: error: set EMOBOX in db.sh or the environment, or pass --corpus-dir: the folder" \
       "must contain data/<dataset>/ (an EmoBox checkout; got '${corpus_dir}')" >&2
  exit 1
fi
opts=(--valid-fraction "$valid_fraction" --seed "$split_seed")
[ -z "$audio_root" ] || opts+=(--audio-root "$audio_root")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$cross_test" ] || opts+=(--cross-test "$cross_test")
[ -z "$track2_audio_root" ] || opts+=(--track2-audio-root "$track2_audio_root")
! "$strict" || opts+=(--strict)
python -m emotion2vec.corpora.emobox "${opts[@]}" "$corpus_dir" "$dataset" "$data"
