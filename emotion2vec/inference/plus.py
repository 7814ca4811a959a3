"""emotion2vec+ checkpoints (name, model dir or .pt) scored with their own 9-class head."""

from __future__ import annotations

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.inference.base import Predictor


class Emotion2vecPlus(Predictor):
    """An emotion2vec+ checkpoint (name, model dir or .pt): its own 9-class head."""

    kind = "emotion2vec"

    def __init__(self, spec: str, device: str = "cpu"):
        from emotion2vec.models import load_model  # lazy: torch only when a model is loaded

        self.spec = str(spec)
        self.m = load_model(spec, device=device)
        if not self.m.labels:
            raise E2VError(f"{spec}: this emotion2vec model has no class head (a base model); "
                           "extract features and train a head (steps/train_cv.sh), then infer "
                           "with the experiment directory")
        self.classes = list(self.m.labels)
        self.sample_rate = int(getattr(self.m, "sample_rate", 16000))
        self.min_samples = int(getattr(self.m, "min_samples", 400))

    def describe(self) -> dict:
        return {"kind": self.kind, "model": self.spec, "classes": self.classes}

    def predict(self, wavs, want_embeddings=False):
        if not want_embeddings:
            return np.asarray(self.m.classify(list(wavs)), dtype=np.float32), None
        out = self.m.extract_all(list(wavs))  # one forward pass for both
        return (np.asarray(out["posteriors"], dtype=np.float32),
                [np.asarray(u, dtype=np.float32) for u in out["utterance"]])


__all__ = ["Emotion2vecPlus"]
