"""A small, deterministic PyTorch training loop shared by the neural heads.

A head turns its data into a *batch set*: samples with integer labels, each belonging to an
utterance (`group`; several for spectrogram segments), and `batch(indices)` returning the
module's input tensors.  The loop trains for `epochs`, evaluates on the validation utterances
after every epoch, keeps the best checkpoint by the chosen validation metric (strictly better,
as in emotion2vec), and stops early after `patience` epochs without improvement (if set).
"""

from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from emotion2vec.errors import E2VError
from emotion2vec.metrics import score_labels


class BatchSet(Protocol):
    labels: np.ndarray        # [S] sample labels (class indices)
    group: np.ndarray         # [S] utterance index of every sample
    num_groups: int

    def batch(self, idx: np.ndarray) -> Tuple[torch.Tensor, ...]: ...


METRICS = ("wa", "ua", "f1_macro", "f1_weighted", "loss")


@dataclass
class TrainConfig:
    epochs: int = 100
    batch_size: int = 128
    optimizer: Dict = field(default_factory=lambda: {"name": "adam", "lr": 1e-3})
    scheduler: Dict = field(default_factory=lambda: {"name": "none"})
    select_metric: str = "wa"          # validation metric that picks the checkpoint
    patience: Optional[int] = None     # early stopping; None = run all epochs
    class_weight: bool = False         # inverse-frequency weights in the loss
    sampler: str = "shuffle"           # shuffle | balanced (class-balanced resampling)
    grad_clip: Optional[float] = None
    eval_batch_size: int = 256
    device: str = "cpu"                # cpu | cuda | cuda:N | auto (cuda when available)

    @classmethod
    def from_dict(cls, d: Dict) -> "TrainConfig":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        cfg = cls(**known)
        if cfg.select_metric not in METRICS:
            raise E2VError(f"select_metric '{cfg.select_metric}' not one of {METRICS}")
        if cfg.sampler not in ("shuffle", "balanced"):
            raise E2VError(f"sampler '{cfg.sampler}' not one of shuffle, balanced")
        if cfg.device == "auto":
            cfg.device = "cuda" if torch.cuda.is_available() else "cpu"
        if cfg.device.startswith("cuda") and not torch.cuda.is_available():
            raise E2VError(f"device '{cfg.device}' requested but CUDA is not available")
        if cfg.epochs < 1 or cfg.batch_size < 1:
            raise E2VError("epochs and batch_size must be positive")
        return cfg


def set_determinism(seed: int) -> None:
    """Seed torch once per model (as emotion2vec does).  Every CPU kernel used by the heads is
    deterministic, and batch order comes from a numpy Generator seeded with the same seed, so
    a run is reproducible bit for bit at a fixed thread count."""
    torch.manual_seed(seed)


def make_optimizer(params, spec: Dict):
    spec = dict(spec)
    name = spec.pop("name", "adam").lower()
    table = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam,
             "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if name not in table:
        raise E2VError(f"optimizer '{name}' not one of {sorted(table)}")
    try:
        return table[name](params, **spec)
    except TypeError as e:
        raise E2VError(f"optimizer {name}: bad option ({e})") from None


