"""The one interface every kind of model (predictor) offers to the inference loop."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np


class Predictor:
    """Scores waveforms: `predict(wavs)` -> (posteriors [B, C], embeddings or None).

    Attributes: `classes` (label names, index order), `sample_rate` (input rate), `kind`.
    `wavs` are 1-D float32 arrays at `sample_rate`, any lengths; results equal one-at-a-time
    scoring (the implementations mask padding). Embeddings (on request) are one float32 vector
    per input: the utterance-level representation the classifier sees.
    """

    kind = "base"
    classes: List[str]
    sample_rate: int = 16000
    min_samples: int = 400  # shortest input the model scores (one 25 ms frame at 16 kHz)

    def predict(self, wavs: Sequence[np.ndarray], want_embeddings: bool = False
                ) -> Tuple[np.ndarray, Optional[List[np.ndarray]]]:
        raise NotImplementedError

    def describe(self) -> dict:
        """Settings recorded in the output directory (what model, which folds, ...)."""
        return {"kind": self.kind, "classes": list(self.classes)}
