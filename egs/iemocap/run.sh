#!/usr/bin/env bash
# IEMOCAP: the standard 4-class set (neu hap+exc ang sad, 5531 utterances), leave-one-session-out.
# Variants: --subset improvised (2943; 2280 with --label-map "" i.e. without exc),
# --cv leave-one-speaker-out (10 folds).
# e.g.: ./run.sh --corpus-dir /data/IEMOCAP_full_release --feat-type emotion2vec --model emotion2vec_base
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
