#!/usr/bin/env bash
# Feature extraction: the Kaldi make_mfcc.sh of this toolkit.
# Reads <data-dir>/wav.scp (paths, `cmd |` pipes, ark:offset) and segments when present;
# writes <feat-dir>/feats.scp (+ ark files, utt2num_frames, feat_info.json) and copies
# feats.scp and utt2num_frames into the data dir.  Jobs run in parallel through $cmd over a
# speaker-aware split; a rerun redoes only the jobs that did not finish.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"
cmdline=$(printf '%q ' "$0" "$@")

help_message="Usage: $0 [options] <data-dir> <feat-dir>
Extract features for every utterance of <data-dir> into <feat-dir>.
e.g.: $0 --nj 8 --cmd \"\$extract_cmd\" --feat-type emotion2vec --model emotion2vec_plus_base \\
        data/train feats/train_e2v_plus_base
      $0 --feat-type hf --model facebook/hubert-base-ls960 --layer 9 data/train feats/train_hubert_l9
      $0 --feat-type fbank data/train feats/train_fbank
      $0 --feat-type opensmile --opensmile-set eGeMAPSv02 data/train feats/train_opensmile_eGeMAPSv02
Feature types: emotion2vec (--model: emotion2vec_base, emotion2vec_plus_{seed,base,large}, a model
directory or a .pt checkpoint), hf (transformers encoder: local directory or hub name),
fbank (Kaldi fbank, dither 0), logspec (log spectrogram, 200 bins), logmel (log mel, logspec framing),
opensmile (openSMILE --opensmile-set at --opensmile-level: functionals [1, D], or LLD frames).
Outputs: <feat-dir>/feats.scp utt2num_frames feat_info.json options.json [bad_utts] data/ log/;
with --layer all one feat dir per layer in <feat-dir>/layer<k>/ (top level = last layer)."

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/extract_feats.py declares each (and
# emotion2vec/features/featdir.py feature_options resolves --model, --num-mel-bins,
# --granularity and --opensmile-*).
cmd=run.py                # job launcher: $extract_cmd of cmd.sh (run.py slurm.py queue.py run.pl)
nj=4                      # number of parallel jobs (capped at the number of utterances)
feat_type=                # emotion2vec | hf | fbank | logspec | logmel | opensmile ('' = the toolkit default (emotion2vec))
model=                    # emotion2vec: name/dir/.pt; hf: dir or hub name ('' = emotion2vec_base for emotion2vec)
layer=                    # last | N | all (emotion2vec, hf) ('' = the toolkit default (last))
granularity=              # frame ([T, D] per utterance) | utterance (mean over frames, [1, D]) ('' = the toolkit default (frame), utterance for opensmile functionals)
num_mel_bins=             # fbank and logmel mel bands ('' = the toolkit default (0), i.e. 80 for fbank, 40 for logmel)
trust_remote_code=        # true: hf models may run their own code (e.g. ExHuBERT) ('' = the toolkit default (false))
opensmile_set=            # opensmile: eGeMAPSv02 | GeMAPSv01b | ComParE_2016 | emobase ('' = the toolkit default (ComParE_2016))
opensmile_level=          # opensmile: functionals ([1, D] per utterance) | lld (frames, 100 Hz) ('' = the toolkit default (functionals))
device=                   # cpu | cuda (cuda also asks the launcher for a GPU) ('' = the toolkit default (cpu))
batch_seconds=            # emotion2vec/hf: padded audio per batch, seconds; auto: 1 utt on cpu, 120 on cuda ('' = the toolkit default (auto))
num_threads=1             # CPU threads per job
skip_bad=                 # true: list bad utterances in <feat-dir>/bad_utts and go on (else stop) ('' = the toolkit default (false))
export_npy=               # also write <dir>/<data name>.{npy,lengths,emo} (original emotion2vec layout)
# End configuration section.

. "$root/utils/parse_options.sh"

if [ $# -ne 2 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 2 arguments, got $#" >&2
  exit 2
fi
data=$1
featdir=$2

die() { echo "$0: error: $*" >&2; exit 1; }
case $nj in ''|*[!0-9]*|0) echo "$0: error: --nj must be a positive integer, got '$nj'" >&2; exit 2 ;; esac
case $num_threads in ''|*[!0-9]*|0) echo "$0: error: --num-threads must be a positive integer" >&2; exit 2 ;; esac
[ -f "$data/wav.scp" ] || die "no such file: $data/wav.scp"
[ -f "$data/utt2spk" ] || die "no such file: $data/utt2spk"
# One run at a time per feat dir (a second one is refused, naming this one); the jobs stop
# when this script dies (E2V_STEP_PID: see emotion2vec/parallel/guard.py).
mkdir -p "$featdir"
exec {lock_fd}<>"$featdir/.lock"
python -m emotion2vec.bin.lock_dir --fd "$lock_fd" --pid $$ --command "$cmdline" "$featdir"
export E2V_STEP_PID=$$
# Like Kaldi: features of an earlier run are moved aside, not validated or mixed in (an
# older backup is kept as <file>.~N~, never overwritten).
for f in feats.scp utt2num_frames; do
  if [ -f "$data/$f" ]; then
    mkdir -p "$data/.backup"
    echo "$0: moving $data/$f to $data/.backup"
    mv --backup=numbered "$data/$f" "$data/.backup/$f"
  fi