def make_scheduler(opt, spec: Dict, epochs: int):
    """Schedulers stepped once per epoch (as the emotion2vec downstream recipe does)."""
    spec = dict(spec or {})
    name = spec.pop("name", "none").lower()
    if name == "none":
        return None
    if name == "cyclic":
        # emotion2vec: CyclicLR(base_lr, max_lr, step_size_up) with PyTorch defaults, i.e.
        # cycle_momentum=True, which with RMSprop cycles momentum 0.9 -> 0.8 -> 0.9.
        return torch.optim.lr_scheduler.CyclicLR(opt, **spec)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=spec.pop("t_max", epochs),
                                                          **spec)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(opt, **spec)
    raise E2VError(f"scheduler '{name}' not one of none, cyclic, cosine, step")


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Inverse-frequency weights, n / (C_present * count); 0 for classes absent from training."""
    count = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = count > 0
    w = np.zeros(num_classes)
    w[present] = len(labels) / (present.sum() * count[present])
    return w.astype(np.float32)


@torch.no_grad()
def predict_groups(module: nn.Module, data: BatchSet, batch_size: int) -> np.ndarray:
    """Utterance posteriors [num_groups, C]: softmax per sample, averaged over its group."""
    module.eval()
    dev = next(module.parameters()).device
    out: Optional[torch.Tensor] = None
    n = len(data.group)
    order = np.arange(n)
    for s in range(0, n, batch_size):
        idx = order[s:s + batch_size]
        p = torch.softmax(module(*(t.to(dev) for t in data.batch(idx))).double(), dim=-1).cpu()
        if out is None:
            out = torch.zeros(data.num_groups, p.shape[1], dtype=torch.float64)
        out.index_add_(0, torch.from_numpy(data.group[idx]), p)
    counts = np.bincount(data.group, minlength=data.num_groups)
    return (out.numpy() / counts[:, None]).astype(np.float32)


def evaluate(module, data: BatchSet, group_labels: np.ndarray, classes: Sequence[str],
             batch_size: int) -> Dict[str, float]:
    post = predict_groups(module, data, batch_size)
    hyp = post.argmax(axis=1)
    m = score_labels([classes[i] for i in group_labels], [classes[i] for i in hyp], classes)
    p = np.clip(post[np.arange(len(hyp)), group_labels], 1e-12, 1.0)
    m["loss"] = float(-np.log(p).mean())
    return m


def _better(metric: str, new: float, best: Optional[float]) -> bool:
    if best is None:
        return True
    return new < best if metric == "loss" else new > best


def train_module(module: nn.Module, train: BatchSet, valid: Optional[BatchSet],
                 valid_labels: Optional[np.ndarray], classes: Sequence[str], cfg: TrainConfig,
                 *, seed: int, log: Callable[[str], None] = None) -> Dict:
    """Train `module` in place; load the selected checkpoint into it; return the history."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    C = len(classes)
    dev = torch.device(cfg.device)
    module.to(dev)
    rng = np.random.default_rng(seed)
    opt = make_optimizer(module.parameters(), cfg.optimizer)
    sched = make_scheduler(opt, cfg.scheduler, cfg.epochs)
    weight = torch.from_numpy(class_weights(train.labels, C)) if cfg.class_weight else None
    criterion = nn.CrossEntropyLoss(weight=None if weight is None else weight.to(dev))
    labels_t = torch.from_numpy(train.labels.astype(np.int64)).to(dev)
    n = len(train.labels)
    if cfg.sampler == "balanced":
        count = np.bincount(train.labels, minlength=C).astype(np.float64)
        prob = 1.0 / count[train.labels]
        prob /= prob.sum()
    history: List[Dict] = []
    best_val, best_epoch, best_state = None, 0, None
    bad_epochs = 0
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.time()
        module.train()
        order = rng.permutation(n) if cfg.sampler == "shuffle" else rng.choice(n, n, p=prob)
        total, seen = 0.0, 0
        for s in range(0, n, cfg.batch_size):
            idx = order[s:s + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = criterion(module(*(t.to(dev) for t in train.batch(idx))),
                             labels_t[torch.from_numpy(idx).to(dev)])
            if not torch.isfinite(loss):
                raise E2VError(f"epoch {epoch}: training loss is {loss.item()} "
                               "(diverged: lower the learning rate or normalise the features)")
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(module.parameters(), cfg.grad_clip)
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        lr = opt.param_groups[0]["lr"]
        if sched is not None:
            sched.step()
        rec = {"epoch": epoch, "train_loss": total / seen, "lr": lr, "seconds": time.time() - t0}
        if valid is not None:
            m = evaluate(module, valid, valid_labels, classes, cfg.eval_batch_size)
            rec.update({f"valid_{k}": m[k] for k in METRICS})
            val = m[cfg.select_metric]
            if _better(cfg.select_metric, val, best_val):
                best_val, best_epoch = val, epoch
                best_state = copy.deepcopy(module.state_dict())
                bad_epochs = 0
            else:
                bad_epochs += 1
        history.append(rec)
        msg = (f"epoch {epoch}/{cfg.epochs} loss {rec['train_loss']:.4f} lr {lr:.2e} "
               f"({rec['seconds']:.1f}s)")
        if valid is not None:
            msg += (f" valid WA {rec['valid_wa'] * 100:.2f} UA {rec['valid_ua'] * 100:.2f} "
                    f"F1 {rec['valid_f1_macro'] * 100:.2f}" + (" *" if best_epoch == epoch else ""))
        log(msg)
        if valid is not None and cfg.patience is not None and bad_epochs >= cfg.patience:
            log(f"early stop: no better validation {cfg.select_metric} for {cfg.patience} epochs")
            break
    if best_state is not None:
        module.load_state_dict(best_state)
        log(f"selected epoch {best_epoch} (validation {cfg.select_metric} "
            f"{best_val * (1 if cfg.select_metric == 'loss' else 100):.4g})")
    else:
        best_epoch = history[-1]["epoch"]
        log(f"no validation set: keeping the last epoch ({best_epoch})")
    return {"history": history, "best_epoch": best_epoch,
            "best_valid": None if best_val is None else float(best_val)}


__all__ = ["TrainConfig", "train_module", "predict_groups", "evaluate", "set_determinism",
           "class_weights", "make_optimizer", "make_scheduler", "METRICS"]
