"""Inference on new audio: emotion2vec+ models, trained heads, Hugging Face classifiers.

    from emotion2vec.inference import load_predictor, run, Settings
    pred = load_predictor("exp/emodb_e2v", device="cpu")       # or a model name / dir / pack
    run(pred, AudioReader("data/new"), "exp/emodb_e2v/infer_new", Settings(segment_length=3))

Modules: `predictor` (the interface), `predictors` (emotion2vec+, trained heads, model-type
detection), `hf` (Hugging Face audio classification), `packing` (one-file models),
`windows` (sliding windows, timeline), `runner` (the loop), `writers` (output files),
`inputs` (data dir / wav.scp / audio files).
"""

from emotion2vec.inference.predictor import Predictor
from emotion2vec.inference.predictors import load_predictor
from emotion2vec.inference.runner import Settings, run

__all__ = ["Predictor", "load_predictor", "Settings", "run"]
