#!/usr/bin/env bash
# Emotion recognition on new audio: labels, class scores, (optional) embeddings and, for long
# recordings, per-window labels and a smoothed timeline.
# Input: a Kaldi data dir (its segments file is used when present) or a wav.scp.  The work is
# split per utterance over $nj jobs run through $cmd; a rerun redoes only unfinished jobs.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"
cmdline=$(printf '%q ' "$0" "$@")

help_message="Usage: $0 [options] --model <model> <data-dir|wav.scp> <out-dir>
Label every utterance of <data-dir> (or every recording of a wav.scp) with an emotion.
e.g.: $0 --model emotion2vec_plus_base data/new exp/infer_new
      $0 --model exp/emodb_e2v --nj 8 --cmd \"\$extract_cmd\" data/new exp/emodb_e2v/infer_new
      $0 --model emodb_e2v.tar.gz --segment-length 3 --segment-shift 1.5 long.scp out/long
      $0 --model /models/ExHuBERT --trust-remote-code true --model-window 3 data/new out/exhubert
Models: an emotion2vec+ name (emotion2vec_plus_{seed,base,large}), model dir or .pt; a training
experiment dir (steps/train_cv.sh; all fold heads averaged unless --fold K) or one fold dir; a
packed model (steps/pack_model.sh); a Hugging Face audio-classification model dir.
Outputs in <out-dir>: utt2emo, scores.jsonl (all class scores), info.json; with
--segment-length: windows/{segments,utt2emo,scores.jsonl}; with windows or a segments file:
timeline (<recording> <start> <end> <label>); with --embeddings: embeddings.{scp,ark} or
embeddings.{npy,keys}; with --skip-bad true: bad_utts. See docs/inference.md."

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/infer.py (build_parser) holds each.
cmd=run.py              # job launcher: $extract_cmd / $cuda_cmd of cmd.sh (run.py slurm.py queue.py run.pl)
nj=4                    # number of parallel jobs (capped at the number of utterances)
model=                  # the model (required; see above)
model_type=             # auto | emotion2vec | head | packed | hf ('' = the toolkit default (auto))
fold=                   # trained heads: all (mean of every fold head's posteriors) | K | K1,K2 ('' = the toolkit default (all))
encoder=                # trained heads: use this encoder instead of the recorded one
segment_length=         # seconds; >0: score sliding windows of this length, 0: whole utterances ('' = the toolkit default (0))
segment_shift=          # seconds between window starts, 0: half of --segment-length ('' = the toolkit default (0))
timeline_step=          # seconds per frame of the smoothed timeline ('' = the toolkit default (0.1))
embeddings=             # none | ark | npy: also write utterance (or window) embeddings ('' = the toolkit default (none))
device=                 # cpu | cuda (cuda also asks the launcher for a GPU) ('' = the toolkit default (cpu))
batch_seconds=          # padded audio per batch, seconds; auto: 1 utt on cpu, 60 on cuda ('' = the toolkit default (auto))
num_threads=1           # CPU threads per job
skip_bad=               # true: list unreadable/empty utterances in <out-dir>/bad_utts and go on ('' = the toolkit default (false))
trust_remote_code=      # true: a Hugging Face model dir may run its own Python code (read it first) ('' = the toolkit default (false))
model_window=           # Hugging Face: the model's fixed input length in seconds, ExHuBERT: 3 ('' = the toolkit default (0))
classes=                # Hugging Face: file of label names when the config has none
# End configuration section.

. "$root/utils/parse_options.sh"

if [ $# -ne 2 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 2 arguments, got $#" >&2
  exit 2
fi
src=$1
dir=$2

die() { echo "$0: error: $*" >&2; exit 1; }
usage() { echo "$0: error: $*" >&2; exit 2; }
[ -n "$model" ] || usage "--model is required"
case $nj in ''|*[!0-9]*|0) usage "--nj must be a positive integer, got '$nj'" ;; esac
case $num_threads in ''|*[!0-9]*|0) usage "--num-threads must be a positive integer, got '$num_threads'" ;; esac
case $embeddings in ''|none|ark|npy) ;; *) usage "--embeddings must be none, ark or npy, got '$embeddings'" ;; esac

