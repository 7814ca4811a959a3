#!/usr/bin/env bash
# Your own Kaldi data dir (e.g. from an ASR recipe: wav.scp, optional segments, utt2spk) plus an
# utt2emo: the same features / cross-validated training / report as the corpus recipes.
# Without utt2emo it runs inference only (stage 2 labels every utterance with --infer-model).
# Folds (--cv auto): utt2fold if the data dir has one, else cv/fold<k>/ lists, else
# leave-one-session-out with utt2session, else leave-one-speaker-out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh

help_message="Usage: $0 [options] --data-dir <kaldi-data-dir>
Stages (--stage N --stop-stage M):
  0  data: checked copy of <data-dir> as data/<name>, with --utt2emo / --classes (local/prepare_custom.py)
  1  features           data/<name> -> feats/<name>_<features>      (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<name>_<features>_<head>_<cv>  (steps/train_cv.sh)
     (no utt2emo: inference with --infer-model -> exp/<name>_infer    (steps/infer.sh))
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table), confusion matrix
e.g.: $0 --data-dir ~/kaldi/egs/swbd/s5c/data/train --utt2emo my_labels/utt2emo
      $0 --data-dir data_in/calls --infer-model emotion2vec_plus_base   # inference only"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=4                    # parallel jobs (features, inference)
data_dir=               # the existing Kaldi data dir (wav.scp, optional segments, utt2spk)
name=                   # name of the copy under data/ ('' = the data dir's own name)
utt2emo=                # '<utt> <label>' file ('' = the data dir's utt2emo, or none: inference only)
classes=                # class inventory ('' = the data dir's emotions.txt, else the labels sorted)
label_map=              # '<from> <to>' label merges for training (e.g. 'exc hap')
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel
model=emotion2vec_base  # emotion2vec / hf model (name, directory or .pt)
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # auto | utt2fold | lists:<dir> | leave-one-session-out | leave-one-speaker-out | ...
valid=                  # validation inside each training fold ('': steps/train_cv.sh default)
seeds=1                 # training runs per fold (different seeds)
infer_model=emotion2vec_plus_base  # inference only: emotion2vec+ name, trained exp dir or packed model
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
if [ -z "$data_dir" ]; then echo "$help_message" >&2; echo "$0: error: --data-dir is required" >&2; exit 2; fi
data=data/${name:-$(basename "$data_dir")}
case $feat_type in
  emotion2vec|hf) feat_tag=${feat_type}_$(basename "${model%.pt}") ;;
  *) feat_tag=$feat_type ;;
esac
[ "$layer" = last ] || feat_tag+="_l$layer"
feats=feats/$(basename "$data")_$feat_tag
exp=exp/$(basename "$data")_${feat_tag}_${head}_${cv//[:\/]/-}
[ -z "$head_config" ] || exp+=_$(basename "$head_config" .yaml)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data: $data_dir -> $data"
  # A checked copy: the source is never modified, and data/<name> is never the source.
  opts=()
  [ -z "$utt2emo" ] || opts+=(--utt2emo "$utt2emo")
  [ -z "$classes" ] || opts+=(--classes "$classes")
  python local/prepare_custom.py ${opts[@]+"${opts[@]}"} "$data_dir" "$data"
  if [ -f "$data/utt2emo" ]; then
    echo "classes: $(tr '\n' ' ' < "$data/emotions.txt")"
  else
    echo "no utt2emo: stage 2 runs inference only (--infer-model $infer_model)"
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  if [ -f "$data/utt2emo" ]; then
    echo "Stage 1: features ($feat_tag): $data -> $feats"
    opts=(--cmd "$extract_cmd" --nj "$nj" --feat-type "$feat_type" --layer "$layer" --device "$device")
    case $feat_type in emotion2vec|hf) [ -z "$model" ] || opts+=(--model "$model") ;; esac
    steps/extract_feats.sh "${opts[@]}" "$data" "$feats"
  else
    echo "Stage 1: skipped (inference only: the inference model extracts its own features)"
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  if [ -f "$data/utt2emo" ]; then
    echo "Stage 2: cross-validated training ($head, $cv): $data + $feats -> $exp"
    opts=(--cmd "$train_cmd" --head "$head" --cv "$cv" --seeds "$seeds" --classes "$data/emotions.txt")
    [ -z "$valid" ] || opts+=(--valid "$valid")
    [ -z "$label_map" ] || opts+=(--label-map "$label_map")
    [ -z "$head_config" ] || opts+=(--config "$head_config")
    steps/train_cv.sh "${opts[@]}" "$data" "$feats" "$exp"
  else
    exp=exp/$(basename "$data")_infer
    echo "Stage 2: inference ($infer_model): $data -> $exp"
    steps/infer.sh --cmd "$extract_cmd" --nj "$nj" --device "$device" --model "$infer_model" "$data" "$exp"
  fi
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  if [ -f "$data/utt2emo" ]; then
    echo "Stage 3: report: $exp/results.json -> exp/RESULTS.md"
    python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md --exp "$exp" \
      --reference "your data: no published numbers"
    cat exp/RESULTS.md
    echo "Confusion matrix: $PWD/$exp/confusion.png"
  else
    exp=exp/$(basename "$data")_infer
    echo "Stage 3: labels in $PWD/$exp/utt2emo, class scores in $PWD/$exp/scores.jsonl"
    awk '{print $2}' "$exp/utt2emo" | LC_ALL=C sort | uniq -c
  fi
fi
