"""Statistics pooling: frame features [T, D] -> one utterance vector, for the utterance heads.

A pooling spec is statistics joined by `+` (or a preset name), e.g. `mean+std+p25+p75+slope`:

    mean std            mean and standard deviation over frames (population std)
    min max range       extremes and max - min
    p<q>                percentile q (0..100, linear interpolation), e.g. p1 p25 p50 p75 p99
    iqr prange          p75 - p25 and p99 - p1
    slope               least-squares slope of each dimension over the frame index (per frame)
    delta               mean and std of the frame differences x[t+1] - x[t] (2 blocks)
    dur                 the number of frames (one column)

Presets: `stats` = mean+std+slope+delta; `functionals` = mean+std+p1+p25+p50+p75+p99+iqr+
prange+slope+delta+dur.  The vector is the statistics' blocks of D columns in spec order
(`dur` one column).  Everything is computed in float64 about the first frame, so constant
frames give std, slope and deltas of exactly 0, and a 1-frame utterance std 0, slope 0,
deltas 0.  Utterance-level features ([1, D] per utterance: feat_info granularity
`utterance`, or every training utterance a single row) are used as they are, whatever the
spec (`mean` of one row is the row).
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError

PRESETS = {
    "stats": "mean+std+slope+delta",
    "functionals": "mean+std+p1+p25+p50+p75+p99+iqr+prange+slope+delta+dur",
}
NAMED = ("mean", "std", "min", "max", "range", "iqr", "prange", "slope", "delta", "dur")
_PCT = re.compile(r"p(\d+(?:\.\d+)?)")


def parse_pooling(spec) -> List[str]:
    """The statistics of a spec, presets expanded, duplicates dropped (order kept)."""
    if not isinstance(spec, str) or not spec.strip():
        raise E2VError(f"pooling {spec!r}: want statistics joined by '+' (e.g. mean+std) or a "
                       f"preset ({', '.join(PRESETS)})")
    out: List[str] = []
    for tok in spec.strip().split("+"):
        tok = tok.strip()
        for t in PRESETS.get(tok, tok).split("+"):
            m = _PCT.fullmatch(t)
            if t not in NAMED and not (m and 0 <= float(m.group(1)) <= 100):
                raise E2VError(f"pooling '{spec}': unknown statistic '{t}' (one of "
                               f"{', '.join(NAMED)}, p<0..100>, or a preset: "
                               f"{', '.join(PRESETS)})")
            if t not in out:
                out.append(t)
    return out


def canonical(spec) -> str:
    return "+".join(parse_pooling(spec))


def pooled_dim(spec: str, dim: int) -> int:
    stats = parse_pooling(spec)
    return sum(1 if s == "dur" else 2 * dim if s == "delta" else dim for s in stats)


def _moments(c: np.ndarray):
    """Mean and population std of the rows of c (float64)."""
    m = c.mean(axis=0)
    return m, np.sqrt(np.square(c - m).mean(axis=0))


def _slope(c: np.ndarray) -> np.ndarray:
    T = c.shape[0]
    if T < 2:
        return np.zeros(c.shape[1])
    t = np.arange(T, dtype=np.float64) - (T - 1) / 2.0
    return t @ (c - c.mean(axis=0)) / float(t @ t)


def pool_matrix(x: np.ndarray, stats: Sequence[str]) -> np.ndarray:
    """One utterance's vector (float64) for the parsed `stats` of a spec."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise E2VError(f"pooling: want a [T, D] matrix with T >= 1, got shape {x.shape}")
    x0 = x[0]
    c = x - x0                        # about the first frame: constant frames give exact zeros
    m, sd = _moments(c)
    pct: Dict[float, np.ndarray] = {}

    def p(q: float) -> np.ndarray:
        if q not in pct:
            pct[q] = np.percentile(c, q, axis=0)
        return pct[q]

    d = np.diff(c, axis=0)
    blocks = []
    for s in stats:
        if s == "mean":
            blocks.append(x0 + m)
        elif s == "std":
            blocks.append(sd)
        elif s == "min":
            blocks.append(x0 + c.min(axis=0))
        elif s == "max":
            blocks.append(x0 + c.max(axis=0))
        elif s == "range":
            blocks.append(c.max(axis=0) - c.min(axis=0))
        elif s == "iqr":
            blocks.append(p(75.0) - p(25.0))
        elif s == "prange":
            blocks.append(p(99.0) - p(1.0))
        elif s == "slope":
            blocks.append(_slope(c))
        elif s == "delta":
            blocks += list(_moments(d)) if len(d) else [np.zeros_like(m), np.zeros_like(m)]
        elif s == "dur":
            blocks.append(np.array([float(x.shape[0])]))
        else:
            blocks.append(x0 + p(float(s[1:])))
    return np.concatenate(blocks)


