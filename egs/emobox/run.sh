#!/usr/bin/env bash
# EmoBox: any of its 32 datasets by name (--dataset), with the benchmark's folds (official
# validation sets where shipped, else a seeded speaker-aware split); the cross-corpus track:
# --cross-test IEMOCAP|MELD|RAVDESS|SAVEE trains on --dataset and tests on that balanced set.
# e.g.: ./run.sh --corpus-dir /data/EmoBox --audio-root /data/EmoBox --dataset emodb
#       ./run.sh --dataset iemocap --cross-test RAVDESS --track2-audio-root /data/track2/RAVDESS
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
