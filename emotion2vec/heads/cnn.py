"""Spectrogram CNN baselines (`cnn`): an AlexNet-style net and a ResNet18-style net.

Input: frame-level `logspec` (or logmel/fbank) features [T, F].  Each utterance is cut into
fixed segments (`segment_seconds`, default 3 s, shifted by `shift_seconds`; a shorter utterance
or last piece is zero-padded), every segment is a training sample with its utterance's label,
and the utterance posterior is the mean of its segments' posteriors.  Both nets end in global
average pooling, so any number of frequency bins works.
"""

from __future__ import annotations

from typing import Callable, List

import numpy as np
import torch
from torch import nn

from emotion2vec.errors import E2VError
from emotion2vec.heads.registry import register
from emotion2vec.heads.neural import TorchHead


def _c(n: float, width: float) -> int:
    return max(4, int(round(n * width)))


class AlexNetStyle(nn.Module):
    def __init__(self, num_classes: int, width: float = 1.0, dropout: float = 0.5):
        super().__init__()
        c = [_c(n, width) for n in (64, 192, 384, 256, 256)]

        def block(i, o, k, s, p):
            return [nn.Conv2d(i, o, k, s, p, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        pool = nn.MaxPool2d(3, 2, padding=1)  # padding keeps small inputs >= 1 pixel
        self.features = nn.Sequential(
            *block(1, c[0], 11, 4, 5), pool,
            *block(c[0], c[1], 5, 1, 2), nn.MaxPool2d(3, 2, padding=1),
            *block(c[1], c[2], 3, 1, 1), *block(c[2], c[3], 3, 1, 1), *block(c[3], c[4], 3, 1, 1))
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(c[4], num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, i: int, o: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.short = (nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))
                      if stride != 1 or i != o else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.short(x))


class ResNet18Style(nn.Module):
    def __init__(self, num_classes: int, width: float = 1.0, dropout: float = 0.0):
        super().__init__()
        c = [_c(n, width) for n in (64, 128, 256, 512)]
        self.stem = nn.Sequential(nn.Conv2d(1, c[0], 7, 2, 3, bias=False), nn.BatchNorm2d(c[0]),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, i = [], c[0]
        for k, o in enumerate(c):
            s = 1 if k == 0 else 2
            layers += [BasicBlock(i, o, s), BasicBlock(o, o, 1)]
            i = o
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(c[-1], num_classes))

    def forward(self, x):
        return self.fc(self.layers(self.stem(x)).mean(dim=(2, 3)))


class SegmentBatches:
    """Fixed-length segments of every utterance; batch = ([B, 1, F, L],)."""

    def __init__(self, get: Callable[[str], np.ndarray], utts: List[str], labels: np.ndarray,
                 seg_len: int, shift: int, lengths: List[int]):
        self.get, self.utts, self.L = get, list(utts), seg_len
        starts, group = [], []
        for g, T in enumerate(lengths):
            s = list(range(0, max(T - seg_len, 0) + 1, shift))
            if T > seg_len and s[-1] + seg_len < T:
                s.append(T - seg_len)           # cover the tail with a last full segment
            starts += s
            group += [g] * len(s)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.group = np.asarray(group, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)[self.group]
        self.num_groups = len(self.utts)

    def batch(self, idx):
        segs = []
        for i in idx:
            a = np.asarray(self.get(self.utts[self.group[i]]), dtype=np.float32)
            s = a[self.starts[i]:self.starts[i] + self.L]
            if s.shape[0] < self.L:
                s = np.concatenate([s, np.zeros((self.L - s.shape[0], a.shape[1]), np.float32)])
            segs.append(s.T)                    # [F, L]: frequency x time
        return (torch.from_numpy(np.stack(segs)).unsqueeze(1),)


@register("cnn")
class CNNHead(TorchHead):
    level = "segment"

    def _frames(self, key: str) -> int:
        rate = float(self.config.get("frame_rate") or self.feat_info.get("frame_rate") or 100)
        n = int(round(float(self.config.get(key, 3.0)) * rate))
        if n < 1:
            raise E2VError(f"cnn head: {key} gives {n} frames")
        return n

    def build_module(self):
        arch = self.config.get("arch", "alexnet")
        width = float(self.config.get("width", 1.0))
        drop = float(self.config.get("dropout", 0.5 if arch == "alexnet" else 0.0))
        if arch == "alexnet":
            return AlexNetStyle(len(self.classes), width, drop)
        if arch == "resnet18":
            return ResNet18Style(len(self.classes), width, drop)
        raise E2VError(f"cnn head: arch '{arch}' not one of alexnet, resnet18")

    def batches(self, get, utts, labels):
        lengths = [np.asarray(get(u)).shape[0] for u in utts]
        L = self._frames("segment_seconds")
        shift = self._frames("shift_seconds") if "shift_seconds" in self.config else L
        return SegmentBatches(get, utts, labels, L, shift, lengths)


__all__ = ["CNNHead", "AlexNetStyle", "ResNet18Style", "SegmentBatches"]
