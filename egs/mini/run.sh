#!/usr/bin/env bash
# The built-in demo and CI recipe: a small emotional-speech corpus generated with espeak-ng + sox
# in the IEMOCAP layout (10 voices as speakers in 5 sessions, 4 emotions with different prosody),
# prepared by the real IEMOCAP code, with a wav.scp that mixes plain files, `sox ... |` pipes,
# a Kaldi wave archive and dialog recordings cut by `segments`; leave-one-session-out.
# Runs with no downloaded weights (fbank features by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
. ./path.sh
. ./cmd.sh

help_message="Usage: $0 [options]
Stages (--stage N --stop-stage M):
  0  data: generate corpus/IEMOCAP_full_release (local/make_mini_corpus.py), prepare it
     (local/prepare_iemocap.py, sentence and dialog audio), mix wav.scp forms -> data/mini
  1  features           data/mini -> feats/mini_<features>           (steps/extract_feats.sh)
  2  training           cross-validation -> exp/mini_<features>_<head>_<cv>  (steps/train_cv.sh)
  3  report             results.json -> exp/RESULTS.md row (yours; RESULTS.md is the curated table); prints the table and the confusion matrix path
e.g.: $0                      # the demo (make demo)
      $0 --feat-type emotion2vec --model /path/to/emotion2vec_base.pt"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run
nj=2                    # parallel feature-extraction jobs
corpus_dir=corpus       # where the generated IEMOCAP_full_release/ is written
sentences=3             # sentences per speaker and emotion (5 sessions x 2 speakers x 4 emotions x this)
classes=conf/emotions.txt      # class inventory
label_map=conf/label_map       # exc -> hap, as in egs/iemocap
feat_type=fbank         # fbank | logspec | logmel | emotion2vec | hf
model=                  # emotion2vec / hf model (name, directory or .pt); none needed for fbank
layer=last              # last | N | all
device=cpu              # cpu | cuda
head=e2v                # e2v | linear | mlp | attn | cnn | svm | logreg
head_config=conf/head.yaml  # head/trainer YAML (steps/train_cv.sh --config): short schedule
cv=auto                 # auto (= leave-one-session-out: utt2session) | leave-one-speaker-out | ...
valid=                  # validation inside each training fold ('': steps/train_cv.sh default)
seeds=1                 # training runs per fold (different seeds)
# End configuration section.
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; fi
data=data/mini
case $feat_type in
  emotion2vec|hf) feat_tag=${feat_type}_$(basename "${model:-emotion2vec_base}" .pt) ;;
  *) feat_tag=$feat_type ;;
esac
[ "$layer" = last ] || feat_tag+="_l$layer"
feats=feats/mini_$feat_tag
exp=exp/mini_${feat_tag}_${head}_${cv//[:\/]/-}
[ -z "$head_config" ] || exp+=_$(basename "$head_config" .yaml)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data: generated corpus $corpus_dir/IEMOCAP_full_release -> $data"
  python local/make_mini_corpus.py --sentences-per-emotion "$sentences" "$corpus_dir"
  mkdir -p data
  opts=(--classes "$classes")
  [ -z "$label_map" ] || opts+=(--label-map "$label_map")
  python local/prepare_iemocap.py "${opts[@]}" "$corpus_dir/IEMOCAP_full_release" data/mini_sentences > data/prepare.log 2>&1 \
    || { cat data/prepare.log >&2; exit 1; }
  python local/prepare_iemocap.py "${opts[@]}" --audio dialog "$corpus_dir/IEMOCAP_full_release" data/mini_dialog >> data/prepare.log 2>&1 \
    || { cat data/prepare.log >&2; exit 1; }
  grep -E "^IEMOCAP: [0-9]+ labelled|^IEMOCAP: wrote" data/prepare.log | head -2
  echo "(counts differ from the real IEMOCAP's on purpose: see $PWD/data/prepare.log)"
  python local/mini_mixed_wav_scp.py data/mini_sentences data/mini_dialog data/mini_wav "$data"
  utils/validate_data_dir.sh --no-feats "$data"
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
  python -m emotion2vec.bin.append_results "$exp/results.json" exp/RESULTS.md \
    --reference "synthetic corpus: no published numbers" --exp "$exp"
  cat exp/RESULTS.md
  echo "Confusion matrix: $PWD/$exp/confusion.png"
fi
