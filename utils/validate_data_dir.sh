#!/usr/bin/env bash
# Check a Kaldi data directory: required files (utt2spk, spk2utt, wav.scp or feats.scp),
# every file sorted (LC_ALL=C), unique and well formed, every utterance in every utterance
# file, segments' recordings in wav.scp, numeric utt2dur / utt2num_frames / utt2avd, utt2emo
# labels in the class inventory, spk2utt equal to the one derived from utt2spk, fold lists
# under cv/ naming known utterances.  Problems: `file:line: 'key': ...` lines and exit 1.
# Warnings (utterance ids that do not start with their speaker id, ...) do not fail.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <data-dir>
 e.g.: $0 --no-feats --require utt2emo,utt2session data/train
Kaldi's bare flags work too: --no-wav, --no-feats, --no-text, --no-spk-sort (the same as
'<flag> true');
--require may be repeated."

# Begin configuration section.
no_wav=false        # wav.scp neither required nor checked
no_feats=false      # feats.scp neither required nor checked
no_text=false       # text not checked (it is never required)
classes=            # class inventory for utt2emo labels (default: <data>/emotions.txt)
require=            # more files that must exist (comma list; --require may be repeated)
check_paths=true    # check that the files named in wav.scp / feats.scp exist
no_spk_sort=false   # no warning for utterance ids that do not start with their speaker id
# End configuration section.

# Rewrite Kaldi's bare flags and repeated --require into what parse_options.sh takes.
args=()
req=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-wav|--no-feats|--no-text|--no-spk-sort)
      if [ $# -ge 2 ] && { [ "$2" = true ] || [ "$2" = false ]; }; then
        args+=("$1" "$2"); shift 2
      else
        args+=("$1" true); shift
      fi ;;
    --require)
      if [ $# -lt 2 ]; then echo "$0: error: option '--require' needs a value" >&2; exit 2; fi
      req+=("$2"); shift 2 ;;
    --require=*) req+=("${1#--require=}"); shift ;;
    --) break ;;
    --*=*|--help|-h) args+=("$1"); shift ;;
    --*) args+=("$1"); shift; if [ $# -gt 0 ]; then args+=("$1"); shift; fi ;;
    *) break ;;
  esac
done
set -- ${args[@]+"${args[@]}"} "$@"
. "$root/utils/parse_options.sh"
if [ ${#req[@]} -gt 0 ]; then
  require="${require:+$require,}$(IFS=,; printf '%s' "${req[*]}")"
fi

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
data=$1

opts=()
if [ "$no_wav" = true ]; then opts+=(--no-wav); fi
if [ "$no_feats" = true ]; then opts+=(--no-feats); fi
if [ "$no_text" = true ]; then opts+=(--no-text); fi
if [ "$check_paths" = false ]; then opts+=(--no-check-paths); fi
if [ "$no_spk_sort" = true ]; then opts+=(--no-spk-sort); fi
if [ -n "$classes" ]; then opts+=(--classes "$classes"); fi
if [ -n "$require" ]; then opts+=(--require "$require"); fi
exec python -m emotion2vec.bin.datadir_tools validate_data_dir.sh ${opts[@]+"${opts[@]}"} -- "$data"