done
validate_data_dir.sh --no-feats "$data" || die "data dir $data does not validate"

nutt=$(wc -l < "$data/utt2spk")
nspk=$(wc -l < "$data/spk2utt")
[ "$nutt" -gt 0 ] || die "$data has no utterances"
if [ "$nj" -gt "$nutt" ]; then
  echo "$0: only $nutt utterances: using $nutt jobs instead of $nj"
  nj=$nutt
fi
# Speaker-aware split when there are enough speakers, else one by utterance.
if [ "$nj" -le "$nspk" ]; then
  split_data.sh "$data" "$nj"
  sdata=$data/split$nj
else
  split_data.sh --per-utt "$data" "$nj"
  sdata=$data/split${nj}utt
fi

# Only what the user set is passed on: the Python entry points apply the toolkit defaults.
feat_opts=()
[ -z "$feat_type" ] || feat_opts+=(--feat-type "$feat_type")
[ -z "$model" ] || feat_opts+=(--model "$model")
[ -z "$layer" ] || feat_opts+=(--layer "$layer")
[ -z "$granularity" ] || feat_opts+=(--granularity "$granularity")
[ -z "$num_mel_bins" ] || feat_opts+=(--num-mel-bins "$num_mel_bins")
[ -z "$trust_remote_code" ] || feat_opts+=(--trust-remote-code "$trust_remote_code")
[ -z "$opensmile_set" ] || feat_opts+=(--opensmile-set "$opensmile_set")
[ -z "$opensmile_level" ] || feat_opts+=(--opensmile-level "$opensmile_level")
run_opts=()
[ -z "$device" ] || run_opts+=(--device "$device")
[ -z "$batch_seconds" ] || run_opts+=(--batch-seconds "$batch_seconds")
[ -z "$skip_bad" ] || run_opts+=(--skip-bad "$skip_bad")
launcher_opts=()
[ "$num_threads" -le 1 ] || launcher_opts+=(--num-threads "$num_threads")
case $device in cuda*) launcher_opts+=(--gpu 1) ;; esac  # '' = cpu: no GPU

start=$(date +%s.%N)
# init prints the feature type it recorded (defaults resolved), then the jobs still to run.
init=$(python -m emotion2vec.bin.feat_dir init ${feat_opts[@]+"${feat_opts[@]}"} --sdata "$sdata" --nj "$nj" "$featdir")
feat_type=${init%%$'\n'*}
todo=""  # ($(...) drops the newline before an empty second line)
[[ $init != *$'\n'* ]] || todo=${init#*$'\n'}
if [ -z "$todo" ]; then
  echo "$0: all $nj jobs already done in $featdir"
else
  echo "$0: extracting $feat_type features of $data ($nutt utterances, $nspk speakers) into $featdir" \
    "with $nj jobs (to run: $todo)"
  # $cmd is word-split on purpose: it may carry launcher options (e.g. "run.py --mem 4G").
  # shellcheck disable=SC2086
  if ! $cmd ${launcher_opts[@]+"${launcher_opts[@]}"} JOB=1:"$nj" "$featdir/log/extract.JOB.log" \
      python -m emotion2vec.bin.extract_feats --job JOB --nj "$nj" --num-threads "$num_threads" \
      ${feat_opts[@]+"${feat_opts[@]}"} ${run_opts[@]+"${run_opts[@]}"} "$sdata/JOB" "$featdir"; then
    grep -ho "extract_feats: error:.*" "$featdir"/log/extract.*.log >&2 || true
    die "feature extraction failed; see $featdir/log/extract.*.log"
  fi
fi

merge_opts=(--nj "$nj" --start "$start" --command "$cmdline")
[ -z "$export_npy" ] || merge_opts+=(--export-npy "$export_npy")
python -m emotion2vec.bin.feat_dir merge ${feat_opts[@]+"${feat_opts[@]}"} ${run_opts[@]+"${run_opts[@]}"} \
  "${merge_opts[@]}" "$data" "$featdir"
echo "$0: done: $featdir/feats.scp (copied to $data/feats.scp)"
