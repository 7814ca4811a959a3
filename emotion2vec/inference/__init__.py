"""Inference on new audio: emotion2vec+ models, trained heads, Hugging Face classifiers.

    from emotion2vec.inference import load_predictor, run, Settings
    pred = load_predictor("exp/emodb_e2v", device="cpu")       # or a model name / dir / pack
    run(pred, AudioReader("data/new"), "exp/emodb_e2v/infer_new", Settings(segment_length=3))

Modules: `base` (the Predictor interface); the predictors `plus` (emotion2vec+ with its own
head), `ensemble` (trained heads on their features), `hf` (Hugging Face audio
classification); `loading` (load_predictor: which predictor a --model names, packed models
included); `packing` (one-file models: pack, verify, unpack); `headdirs` (the heads of an
experiment, fold or head dir); `windows` (sliding windows, timeline); `runner` (the loop);
`writers` (output files); `inputs` (data dir / wav.scp / audio files).
Importing the package loads no torch: the predictors load it when they are built.
"""

from emotion2vec.inference.base import Predictor
from emotion2vec.inference.loading import load_predictor
from emotion2vec.inference.runner import Settings, run

__all__ = ["Predictor", "load_predictor", "Settings", "run"]
