"""Shared machinery of the PyTorch heads: configuration, normalisation, save/load, predict."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from emotion2vec.errors import E2VError
from emotion2vec.heads.base import Head, Split
from emotion2vec.heads.normalize import fit_global
from emotion2vec.heads.trainer import (TrainConfig, predict_groups, set_determinism,
                                       train_module)


class TorchHead(Head):
    """A head whose model is an nn.Module trained by `heads.trainer`."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.module: Optional[nn.Module] = None
        self.norm_mean: Optional[np.ndarray] = None
        self.norm_std: Optional[np.ndarray] = None

    # -- subclasses -----------------------------------------------------------------------------
    def build_module(self) -> nn.Module:
        raise NotImplementedError

    def batches(self, get: Callable[[str], np.ndarray], utts: List[str], labels: np.ndarray):
        """A trainer batch set over `utts` whose features come from `get` (normalised)."""
        raise NotImplementedError

    def norm_rows(self, split: Split):
        """Row blocks the global statistics are fitted on (frames by default)."""
        return (split.get(u) for u in split.utts)

    # -- shared ---------------------------------------------------------------------------------
    def _normalized(self, get):
        if self.norm_mean is None:
            return get
        mean, std = self.norm_mean, self.norm_std
        return lambda u: (get(u) - mean) / std

    def train_data(self, train: Split, valid: Optional[Split]):
        """(training, validation or None) batch sets; fits the `global` statistics on the
        training split only."""
        if self.config.get("normalize", "none") == "global":
            self.norm_mean, self.norm_std = fit_global(self.norm_rows(train), self.dim)
        tr = self.batches(self._normalized(train.get), train.utts, train.labels)
        va = (self.batches(self._normalized(valid.get), valid.utts, valid.labels)
              if valid is not None and valid.utts else None)
        return tr, va

    def fit(self, train: Split, valid: Optional[Split], *, seed: int, log=None) -> Dict:
        cfg = TrainConfig.from_dict(self.config)
        set_determinism(seed)
        tr, va = self.train_data(train, valid)
        self.module = self.build_module()
        return train_module(self.module, tr, va, None if va is None else valid.labels,
                            self.classes, cfg, seed=seed, log=log)

    def predict_proba(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        if self.module is None:
            raise E2VError(f"{self.name} head: not trained or loaded")
        feats = list(feats)
        self.check_inputs(feats)
        keys = [str(i) for i in range(len(feats))]
        get = self._normalized(lambda u: np.asarray(feats[int(u)], dtype=np.float32))
        data = self.batches(get, keys, np.zeros(len(feats), dtype=np.int64))
        return predict_groups(self.module, data, int(self.config.get("eval_batch_size", 256)))

    def arrays(self) -> Dict[str, np.ndarray]:
        out = {f"module.{k}": v.detach().cpu().numpy() for k, v in self.module.state_dict().items()}
        if self.norm_mean is not None:
            out["norm.mean"], out["norm.std"] = self.norm_mean, self.norm_std
        return out

    def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
        self.module = self.build_module()
        state = {k[len("module."):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                 if k.startswith("module.")}
        try:
            self.module.load_state_dict(state)
        except RuntimeError as e:
            raise E2VError(f"{self.name} head: saved weights do not fit its configuration ({e})"
                           ) from None
        self.module.eval()
        if "norm.mean" in arrays:
            self.norm_mean, self.norm_std = arrays["norm.mean"], arrays["norm.std"]


def mlp_layers(dim: int, hidden: Sequence[int], dropout: float) -> List[nn.Module]:
    layers: List[nn.Module] = []
    d = dim
    for h in hidden:
        layers += [nn.Linear(d, int(h)), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        d = int(h)
    return layers


__all__ = ["TorchHead", "mlp_layers"]
