#!/usr/bin/env bash
# RAVDESS speech: 24 actors, 8 classes (1440 files, one byte-identical duplicate dropped),
# leave-one-speaker-out; --folds 6 gives 6 folds of 4 actors (utt2fold); --classes
# conf/emotions_7class.txt (no calm) or conf/emotions_4class.txt (ang hap neu sad).
# e.g.: ./run.sh --corpus-dir /data/ravdess --feat-type opensmile --folds 6
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
