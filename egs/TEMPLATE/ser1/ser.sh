#!/usr/bin/env bash
# The shared speech-emotion-recognition recipe (the shape of ESPnet's egs2/TEMPLATE): each
# egs/<corpus>/run.sh is a few lines that call this with the corpus's own defaults.  Stage 0
# is the recipe's own local/data.sh: its options are accepted here and passed on to it, and
# `local/data.sh --names-only true` prints the data dirs it makes (`data=<dir>`, optionally
# `feats_data=<dir>`: features are extracted for that superset, and `also=<dir> ...`: more data
# dirs trained and reported the same way).  Runs in the recipe directory (run.sh cd's there).
set -euo pipefail
# shellcheck source=path.sh
. ./path.sh
# shellcheck source=cmd.sh
. ./cmd.sh
# shellcheck source=db.sh
[ ! -f ./db.sh ] || . ./db.sh

help_message="Usage: ./run.sh [options]
$(sed -n '2,/^[^#]/s/^# \{0,1\}//p' run.sh 2>/dev/null)
Stages (--stage N --stop-stage M):
  0  data preparation   corpus -> data/<name>                          (local/data.sh)
  1  features           data/<name> -> feats/<name>_<features>         (steps/extract_feats.sh)
  2  training           cross-validation -> exp/<name>_<features>_<head>_<cv>[_<config>]
                        (steps/train_cv.sh); a data dir without utt2emo is labelled by
                        --infer-model instead -> exp/<name>_infer        (steps/infer.sh)
  3  report             results.json -> a row of exp/RESULTS.md (yours; RESULTS.md is the
                        curated table), the confusion matrix
  4  inference          each of --infer-sets labelled by the trained heads -> <exp>/infer_<set>
  5  feature map        2-D map of the features by emotion -> <exp>/feature_map.png"

# Begin configuration section.
stage=0                 # first stage to run
stop_stage=3            # last stage to run (4 and 5 are optional)
nj=4                    # parallel jobs (features, inference)
feat_type=emotion2vec   # emotion2vec | hf | fbank | logspec | logmel | opensmile
model=                  # emotion2vec / hf model: name, dir or .pt ('' = emotion2vec_base)
layer=last              # last | N | all
opensmile_set=          # opensmile: eGeMAPSv02 | GeMAPSv01b | ComParE_2016 | emobase ('' = steps/extract_feats.sh's default)
opensmile_level=        # opensmile: functionals | lld ('' = steps/extract_feats.sh's default)
device=cpu              # cpu | cuda
head=                   # downstream head (the list: steps/train_cv.sh --help; '' = the default for the features: docs/training.md)
head_config=            # YAML of head/trainer settings (steps/train_cv.sh --config)
cv=auto                 # fold protocol (steps/train_cv.sh --cv)
valid=                  # validation inside each training fold ('' = steps/train_cv.sh's default)
seeds=                  # training runs per fold ('' = steps/train_cv.sh's default)
infer_model=emotion2vec_plus_base  # labels a data dir without utt2emo (stage 2)
infer_sets=             # stage 4: data dirs to label with the trained heads (space-separated)
references=conf/references  # '<data name> <cv> <text>' lines ('*' matches): published numbers
# End configuration section.
# shellcheck disable=SC2034  # read by parse_options.sh, which sets po_forwarded
po_forward=local/data.sh po_forward_skip=names_only
po_forwarded=()
. ./utils/parse_options.sh

die() { echo "$0: error: $*" >&2; exit 1; }
[ $# -eq 0 ] || { echo "$help_message" >&2; echo "$0: error: no positional arguments" >&2; exit 2; }

# The data dirs of local/data.sh, for these corpus options (its errors, e.g. a missing
# required option, stop the recipe with its exit status).
names=$(local/data.sh --names-only true ${po_forwarded[@]+"${po_forwarded[@]}"})
data='' feats_data='' also=''
while IFS='=' read -r key value; do
  case $key in
    data|feats_data|also) printf -v "$key" '%s' "$value" ;;
    *) die "local/data.sh --names-only printed '$key=$value' (want data=, feats_data=, also=)" ;;
  esac
done <<< "$names"
[ -n "$data" ] || die "local/data.sh --names-only printed no data=<dir>"
feats_data=${feats_data:-$data}
labelled() { [ -f "$data/utt2emo" ]; }

