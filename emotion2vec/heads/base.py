"""The head interface and safe (pickle-free) saving and loading.

A head directory holds `head.json` (family, classes, input dimension, configuration, how
inputs were normalised) and `head.safetensors` (every array: weights, normaliser statistics).
Nothing is unpickled at load time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open, atomic_write_text
from emotion2vec.heads.registry import build_head

FORMAT_VERSION = 1


@dataclass
class Split:
    """Data for a head: utterances, class indices, a feature getter; optionally the speaker of
    every utterance (`groups`: inner cross-validation groups by speaker) and, for utterance
    heads, the utterance vectors already pooled (`vectors` [N, D'], made with `pooling`, e.g.
    speaker-normalised by the experiment)."""
    utts: List[str]
    labels: np.ndarray
    get: Callable[[str], np.ndarray]   # utt -> [T, D] float32
    groups: Optional[np.ndarray] = None
    vectors: Optional[np.ndarray] = None
    pooling: Optional[str] = None


class Head:
    """Base class.  Subclasses set `level` ('frame', 'utterance' or 'segment')."""

    level = "utterance"
    # The validation split a fold gives this head when --valid is left to the toolkit: the
    # PyTorch heads pick their checkpoint on it; svm and logreg say "none" (inner CV).
    default_valid = "random:0.2"

    def __init__(self, name: str, classes: Sequence[str], dim: int, config: Dict,
                 feat_info: Optional[Dict] = None):
        self.name = name
        self.classes = list(classes)
        self.dim = int(dim)
        self.config = dict(config)
        self.feat_info = dict(feat_info or {})
        self.input_normalization = "none"   # 'speaker' when inputs were speaker-normalised
        self.state: Dict = {}               # what fit chose (JSON), saved in head.json

    # -- to implement ---------------------------------------------------------------------------
    def fit(self, train: Split, valid: Optional[Split], *, seed: int, log=None) -> Dict:
        raise NotImplementedError

    def predict_proba(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        """Posteriors [B, C] for a list of [T_i, D] feature matrices."""
        raise NotImplementedError

    def arrays(self) -> Dict[str, np.ndarray]:
        raise NotImplementedError

    def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    def predict_split(self, split: Split, batch: int = 256) -> np.ndarray:
        """Posteriors [N, C] of a split's utterances, `batch` utterances in memory at a time."""
        return np.concatenate([self.predict_proba([split.get(u) for u in split.utts[i:i + batch]])
                               for i in range(0, len(split.utts), batch)])

    def check_inputs(self, feats: Sequence[np.ndarray]) -> None:
        for i, f in enumerate(feats):
            if f.ndim != 2 or f.shape[1] != self.dim or f.shape[0] < 1:
                raise E2VError(f"{self.name} head: input {i} has shape {tuple(f.shape)}, "
                               f"want [T, {self.dim}] with T >= 1")

    def save(self, out_dir) -> None:
        from safetensors.numpy import save

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        arrays = {k: np.ascontiguousarray(v) for k, v in self.arrays().items()}
        with atomic_open(out / "head.safetensors", "wb") as f:
            f.write(save(arrays))
        meta = {"format_version": FORMAT_VERSION, "head": self.name, "classes": self.classes,
                "dim": self.dim, "config": self.config, "feat_info": self.feat_info,
                "input_normalization": self.input_normalization, "state": self.state}
        atomic_write_text(out / "head.json", json.dumps(meta, indent=2) + "\n")


def load_head(path) -> Head:
    """Load a trained head from its directory (or a fold directory: its first seed's head)."""
    from safetensors.numpy import load_file

    p = Path(path)
    if not (p / "head.json").is_file():
        seeds = sorted((d for d in p.glob("seed*") if (d / "head.json").is_file()),
                       key=lambda d: int(d.name[4:]) if d.name[4:].isdigit() else 0)
        if not seeds:
            raise E2VError(f"{p}: no head.json here or in seed*/ (not a trained head directory)")
        p = seeds[0]
    try:
        meta = json.loads((p / "head.json").read_text())
    except json.JSONDecodeError as e:
        raise E2VError(f"{p / 'head.json'}: not valid JSON ({e})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise E2VError(f"{p / 'head.json'}: unsupported format version {meta.get('format_version')}")
    if not (p / "head.safetensors").is_file():
        raise E2VError(f"{p}: head.safetensors missing")
    head = build_head(meta["head"], meta["classes"], meta["dim"], meta["config"],
                      meta.get("feat_info"))
    head.input_normalization = meta.get("input_normalization", "none")
    head.state = dict(meta.get("state") or {})
    head.load_arrays(load_file(str(p / "head.safetensors")))
    return head


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


__all__ = ["Head", "Split", "load_head", "softmax", "FORMAT_VERSION"]
