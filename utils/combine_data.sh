#!/usr/bin/env bash
# Combine data directories into one, carrying every file.  A duplicate utterance id across
# sources is an error (prefix the ids first with copy_data_dir.sh --utt-prefix); a recording
# or speaker in several sources must have identical entries; class inventories (emotions.txt)
# must agree.  A file that only some sources have is an error unless --drop-partial-files true.
# The fold lists of the sources (cv/) are not carried: each describes one source.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <dest-data-dir> <src-data-dir1> <src-data-dir2> ...
 e.g.: $0 data/all data/iemocap_pref data/emodb_pref"

# Begin configuration section.
drop_partial_files=false  # true: drop (and report) files that only some sources have
extra_files=              # Kaldi compatibility: files every source must have (all are carried)
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -lt 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
dest=$1
shift
read -r -a extra <<< "$extra_files"
for src in "$@"; do
  for f in ${extra[@]+"${extra[@]}"}; do
    if [ ! -f "$src/$f" ]; then
      echo "$0: error: $src/$f: no such file (named by --extra-files)" >&2
      exit 1
    fi
  done
done
exec python -m emotion2vec.bin.datadir_tools combine_data.sh \
  --drop-partial-files "$drop_partial_files" -- "$dest" "$@"