[ -e "$src" ] || die "no such data dir or wav.scp: $src"
# The outputs (utt2emo, ...) must never land on the input's own files.
[ "$(readlink -m "$src")" != "$(readlink -m "$dir")" ] || die "<out-dir> is the input $src; use another directory"
mkdir -p "$dir/log"
# One run at a time per output dir; the jobs stop when this script dies.
exec {lock_fd}<>"$dir/.lock"
python -m emotion2vec.bin.lock_dir --fd "$lock_fd" --pid $$ --command "$cmdline" "$dir"
export E2V_STEP_PID=$$

# The data dir the jobs split: the input's own, or one made for a bare wav.scp (each
# recording its own speaker, so that the split is per utterance anyway).
if [ -d "$src" ]; then
  [ -f "$src/wav.scp" ] || die "no such file: $src/wav.scp"
  data=$src
  if [ ! -f "$data/utt2spk" ]; then
    data=$dir/data
    mkdir -p "$data"
    cp "$src/wav.scp" "$data/wav.scp"
    if [ -f "$src/segments" ]; then cp "$src/segments" "$data/segments"; keys=$data/segments
    else keys=$data/wav.scp; fi
    awk '{print $1, $1}' "$keys" > "$data/utt2spk"
    utt2spk_to_spk2utt "$data/utt2spk" > "$data/spk2utt"
  fi
elif [ -f "$src" ]; then
  data=$dir/data
  mkdir -p "$data"
  cp "$src" "$data/wav.scp"
  awk '{print $1, $1}' "$data/wav.scp" > "$data/utt2spk"
  utt2spk_to_spk2utt "$data/utt2spk" > "$data/spk2utt"
else
  die "no such data dir or wav.scp: $src"
fi
validate_data_dir.sh --no-feats "$data" || die "data dir $data does not validate"

nutt=$(wc -l < "$data/utt2spk")
[ "$nutt" -gt 0 ] || die "$data has no utterances"
if [ "$nj" -gt "$nutt" ]; then
  echo "$0: only $nutt utterances: using $nutt jobs instead of $nj"
  nj=$nutt
fi
split_data.sh --per-utt "$data" "$nj"
sdata=$data/split${nj}utt

# Only what the user set is passed on: infer applies the toolkit defaults.
opts=(--model "$model" --model-cache "$dir/.model" --no-progress)
[ -z "$model_type" ] || opts+=(--model-type "$model_type")
[ -z "$fold" ] || opts+=(--fold "$fold")
[ -z "$encoder" ] || opts+=(--encoder "$encoder")
[ -z "$segment_length" ] || opts+=(--segment-length "$segment_length")
[ -z "$segment_shift" ] || opts+=(--segment-shift "$segment_shift")
[ -z "$timeline_step" ] || opts+=(--timeline-step "$timeline_step")
[ -z "$embeddings" ] || opts+=(--embeddings "$embeddings")
[ -z "$device" ] || opts+=(--device "$device")
[ -z "$batch_seconds" ] || opts+=(--batch-seconds "$batch_seconds")
[ -z "$model_window" ] || opts+=(--model-window "$model_window")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ "$skip_bad" != true ] || opts+=(--skip-bad)
[ "$trust_remote_code" != true ] || opts+=(--trust-remote-code)
launcher_opts=()
[ "$num_threads" -le 1 ] || launcher_opts+=(--num-threads "$num_threads")
case $device in cuda*) launcher_opts+=(--gpu 1) ;; esac  # '' = cpu: no GPU

echo "$0: labelling $nutt utterances of $data with $model ($nj jobs) into $dir"
# $cmd is word-split on purpose: it may carry launcher options (e.g. "run.py --mem 4G").
# Each job skips itself when its .done marker matches its inputs and options.
# shellcheck disable=SC2086
if ! $cmd ${launcher_opts[@]+"${launcher_opts[@]}"} \
    JOB=1:"$nj" "$dir/log/infer.JOB.log" \
    python -m emotion2vec.bin.infer "${opts[@]}" "$sdata/JOB" "$dir/jobs/JOB"; then
  grep -h "infer: error:" "$dir"/log/infer.*.log >&2 || true
  die "inference failed; see $dir/log/infer.*.log"
fi

jobs=()
for n in $(seq "$nj"); do jobs+=("$dir/jobs/$n"); done
python -m emotion2vec.bin.infer --merge "${jobs[@]}" "$dir"
printf '%s\n' "$cmdline" > "$dir/cmd"
echo "$0: done: $dir/utt2emo ($(wc -l < "$dir/utt2emo") utterances), $dir/scores.jsonl" \
  "$([ -f "$dir/timeline" ] && echo "$dir/timeline")"
