#!/usr/bin/env bash
# IEMOCAP: the standard 4-class set (neu hap+exc ang sad, 5531 utterances), leave-one-session-out.
# Variants: --subset improvised (2943; 2280 with --label-map "" i.e. without exc),
# --cv leave-one-speaker-out (10 folds).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh
. ./db.sh

help_message="Usage: $0 [options]
Stages (--stage N --stop-stage M):
  0  data preparation   \$IEMOCAP -> data/iemocap[_<subset>]        (local/prepare_iemocap.py)
  1  features           data dir -> feats/<data>_<features>        (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<data>_<features>_<head>_<cv>  (steps/train_cv.sh)
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table), confusion matrix
e.g.: $0 --corpus-dir /data/IEMOCAP_full_release --feat-type emotion2vec --model emotion2vec_base"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=4                    # parallel feature-extraction jobs
corpus_dir=$IEMOCAP     # IEMOCAP_full_release (default: IEMOCAP from db.sh or the environment)
subset=all              # all | improvised | scripted
audio=sentences         # sentences (per-utterance wavs) | dialog (dialog wavs + segments)
classes=conf/emotions.txt      # class inventory
label_map=conf/label_map       # exc -> hap ('' keeps exc out of the 4 classes)
strict=false            # counts that differ from the published ones are an error
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel
model=emotion2vec_base  # emotion2vec / hf model (name, directory or .pt)
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # auto (= leave-one-session-out here) | leave-one-speaker-out | ...
valid=random:0.2        # validation inside each training fold (steps/train_cv.sh --valid)
seeds=1                 # training runs per fold (different seeds)
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
data=data/iemocap$([ "$subset" = all ] || echo "_$subset")
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
  if [ -z "$corpus_dir" ] || [ ! -d "$corpus_dir/Session1" ]; then
    echo "$0: error: set IEMOCAP in db.sh or the environment, or pass --corpus-dir: the folder" \
         "must contain Session1..Session5/ (IEMOCAP_full_release; got '${corpus_dir}')" >&2
    exit 1
  fi
  opts=(--classes "$classes" --subset "$subset" --audio "$audio")
  [ -z "$label_map" ] || opts+=(--label-map "$label_map")
  ! "$strict" || opts+=(--strict)
  python local/prepare_iemocap.py "${opts[@]}" "$corpus_dir" "$data"
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
  case $subset/$cv in
    all/auto|all/leave-one-session-out)
      reference="emotion2vec paper (base, frame-level head, 5531 utts, LOSO): WA 71.79; with validation on the test fold: 74.48" ;;
    all/leave-one-speaker-out)
      reference="emotion2vec paper (base, leave-one-speaker-out, 10 folds): WA 72.94" ;;
    *) reference="no published reference for this protocol" ;;
  esac
  python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md --reference "$reference"
  cat exp/RESULTS.md
  echo "Confusion matrix: $PWD/$exp/confusion.png"
fi
