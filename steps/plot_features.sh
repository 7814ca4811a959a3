#!/usr/bin/env bash
# 2-D map (t-SNE, or UMAP when umap-learn is installed) of utterance features coloured by
# emotion, as in the emotion2vec paper's figures.  Also writes <out-png>.coords (utt label x y).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/path.sh"

help_message="Usage: $0 [options] <data-dir> <feat-dir> <out-png>
 e.g.: $0 data/iemocap feats/iemocap_emotion2vec_base exp/iemocap_feature_map.png"

# Begin configuration section.
method=auto             # auto (UMAP if installed, else t-SNE) | tsne | umap
max_utts=3000           # seeded random subset for large corpora
seed=0                  # subset and embedding seed
classes=                # class inventory ('' = <data-dir>/emotions.txt)
label_map=              # '<from> <to>' label merges
# End configuration section.
. "$root/utils/parse_options.sh"

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  echo "$0: error: expected 3 arguments, got $#" >&2
  exit 2
fi
opts=(--method "$method" --max-utts "$max_utts" --seed "$seed")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
exec python -m emotion2vec.bin.plot_features "${opts[@]}" "$1" "$2" "$3"
