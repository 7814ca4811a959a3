"""Sliding windows over long recordings and the smoothed label timeline built from them.

Windows are (start, end) sample ranges; the caller slices the waveform (a numpy view, no copy),
so a long recording never exists as a stack of window copies beyond one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.errors import E2VError


def window_bounds(num_samples: int, sample_rate: int, length: float,
                  shift: float) -> List[Tuple[int, int]]:
    """Sample ranges of sliding windows of `length` s every `shift` s over `num_samples`.

    The last window is aligned to the end of the audio (so the tail is never dropped and no
    window is shorter than `length`); audio no longer than one window gives one window that
    covers all of it.
    """
    if length <= 0 or shift <= 0:
        raise E2VError(f"window length and shift must be positive (got {length}, {shift})")
    win = int(round(length * sample_rate))
    hop = int(round(shift * sample_rate))
    if win < 1 or hop < 1:
        raise E2VError(f"window length {length} s / shift {shift} s is under one sample")
    if num_samples <= win:
        return [(0, num_samples)]
    bounds = []
    start = 0
    while start + win < num_samples:
        bounds.append((start, start + win))
        start += hop
    last = (num_samples - win, num_samples)
    if not bounds or bounds[-1] != last:
        bounds.append(last)
    return bounds


def window_id(utt: str, start: float, end: float) -> str:
    """Kaldi-style sub-segment id: `<utt>-<start centiseconds>-<end centiseconds>` (7 digits)."""
    return f"{utt}-{int(round(start * 100)):07d}-{int(round(end * 100)):07d}"


@dataclass
class Piece:
    """One scored stretch of a recording: a whole utterance, a segment, or a window."""

    reco: str
    start: float
    end: float
    posteriors: np.ndarray  # [C]


def smooth_timeline(pieces: Sequence[Piece], classes: Sequence[str], step: float = 0.1
                    ) -> List[Tuple[float, float, str]]:
    """Labelled runs for one recording from overlapping scored pieces.

    The recording is cut into frames of `step` seconds; a frame's posteriors are the mean of
    those of every piece covering the frame centre; the frame label is their argmax; equal
    neighbouring labels merge into runs. Frames that no piece covers (gaps between segments)
    break runs and get no label. Returns (start, end, label) in time order.
    """
    if step <= 0:
        raise E2VError(f"timeline step must be positive (got {step})")
    if not pieces:
        return []
    t0 = min(p.start for p in pieces)
    t1 = max(p.end for p in pieces)
    nframes = max(1, int(np.ceil((t1 - t0) / step - 1e-9)))
    C = len(classes)
    acc = np.zeros((nframes, C), dtype=np.float64)
    cnt = np.zeros(nframes, dtype=np.int64)
    centres = t0 + (np.arange(nframes) + 0.5) * step
    for p in pieces:
        lo = int(np.searchsorted(centres, p.start, side="left"))
        hi = int(np.searchsorted(centres, p.end, side="left"))
        if hi <= lo:  # a piece shorter than a frame still covers its nearest frame
            lo = min(max(int((0.5 * (p.start + p.end) - t0) / step), 0), nframes - 1)
            hi = lo + 1
        acc[lo:hi] += np.asarray(p.posteriors, dtype=np.float64)
        cnt[lo:hi] += 1
    runs: List[Tuple[float, float, str]] = []
    cur: Optional[Tuple[int, int]] = None  # (first frame, label index)
    for i in range(nframes + 1):
        lab = int(np.argmax(acc[i])) if i < nframes and cnt[i] > 0 else -1
        if cur is not None and lab != cur[1]:
            s = max(t0 + cur[0] * step, t0)
            e = min(t0 + i * step, t1)
            runs.append((round(s, 3), round(e, 3), classes[cur[1]]))
            cur = None
        if cur is None and lab >= 0:
            cur = (i, lab)
    return runs


def reco_posteriors(pieces: Iterable[Piece]) -> np.ndarray:
    """Recording-level posteriors: the duration-weighted mean of its pieces' posteriors."""
    pieces = list(pieces)
    w = np.array([max(p.end - p.start, 1e-6) for p in pieces], dtype=np.float64)
    post = np.stack([np.asarray(p.posteriors, dtype=np.float64) for p in pieces])
    return (w[:, None] * post).sum(0) / w.sum()
