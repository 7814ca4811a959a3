#!/usr/bin/env bash
# EmoDB: 535 files, 7 classes, leave-one-speaker-out (10 folds); --folds speaker-pairs gives the
# 5 speaker-pair folds (utt2fold); --min-recognition filters by erkennung.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh
. ./db.sh

help_message="Usage: $0 [options]
Stages (--stage N --stop-stage M):
  0  data preparation   \$EMODB -> data/emodb[_pairs][_<classes>]  (local/prepare_emodb.py)
  1  features           data dir -> feats/<data>_<features>        (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<data>_<features>_<head>_<cv>  (steps/train_cv.sh)
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table), confusion matrix
e.g.: $0 --corpus-dir /data/emodb --folds speaker-pairs --classes conf/emotions_4class.txt"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=4                    # parallel feature-extraction jobs
corpus_dir=$EMODB       # unzipped download.zip (default: EMODB from db.sh or the environment)
classes=conf/emotions.txt  # class inventory (conf/emotions_4class.txt: ang hap neu sad)
folds=speaker           # speaker (leave-one-speaker-out) | speaker-pairs (5 folds)
min_recognition=0       # keep files recognised by >= this % of listeners (erkennung.txt)
strict=false            # counts that differ from the published ones are an error
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel
model=emotion2vec_base  # emotion2vec / hf model (name, directory or .pt)
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # auto (= leave-one-speaker-out, or utt2fold with speaker-pairs) | ...
valid=                  # validation inside each training fold ('': steps/train_cv.sh default)
seeds=1                 # training runs per fold (different seeds)
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
data=data/emodb
[ "$folds" = speaker ] || data+=_pairs
[ "$classes" = conf/emotions.txt ] || data+=_$(basename "$classes" .txt)
case $feat_type in
  emotion2vec|hf) feat_tag=${feat_type}_$(basename "${model%.pt}") ;;
  *) feat_tag=$feat_type ;;
esac
[ "$layer" = last ] || feat_tag+="_l$layer"
feats=feats/$(basename "$data")_$feat_tag
exp=exp/$(basename "$data")_${feat_tag}_${head}_${cv//[:\/]/-}
[ -z "$head_config" ] || exp+=_$(basename "$head_config" .yaml)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data preparation: ${corpus_dir:-<unset>} -> $data"
  if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/wav" ]; then
    echo "$0: error: set EMODB in db.sh or the environment, or pass --corpus-dir: the folder" \
         "must contain wav/ with the 535 EmoDB files (the unzipped download.zip; got '${corpus_dir}')" >&2
    exit 1
  fi
  opts=(--classes "$classes" --folds "$folds" --min-recognition "$min_recognition")
  ! "$strict" || opts+=(--strict)
  python local/prepare_emodb.py "${opts[@]}" "$corpus_dir" "$data"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "Stage 1: features ($feat_tag): $data -> $feats"
  opts=(--cmd "$extract_cmd" --nj "$nj" --feat-type "$feat_type" --layer "$layer" --device "$device")
  case $feat_type in emotion2vec|hf) [ -z "$model" ] || opts+=(--model "$model") ;; esac
  steps/extract_feats.sh "${opts[@]}" "$data" "$feats"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "Stage 2: cross-validated training ($head, $cv): $data + $feats -> $exp"
  opts=(--cmd "$train_cmd" --head "$head" --cv "$cv" --seeds "$seeds" --classes "$classes")
  [ -z "$valid" ] || opts+=(--valid "$valid")
  [ -z "$head_config" ] || opts+=(--config "$head_config")
  steps/train_cv.sh "${opts[@]}" "$data" "$feats" "$exp"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "Stage 3: report: $exp/results.json -> exp/RESULTS.md"
  reference="no published reference in this toolkit's sources for EmoDB"
  python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md --reference "$reference"
  cat exp/RESULTS.md
  echo "Confusion matrix: $PWD/$exp/confusion.png"
fi
