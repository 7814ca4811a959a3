"""Utterance-level neural heads on pooled features (heads/pooling.py): `linear` and `mlp`."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn

from emotion2vec.errors import E2VError
from emotion2vec.heads.base import Split
from emotion2vec.heads.neural import TorchHead, mlp_layers
from emotion2vec.heads.normalize import fit_global
from emotion2vec.heads.pooling import PooledInput, pooled_dim
from emotion2vec.heads.registry import register
from emotion2vec.heads.trainer import predict_groups


class UtteranceBatches:
    """Pooled utterance vectors held in memory (N x D' is small); batch = ([B, D'],)."""

    def __init__(self, vectors: np.ndarray, labels: np.ndarray):
        self.x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        self.labels = np.asarray(labels, dtype=np.int64)
        self.group = np.arange(len(self.x))
        self.num_groups = len(self.x)

    def batch(self, idx):
        return (self.x[torch.from_numpy(np.asarray(idx))],)


class _UttHead(PooledInput, TorchHead):
    level = "utterance"

    @property
    def in_dim(self) -> int:
        """The pooled vector's size (the module's input)."""
        return pooled_dim(self.state.get("pooling", "mean"), self.dim)

    def _norm(self, X: np.ndarray) -> np.ndarray:
        if self.norm_mean is None:
            return X
        return ((X - self.norm_mean) / self.norm_std).astype(np.float32)

    def train_data(self, train: Split, valid: Optional[Split]):
        X = self.fit_vectors(train)
        if self.config.get("normalize", "none") == "global":
            self.norm_mean, self.norm_std = fit_global([X], X.shape[1])   # training only
        tr = UtteranceBatches(self._norm(X), train.labels)
        va = (UtteranceBatches(self._norm(self.split_vectors(valid)), valid.labels)
              if valid is not None and valid.utts else None)
        return tr, va

    def predict_vectors(self, X: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise E2VError(f"{self.name} head: not trained or loaded")
        data = UtteranceBatches(self._norm(np.asarray(X, dtype=np.float32)),
                                np.zeros(len(X), dtype=np.int64))
        return predict_groups(self.module, data, int(self.config.get("eval_batch_size", 256)))


@register("linear")
class LinearHead(_UttHead):
    def build_module(self):
        return nn.Sequential(nn.Dropout(float(self.config.get("dropout", 0.0))),
                             nn.Linear(self.in_dim, len(self.classes)))


@register("mlp")
class MLPHead(_UttHead):
    def build_module(self):
        hidden = self.config.get("hidden", [256])
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        layers = mlp_layers(self.in_dim, hidden, float(self.config.get("dropout", 0.2)))
        return nn.Sequential(*layers, nn.Linear(int(hidden[-1]) if hidden else self.in_dim,
                                                len(self.classes)))


__all__ = ["LinearHead", "MLPHead", "UtteranceBatches"]