class Pooling:
    """A resolved pooling: `spec` (canonical), or used as they are when `passthrough`."""

    def __init__(self, spec: str, passthrough: bool = False):
        self.passthrough = bool(passthrough)
        self.spec = "mean" if self.passthrough else canonical(spec)
        self.stats = parse_pooling(self.spec)

    def dim(self, dim: int) -> int:
        return pooled_dim(self.spec, dim)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return pool_matrix(x, self.stats)

    def many(self, get: Callable[[str], np.ndarray], utts: Sequence[str], dim: int
             ) -> np.ndarray:
        """[N, dim(D)] float32 vectors of `utts`, one utterance in memory at a time."""
        out = np.empty((len(utts), self.dim(dim)), dtype=np.float32)
        for i, u in enumerate(utts):
            out[i] = self(get(u))
        return out


def resolve_pooling(spec, feat_info: Optional[Dict], first_rows: Callable[[], bool]
                    ) -> Pooling:
    """The pooling a head applies: `spec`, or pass-through for utterance-level features
    (feat_info granularity 'utterance', or `first_rows()` says every utterance is one row)."""
    spec = canonical(spec or "mean")
    utt_level = (feat_info or {}).get("granularity") == "utterance" or first_rows()
    return Pooling(spec, passthrough=utt_level)


class PooledInput:
    """Mixin of the utterance heads (Head subclasses): their [T, D] inputs are pooled with the
    config's `pooling`, resolved at fit and recorded in head.json (`state.pooling`; heads saved
    before pooling existed used the mean)."""

    def _pooling(self) -> Pooling:
        return Pooling(self.state.get("pooling", "mean"))

    def fit_vectors(self, split) -> np.ndarray:
        """The training vectors; fixes the pooling every later input gets."""
        if split.vectors is not None:
            spec = split.pooling or "mean"
            vectors = np.asarray(split.vectors, dtype=np.float32)
        else:
            pool = resolve_pooling(self.config.get("pooling", "mean"), self.feat_info,
                                   lambda: all(split.get(u).shape[0] == 1 for u in split.utts))
            spec, vectors = pool.spec, pool.many(split.get, split.utts, self.dim)
        if vectors.shape[1] != pooled_dim(spec, self.dim):
            raise E2VError(f"{self.name} head: pooled vectors have {vectors.shape[1]} columns, "
                           f"pooling '{spec}' of {self.dim} gives {pooled_dim(spec, self.dim)}")
        self.state["pooling"] = spec
        asked = canonical(self.config.get("pooling", "mean"))
        if spec != asked:
            self.state["pooling_note"] = (f"utterance-level [1, {self.dim}] features used as "
                                          f"they are (pooling '{asked}' does not apply)")
        return vectors

    def split_vectors(self, split) -> np.ndarray:
        if split.vectors is not None:
            if (split.pooling or "mean") != self.state.get("pooling", "mean"):
                raise E2VError(f"{self.name} head: vectors pooled with '{split.pooling}', the "
                               f"head pools with '{self.state.get('pooling', 'mean')}'")
            return np.asarray(split.vectors, dtype=np.float32)
        return self._pooling().many(split.get, split.utts, self.dim)

    def feats_vectors(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        feats = list(feats)
        self.check_inputs(feats)
        pool = self._pooling()
        if not feats:
            return np.zeros((0, pool.dim(self.dim)), dtype=np.float32)
        return np.stack([pool(f) for f in feats]).astype(np.float32)

    def predict_vectors(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_split(self, split, batch: int = 256) -> np.ndarray:
        return self.predict_vectors(self.split_vectors(split))

    def predict_proba(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        """Posteriors [B, C] for a list of [T_i, D] feature matrices (pooled as in training)."""
        return self.predict_vectors(self.feats_vectors(feats))


__all__ = ["PRESETS", "PooledInput", "parse_pooling", "canonical", "pooled_dim", "pool_matrix", "Pooling",
           "resolve_pooling"]