feat_opts=(--feat-type "$feat_type" --layer "$layer")
[ -z "$model" ] || feat_opts+=(--model "$model")
[ -z "$opensmile_set" ] || feat_opts+=(--opensmile-set "$opensmile_set")
[ -z "$opensmile_level" ] || feat_opts+=(--opensmile-level "$opensmile_level")
feat_tag=$(python -m emotion2vec.bin.feat_dir tag "${feat_opts[@]}")
feats=feats/$(basename "$feats_data")_$feat_tag
# '' leaves the head (and its normalisation and pooling) to steps/train_cv.sh's table for these
# features; the experiment is named after the head that table picks.
head_opt=()
if [ -n "$head" ]; then head_opt=(--head "$head")
else head=$(python -m emotion2vec.bin.feat_dir head "${feat_opts[@]}"); fi
exp_of() {  # the experiment dir of a data dir
  local e
  e=exp/$(basename "$1")_${feat_tag}_${head}_${cv//[:\/]/-}
  [ -z "$head_config" ] || e+=_$(basename "$head_config" .yaml)
  echo "$e"
}
trained=("$data")
for d in $also; do trained+=("$d"); done
exp=$(exp_of "$data")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "Stage 0: data preparation -> $data${also:+ (+ $also)} (local/data.sh)"
  local/data.sh ${po_forwarded[@]+"${po_forwarded[@]}"}
  if labelled; then
    echo "classes: $(tr '\n' ' ' < "$data/emotions.txt")"
  else
    echo "no utt2emo: stage 2 runs inference only (--infer-model $infer_model)"
  fi
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  if labelled; then
    echo "Stage 1: features ($feat_tag): $feats_data -> $feats"
    steps/extract_feats.sh --cmd "$extract_cmd" --nj "$nj" --device "$device" "${feat_opts[@]}" \
      "$feats_data" "$feats"
  else
    echo "Stage 1: skipped (inference only: the inference model extracts its own features)"
  fi
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  if labelled; then
    opts=(--cmd "$train_cmd" ${head_opt[@]+"${head_opt[@]}"} --cv "$cv")
    [ -z "$valid" ] || opts+=(--valid "$valid")
    [ -z "$seeds" ] || opts+=(--seeds "$seeds")
    [ -z "$head_config" ] || opts+=(--config "$head_config")
    [ "$device" = cpu ] || opts+=(--device "$device")
    for d in "${trained[@]}"; do
      echo "Stage 2: cross-validated training ($head, $cv): $d + $feats -> $(exp_of "$d")"
      steps/train_cv.sh "${opts[@]}" "$d" "$feats" "$(exp_of "$d")"
    done
  else
    echo "Stage 2: inference ($infer_model): $data -> exp/$(basename "$data")_infer"
    steps/infer.sh --cmd "$extract_cmd" --nj "$nj" --device "$device" --model "$infer_model" \
      "$data" "exp/$(basename "$data")_infer"
  fi
fi

reference_for() {  # the published numbers for data dir $1 under --cv, from $references
  local name pattern protocol text
  name=$(basename "$1")
  if [ -f "$references" ]; then
    while read -r pattern protocol text; do
      case $pattern in ''|'#'*) continue ;; esac
      # shellcheck disable=SC2053  # the patterns are globs on purpose
      if [[ $name == $pattern && $cv == $protocol ]]; then echo "$text"; return; fi
    done < "$references"
  fi
  echo "no published reference for this protocol"
}

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  if labelled; then
    for d in "${trained[@]}"; do
      echo "Stage 3: report: $(exp_of "$d")/results.json -> exp/RESULTS.md"
      python -m emotion2vec.bin.append_results "$(exp_of "$d")/results.json" exp/RESULTS.md \
        --exp "$(exp_of "$d")" --reference "$(reference_for "$d")"
    done
    cat exp/RESULTS.md
    echo "Confusion matrix: $PWD/$exp/confusion.png"
  else
    out=exp/$(basename "$data")_infer
    echo "Stage 3: labels in $PWD/$out/utt2emo, class scores in $PWD/$out/scores.jsonl"
    awk '{print $2}' "$out/utt2emo" | LC_ALL=C sort | uniq -c
  fi
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  for s in $infer_sets; do
    echo "Stage 4: inference with the heads of $exp: $s -> $exp/infer_$(basename "$s")"
    steps/infer.sh --cmd "$extract_cmd" --nj "$nj" --device "$device" --model "$exp" \
      "$s" "$exp/infer_$(basename "$s")"
  done
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  echo "Stage 5: feature map: $data + $feats -> $exp/feature_map.png"
  steps/plot_features.sh "$data" "$feats" "$exp/feature_map.png"
fi
