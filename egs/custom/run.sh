#!/usr/bin/env bash
# Your own Kaldi data dir (e.g. from an ASR recipe: wav.scp, optional segments, utt2spk) plus an
# utt2emo: the same features / cross-validated training / report as the corpus recipes.
# Without utt2emo it runs inference only (stage 2 labels every utterance with --infer-model).
# Folds (--cv auto): utt2fold if the data dir has one, else cv/fold<k>/ lists, else
# leave-one-session-out with utt2session, else leave-one-speaker-out.
# e.g.: ./run.sh --data-dir ~/kaldi/egs/swbd/s5c/data/train --utt2emo my_labels/utt2emo
#       ./run.sh --data-dir data_in/calls --infer-model emotion2vec_plus_base   # inference only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # the recipe directory, wherever it is called from
exec ./ser.sh "$@"
