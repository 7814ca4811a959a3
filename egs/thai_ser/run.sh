#!/usr/bin/env bash
# THAI SER (VISTEC v1): studio recordings, the 8 studio folds (5 studios test, 5 validation),
# labels recomputed from the votes (agreement >= 0.71, ties dropped); Zoom recordings are
# prepared as a second data dir (an extra test condition).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh
. ./db.sh

help_message="Usage: $0 [options]
Stages (--stage N --stop-stage M):
  0  data preparation   \$THAI_SER -> data/thai_ser_<mic>[_4class] (+ _zoom, _zoomtest)  (local/prepare_thai_ser.py)
  1  features           data dir -> feats/<data>_<features>        (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<data>_<features>_<head>_<cv>  (steps/train_cv.sh)
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table), confusion matrix
e.g.: $0 --corpus-dir /data/thai_ser --mic clip --classes conf/emotions_4class.txt"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=4                    # parallel feature-extraction jobs
corpus_dir=$THAI_SER    # emotion_label.json + studio*/zoom* (default: THAI_SER from db.sh)
classes=conf/emotions.txt  # 5 classes (conf/emotions_4class.txt drops frustrated)
mic=con                 # con (condenser) | clip (clip-on)
agreement=0.71          # minimum share of the top emotion among the annotators' votes
zoom_test=true          # also train on each studio fold and test on the Zoom recordings
strict=false            # counts that differ from the published ones are an error
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel
model=emotion2vec_base  # emotion2vec / hf model (name, directory or .pt)
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # auto (= the 8 studio folds in data/.../cv) | ...
valid=                  # '' = the fold's own validation studios (cv/fold<k>/valid)
seeds=1                 # training runs per fold (different seeds)
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
data=data/thai_ser_$mic
[ "$classes" = conf/emotions.txt ] || data+=_$(basename "$classes" .txt | sed 's/^emotions_//')
case $feat_type in
  emotion2vec|hf) feat_tag=${feat_type}_$(basename "${model%.pt}") ;;
  *) feat_tag=$feat_type ;;
esac
[ "$layer" = last ] || feat_tag+="_l$layer"
# With the Zoom condition, features are extracted once for studio + Zoom (data/..._zoomtest)
# and serve both trainings (a feature dir may hold more utterances than a data dir uses).
src=$data
if "$zoom_test"; then src=${data}_zoomtest; fi
feats=feats/$(basename "$src")_$feat_tag
exp=exp/$(basename "$data")_${feat_tag}_${head}_${cv//[:\/]/-}
[ -z "$head_config" ] || exp+=_$(basename "$head_config" .yaml)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data preparation: ${corpus_dir:-<unset>} -> $data (+ ${data}_zoom)"
  if [ -z "$corpus_dir" ] || [ ! -f "$corpus_dir/emotion_label.json" ]; then
    echo "$0: error: set THAI_SER in db.sh or the environment, or pass --corpus-dir: the folder" \
         "must contain emotion_label.json, actor_demography.json and the unzipped studio*/zoom* archives (got '${corpus_dir}')" >&2
    exit 1
  fi
  opts=(--classes "$classes" --mic "$mic" --agreement "$agreement")
  ! "$strict" || opts+=(--strict)
  "$zoom_test" || opts+=(--zoom-test-dir "")
  python local/prepare_thai_ser.py "${opts[@]}" "$corpus_dir" "$data"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "Stage 1: features ($feat_tag): $src -> $feats"
  opts=(--cmd "$extract_cmd" --nj "$nj" --feat-type "$feat_type" --layer "$layer" --device "$device")
  case $feat_type in emotion2vec|hf) [ -z "$model" ] || opts+=(--model "$model") ;; esac
  steps/extract_feats.sh "${opts[@]}" "$src" "$feats"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "Stage 2: cross-validated training ($head, $cv): $data + $feats -> $exp"
  opts=(--cmd "$train_cmd" --head "$head" --cv "$cv" --seeds "$seeds" --classes "$classes")
  [ -z "$valid" ] || opts+=(--valid "$valid")
  [ -z "$head_config" ] || opts+=(--config "$head_config")
  steps/train_cv.sh "${opts[@]}" "$data" "$feats" "$exp"
  if "$zoom_test"; then
    echo "Stage 2: Zoom test condition: ${data}_zoomtest + $feats -> ${exp}_zoomtest"
    steps/train_cv.sh "${opts[@]}" "${data}_zoomtest" "$feats" "${exp}_zoomtest"
  fi
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "Stage 3: report: $exp/results.json -> exp/RESULTS.md"
  reference="no published reference in this toolkit's sources for THAI SER"
  python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md --reference "$reference"
  if "$zoom_test"; then
    python -m emotion2vec.bin.append_results "${exp}_zoomtest/results.json" exp/RESULTS.md \
      --reference "Zoom test condition (studio-trained fold models)"
  fi
  cat exp/RESULTS.md
  echo "Confusion matrix: $PWD/$exp/confusion.png"
fi
