"""Feature normalisation: global statistics fitted on training data, or per speaker.

`global`: mean / standard deviation of the training frames (frame-level heads) or training
utterance vectors (utterance-level heads); stored with the head and applied at prediction.
`speaker`: each speaker's features are standardised with that speaker's own statistics
(labels are never used; a test speaker's statistics come from its own unlabelled utterances:
the usual, transductive, speaker normalisation in SER).  Utterance heads get their pooled
vectors standardised per speaker (`standardize_by_speaker`: every utterance counts once, as in
the openSMILE-functionals protocol); frame and segment heads get every frame standardised
with the statistics of all its speaker's frames (`SpeakerNormalized`).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable, Mapping, Sequence, Tuple

import numpy as np

EPS = 1e-5


class RunningStats:
    """Mean and variance accumulated in float64 over row blocks (numerically safe)."""

    def __init__(self, dim: int):
        self.n = 0
        self.s = np.zeros(dim, dtype=np.float64)
        self.ss = np.zeros(dim, dtype=np.float64)

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.n += x.shape[0]
        self.s += x.sum(axis=0)
        self.ss += np.square(x).sum(axis=0)

    def result(self) -> Tuple[np.ndarray, np.ndarray]:
        mean = self.s / max(self.n, 1)
        var = np.maximum(self.ss / max(self.n, 1) - mean ** 2, 0.0)
        return mean.astype(np.float32), np.sqrt(var + EPS).astype(np.float32)


def fit_global(arrays: Iterable[np.ndarray], dim: int) -> Tuple[np.ndarray, np.ndarray]:
    st = RunningStats(dim)
    for a in arrays:
        st.add(a)
    return st.result()


def speaker_stats(get: Callable[[str], np.ndarray], utts: Sequence[str],
                  utt2spk: Mapping[str, str], dim: int) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    per: Dict[str, RunningStats] = {}
    for u in utts:
        per.setdefault(utt2spk[u], RunningStats(dim)).add(get(u))
    return {s: st.result() for s, st in per.items()}


class SpeakerNormalized:
    """A feature getter whose output is standardised with the utterance's speaker statistics."""

    def __init__(self, get: Callable[[str], np.ndarray], utt2spk: Mapping[str, str],
                 stats: Mapping[str, Tuple[np.ndarray, np.ndarray]]):
        self.get, self.utt2spk, self.stats = get, utt2spk, stats

    def __call__(self, utt: str) -> np.ndarray:
        mean, std = self.stats[self.utt2spk[utt]]
        return (self.get(utt) - mean) / std


def standardize_by_speaker(vectors: np.ndarray, speakers: Sequence[str]) -> np.ndarray:
    """Rows z-normalised with the mean / std (float64, + EPS in the variance) of the rows of
    the same speaker; a speaker with one utterance gets zeros."""
    X = np.asarray(vectors, dtype=np.float64)
    spk = np.asarray(speakers)
    if len(spk) != len(X):
        raise ValueError(f"{len(X)} vectors but {len(spk)} speakers")
    out = np.empty_like(X)
    for s in np.unique(spk):
        c = X[spk == s] - X[spk == s][0]   # about a member row: no cancellation of offsets
        m = c.mean(axis=0)
        out[spk == s] = (c - m) / np.sqrt(np.square(c - m).mean(axis=0) + EPS)
    return out.astype(np.float32)


__all__ = ["RunningStats", "fit_global", "speaker_stats", "SpeakerNormalized",
           "standardize_by_speaker", "EPS"]
