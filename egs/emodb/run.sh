#!/usr/bin/env bash
# EmoDB: 535 files, 7 classes, leave-one-speaker-out (10 folds); --folds speaker-pairs gives the
# 5 speaker-pair folds (utt2fold); --min-recognition filters by erkennung.txt.
# e.g.: ./run.sh --corpus-dir /data/emodb --folds speaker-pairs --classes conf/emotions_4class.txt
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
