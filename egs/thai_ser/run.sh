#!/usr/bin/env bash
# THAI SER (VISTEC v1): studio recordings, the 8 studio folds (5 studios test, 5 validation),
# labels recomputed from the votes (agreement >= 0.71, ties dropped); Zoom recordings are
# prepared as a second data dir (an extra test condition, trained and reported too).
# e.g.: ./run.sh --corpus-dir /data/thai_ser --mic clip --classes conf/emotions_4class.txt
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
