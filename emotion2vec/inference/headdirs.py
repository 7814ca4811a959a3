"""Where the trained heads are: an experiment's `fold<k>/`, a fold's `seed<n>/`, a head dir."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

from emotion2vec.errors import E2VError

_FOLD_RE = re.compile(r"^fold(\d+)$")
_SEED_RE = re.compile(r"^seed(\d+)$")


def _numbered(d: Path, pattern) -> List[Path]:
    found = [(int(m.group(1)), p) for p in d.iterdir() if p.is_dir() and (m := pattern.match(p.name))]
    return [p for _, p in sorted(found)]


def exp_folds(exp_dir: Path) -> List[Path]:
    """The `fold<k>` directories of an experiment, by fold number."""
    return _numbered(exp_dir, _FOLD_RE)


def fold_heads(fold_dir: Path) -> List[Path]:
    """The head directories of a fold: the fold itself, or its `seed<n>/` heads."""
    if (fold_dir / "head.json").is_file():
        return [fold_dir]
    return [d for d in _numbered(fold_dir, _SEED_RE) if (d / "head.json").is_file()]


def head_dirs(path: Path, fold: str = "all") -> List[Path]:
    """Heads to use from an experiment dir (folds `fold`: all, K or K1,K2), a fold or a head dir."""
    path = Path(path)
    if not path.is_dir():
        raise E2VError(f"{path}: no such directory")
    if fold_heads(path):
        if fold not in ("all", "", None):
            raise E2VError(f"--fold {fold}: {path} is a single fold/head directory")
        return fold_heads(path)
    folds = exp_folds(path)
    if not folds:
        raise E2VError(f"{path}: no head.json, seed<n>/ or fold<k>/ here (not a trained "
                       "head, fold or experiment directory)")
    if fold not in ("all", "", None):
        by_name = {p.name: p for p in folds}
        want = [f"fold{k.strip()}" for k in str(fold).split(",")]
        missing = [w for w in want if w not in by_name]
        if missing:
            raise E2VError(f"{path}: no {', '.join(missing)} (has {', '.join(by_name)})")
        folds = [by_name[w] for w in want]
    out = []
    for f in folds:
        heads = fold_heads(f)
        if not heads:
            raise E2VError(f"{f}: no trained head (head.json) in it (did training finish?)")
        out += heads
    return out


__all__ = ["exp_folds", "fold_heads", "head_dirs"]
