"""Frame-level heads: the official emotion2vec head (`e2v`) and attentive pooling (`attn`).

Batches are *packed*: the frames of all utterances of a batch are concatenated into [N, D] with
a segment index per frame, so no compute or memory goes to padding.  Frame-wise layers followed
by a mean over each utterance's frames equal emotion2vec's padded, masked mean exactly (up to
float summation order).
"""

from __future__ import annotations

from typing import Callable, List

import numpy as np
import torch
from torch import nn

from emotion2vec.heads.registry import register
from emotion2vec.heads.neural import TorchHead


class FrameBatches:
    """Utterances as packed frame batches: (frames [N, D], segment ids [N], count B)."""

    def __init__(self, get: Callable[[str], np.ndarray], utts: List[str], labels: np.ndarray):
        self.get, self.utts = get, list(utts)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.group = np.arange(len(self.utts))
        self.num_groups = len(self.utts)

    def batch(self, idx):
        arrs = [np.asarray(self.get(self.utts[i]), dtype=np.float32) for i in idx]
        lens = torch.tensor([a.shape[0] for a in arrs])
        x = torch.from_numpy(np.concatenate(arrs, axis=0))
        seg = torch.repeat_interleave(torch.arange(len(arrs)), lens)
        return x, seg, lens


def segment_mean(h: torch.Tensor, seg: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    out = h.new_zeros(len(lens), h.shape[1]).index_add_(0, seg, h)
    return out / lens.to(h.dtype).unsqueeze(1)


class E2VModule(nn.Module):
    """Linear(D->H) -> ReLU -> mean over valid frames -> Linear(H->C) (emotion2vec BaseModel)."""

    def __init__(self, dim: int, hidden: int, num_classes: int):
        super().__init__()
        self.pre_net = nn.Linear(dim, hidden)
        self.post_net = nn.Linear(hidden, num_classes)

    def forward(self, x, seg, lens):
        return self.post_net(segment_mean(torch.relu(self.pre_net(x)), seg, lens))


class AttnModule(nn.Module):
    """Linear(D->H) -> ReLU -> attention weights per frame -> weighted mean -> Linear(H->C)."""

    def __init__(self, dim: int, hidden: int, attn_dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.pre_net = nn.Linear(dim, hidden)
        self.attn = nn.Sequential(nn.Linear(hidden, attn_dim), nn.Tanh(), nn.Linear(attn_dim, 1))
        self.dropout = nn.Dropout(dropout)
        self.post_net = nn.Linear(hidden, num_classes)

    def forward(self, x, seg, lens):
        h = torch.relu(self.pre_net(x))
        s = self.attn(h).squeeze(1)
        B = len(lens)
        m = s.new_full((B,), float("-inf")).scatter_reduce(0, seg, s, reduce="amax")
        e = torch.exp(s - m[seg])
        z = e.new_zeros(B).index_add_(0, seg, e)
        w = (e / z[seg]).unsqueeze(1)
        pooled = h.new_zeros(B, h.shape[1]).index_add_(0, seg, w * h)
        return self.post_net(self.dropout(pooled))


class _FrameHead(TorchHead):
    level = "frame"

    def batches(self, get, utts, labels):
        return FrameBatches(get, utts, labels)


@register("e2v")
class E2VHead(_FrameHead):
    def build_module(self):
        return E2VModule(self.dim, int(self.config.get("hidden", 256)), len(self.classes))


@register("attn")
class AttnHead(_FrameHead):
    def build_module(self):
        return AttnModule(self.dim, int(self.config.get("hidden", 256)),
                          int(self.config.get("attn_dim", 128)), len(self.classes),
                          float(self.config.get("dropout", 0.0)))


__all__ = ["E2VHead", "AttnHead", "E2VModule", "AttnModule", "FrameBatches", "segment_mean"]
