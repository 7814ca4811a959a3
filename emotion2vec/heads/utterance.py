"""Utterance-level neural heads on mean-pooled features: `linear` and `mlp`."""

from __future__ import annotations

from typing import Callable, List

import numpy as np
import torch
from torch import nn

from emotion2vec.heads.base import Split
from emotion2vec.heads.registry import register
from emotion2vec.heads.neural import TorchHead, mlp_layers


class UtteranceBatches:
    """Pooled utterance vectors held in memory (N x D is small); batch = ([B, D],)."""

    def __init__(self, get: Callable[[str], np.ndarray], utts: List[str], labels: np.ndarray):
        self.x = torch.from_numpy(np.stack(
            [np.asarray(get(u), dtype=np.float64).mean(axis=0) for u in utts]).astype(np.float32))
        self.labels = np.asarray(labels, dtype=np.int64)
        self.group = np.arange(len(utts))
        self.num_groups = len(utts)

    def batch(self, idx):
        return (self.x[torch.from_numpy(np.asarray(idx))],)


class _UttHead(TorchHead):
    level = "utterance"

    def norm_rows(self, split: Split):
        yield split.pooled()

    def batches(self, get, utts, labels):
        return UtteranceBatches(get, utts, labels)


@register("linear")
class LinearHead(_UttHead):
    def build_module(self):
        return nn.Sequential(nn.Dropout(float(self.config.get("dropout", 0.0))),
                             nn.Linear(self.dim, len(self.classes)))


@register("mlp")
class MLPHead(_UttHead):
    def build_module(self):
        hidden = self.config.get("hidden", [256])
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        layers = mlp_layers(self.dim, hidden, float(self.config.get("dropout", 0.2)))
        return nn.Sequential(*layers, nn.Linear(int(hidden[-1]) if hidden else self.dim,
                                                len(self.classes)))


__all__ = ["LinearHead", "MLPHead", "UtteranceBatches"]
