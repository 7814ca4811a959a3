#!/usr/bin/env bash
# EmoBox: any of its 32 datasets by name (--dataset), with the benchmark's folds (official
# validation sets where shipped, else a seeded speaker-aware split); the cross-corpus track's
# balanced test sets are prepared with --dataset track2:<IEMOCAP|MELD|RAVDESS|SAVEE>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh
. ./db.sh

help_message="Usage: $0 [options]
Stages (--stage N --stop-stage M):
  0  data preparation   \$EMOBOX/data/<dataset> -> data/emobox_<dataset>[_to_<track2 set>]  (local/prepare_emobox.py)
  1  features           data dir -> feats/<data>_<features>        (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<data>_<features>_<head>_<cv>  (steps/train_cv.sh)
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table), confusion matrix
e.g.: $0 --corpus-dir /data/EmoBox --audio-root /data/EmoBox --dataset emodb
      $0 --dataset iemocap --cross-test RAVDESS --track2-audio-root /data/track2/RAVDESS"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=4                    # parallel feature-extraction jobs
corpus_dir=$EMOBOX      # EmoBox checkout with data/<dataset>/ (default: EMOBOX from db.sh)
audio_root=$EMOBOX_AUDIO  # folder holding downloads/ (default: the checkout)
dataset=iemocap         # EmoBox dataset name (as in data/)
cross_test=             # cross-corpus track: train on --dataset, test on this track2 set
                        # (IEMOCAP | MELD | RAVDESS | SAVEE; classes angry happy neutral sad)
track2_audio_root=      # folder holding the track2 set's wav_filename paths ('' = --audio-root)
classes=                # keep only these labels (default: every label of the dataset's label_map.json)
valid_fraction=0.2      # validation share carved from a training fold without an official one
split_seed=42           # seed of that split
strict=false            # counts that differ from the published ones are an error
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel
model=emotion2vec_base  # emotion2vec / hf model (name, directory or .pt)
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # auto (= the EmoBox folds in data/.../cv) | ...
valid=                  # '' = the fold's validation list (cv/fold<k>/valid)
seeds=1                 # training runs per fold (different seeds)
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
data=data/emobox_${dataset//[:\/]/_}
[ -z "$cross_test" ] || data+=_to_$cross_test
case $feat_type in
  emotion2vec|hf) feat_tag=${feat_type}_$(basename "${model%.pt}") ;;
  *) feat_tag=$feat_type ;;
esac
[ "$layer" = last ] || feat_tag+="_l$layer"
feats=feats/$(basename "$data")_$feat_tag
exp=exp/$(basename "$data")_${feat_tag}_${head}_${cv//[:\/]/-}
[ -z "$head_config" ] || exp+=_$(basename "$head_config" .yaml)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data preparation: ${corpus_dir:-<unset>} ($dataset) -> $data"
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
  python local/prepare_emobox.py "${opts[@]}" "$corpus_dir" "$dataset" "$data"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "Stage 1: features ($feat_tag): $data -> $feats"
  opts=(--cmd "$extract_cmd" --nj "$nj" --feat-type "$feat_type" --layer "$layer" --device "$device")
  case $feat_type in emotion2vec|hf) [ -z "$model" ] || opts+=(--model "$model") ;; esac
  steps/extract_feats.sh "${opts[@]}" "$data" "$feats"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "Stage 2: cross-validated training ($head, $cv): $data + $feats -> $exp"
  opts=(--cmd "$train_cmd" --head "$head" --cv "$cv" --seeds "$seeds" --classes "$data/emotions.txt")
  [ -z "$valid" ] || opts+=(--valid "$valid")
  [ -z "$head_config" ] || opts+=(--config "$head_config")
  steps/train_cv.sh "${opts[@]}" "$data" "$feats" "$exp"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "Stage 3: report: $exp/results.json -> exp/RESULTS.md"
  reference="no published reference in this toolkit's sources for EmoBox $dataset${cross_test:+ -> track2 $cross_test}"
  python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md --reference "$reference"
  cat exp/RESULTS.md
  echo "Confusion matrix: $PWD/$exp/confusion.png"
fi
