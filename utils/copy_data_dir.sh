#!/usr/bin/env bash
# Copy a data directory, carrying every file, optionally renaming utterances
# (<utt-prefix><utt><utt-suffix>) and speakers (<spk-prefix><spk><spk-suffix>).  With a
# segments file the recordings are renamed with the utterance prefix/suffix too.  Use the
# same prefix for utterances and speakers to keep ids starting with the speaker id, e.g.
# before combining corpora whose ids could collide.  The copy is validated before writing.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <src-data-dir> <dest-data-dir>
 e.g.: $0 --utt-prefix emodb- --spk-prefix emodb- data/emodb data/emodb_pref"

# Begin configuration section.
utt_prefix=         # prepended to every utterance id
spk_prefix=         # prepended to every speaker id
utt_suffix=         # appended to every utterance id
spk_suffix=         # appended to every speaker id
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
exec python -m emotion2vec.bin.datadir_tools copy_data_dir.sh \
  --utt-prefix="$utt_prefix" --spk-prefix="$spk_prefix" \
  --utt-suffix="$utt_suffix" --spk-suffix="$spk_suffix" -- "$1" "$2"
