#!/usr/bin/env bash
# The built-in demo and CI recipe: a small emotional-speech corpus generated with espeak-ng + sox
# in the IEMOCAP layout (10 voices as speakers in 5 sessions, 4 emotions with different prosody),
# prepared by the real IEMOCAP code, with a wav.scp that mixes plain files, `sox ... |` pipes,
# a Kaldi wave archive and dialog recordings cut by `segments`; leave-one-session-out.
# Runs with no downloaded weights (fbank features, a short e2v head schedule: conf/head.yaml).
# e.g.: ./run.sh                    # the demo (make demo)
#       ./run.sh --feat-type emotion2vec --model /path/to/emotion2vec_base.pt
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh --nj 2 --feat-type fbank --head e2v --head-config conf/head.yaml "$@"
