#!/usr/bin/env bash
# Pack the trained heads of an experiment into one file for steps/infer.sh on another machine:
# a tar.gz with manifest.json (classes, feature settings, encoder reference, checksums) and the
# heads' weights as safetensors (never pickles); --include-encoder true embeds the encoder too.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <exp-dir|fold-dir> <model.tar.gz>
Pack the heads trained by steps/train_cv.sh into <model.tar.gz>.
e.g.: $0 exp/emodb_e2v_plus_base exp/emodb_e2v_plus_base/model.tar.gz
      $0 --fold 3 --include-encoder true exp/emodb_e2v_plus_base emodb_fold3_full.tar.gz
Use it with: steps/infer.sh --model <model.tar.gz> <data-dir|wav.scp> <out-dir>
Show what a packed file holds: python -m emotion2vec.bin.pack_model --show <model.tar.gz>"

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/pack_model.py holds each.
fold=                   # folds to pack: all (infer averages their posteriors) | K | K1,K2 ('' = the toolkit default (all))
include_encoder=        # true: embed the encoder weights (safetensors) instead of a reference to it ('' = the toolkit default (false))
encoder=                # encoder reference to record instead of the heads' (e.g. a released name)
# End configuration section.

. "$root/utils/parse_options.sh"

if [ $# -ne 2 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 2 arguments, got $#" >&2
  exit 2
fi
src=$1
out=$2
[ -d "$src" ] || { echo "$0: error: no such experiment directory: $src" >&2; exit 1; }

# Only what the user set is passed on: pack_model applies the toolkit defaults.
opts=()
[ -z "$fold" ] || opts+=(--fold "$fold")
[ "$include_encoder" != true ] || opts+=(--include-encoder)
[ -z "$encoder" ] || opts+=(--encoder "$encoder")
python -m emotion2vec.bin.pack_model ${opts[@]+"${opts[@]}"} "$src" "$out"
