#!/usr/bin/env bash
# 2-D map (t-SNE, or UMAP when umap-learn is installed) of utterance features coloured by
# emotion, as in the emotion2vec paper's figures.  Also writes <out-png>.coords (utt label x y).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <data-dir> <feat-dir> <out-png>
 e.g.: $0 data/iemocap feats/iemocap_emotion2vec_base exp/iemocap_feature_map.png"

# Begin configuration section.
# '' = the toolkit default: emotion2vec/bin/plot_features.py holds each.
method=                 # auto (UMAP if installed, else t-SNE) | tsne | umap ('' = the toolkit default (auto))
max_utts=               # seeded random subset for large corpora ('' = the toolkit default (3000))
seed=                   # subset and embedding seed ('' = the toolkit default (0))
classes=                # class inventory ('' = <data-dir>/emotions.txt)
label_map=              # '<from> <to>' label merges
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 3 arguments, got $#" >&2
  exit 2
fi
# Only what the user set is passed on: plot_features applies the toolkit defaults.
opts=()
[ -z "$method" ] || opts+=(--method "$method")
[ -z "$max_utts" ] || opts+=(--max-utts "$max_utts")
[ -z "$seed" ] || opts+=(--seed "$seed")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
exec python -m emotion2vec.bin.plot_features ${opts[@]+"${opts[@]}"} "$1" "$2" "$3"
