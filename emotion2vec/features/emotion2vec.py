"""emotion2vec frame features (any checkpoint `emotion2vec.models.load_model` loads)."""

from __future__ import annotations

from typing import List

import numpy as np

from emotion2vec.features.base import Extractor, Layer


class Emotion2vecFeatures(Extractor):
    """Block outputs of an emotion2vec encoder at 50 frames a second.

    `layer`: None (the last block), k (after block k, 1-based) or "all" ([L, T, D]).
    The model pads and masks a batch so that results equal one-at-a-time inference; the
    caller forms length-sorted batches.
    """

    name = "emotion2vec"
    batched = True

    def __init__(self, model: str = "emotion2vec_base", layer: Layer = None,
                 device: str = "cpu", **_):
        from emotion2vec.models import load_model

        self._m = load_model(model, device=device)
        self.model = str(model)
        self.dim = int(self._m.embed_dim)
        self.frame_rate = float(self._m.frame_rate)
        self.num_layers = int(self._m.num_layers)
        self.layer = self.check_layer(layer)

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        return [np.asarray(f, dtype=np.float32) for f in self._m.extract(wavs, layer=self.layer)]
