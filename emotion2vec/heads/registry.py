"""The registry of head names.  Each family module joins it with `@register("name")`; the
heads package imports every family, so importing `emotion2vec.heads` fills it."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from emotion2vec.errors import E2VError

REGISTRY: Dict[str, type] = {}   # name -> a subclass of heads.base.Head


def register(*names: str):
    def deco(cls):
        for n in names:
            REGISTRY[n] = cls
        return cls
    return deco


def head_names() -> List[str]:
    return sorted(REGISTRY)


def head_class(name: str) -> type:
    if name not in REGISTRY:
        raise E2VError(f"unknown head '{name}' (one of {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]


def default_valid(name: str) -> str:
    """The --valid a head gets when the user leaves it (the head class's `default_valid`)."""
    return head_class(name).default_valid


def default_valid_text() -> str:
    """Those defaults in words, as steps/train_cv.sh --help gives them."""
    by: Dict[str, List[str]] = {}
    for n in head_names():
        by.setdefault(default_valid(n), []).append(n)
    return "; ".join(f"{v} for {', '.join(ns)}" for v, ns in sorted(by.items(), key=lambda x: len(x[1])))


def build_head(name: str, classes: Sequence[str], dim: int, config: Dict,
               feat_info: Optional[Dict] = None):
    return head_class(name)(name, classes, dim, config, feat_info)


__all__ = ["REGISTRY", "register", "head_names", "head_class", "build_head", "default_valid",
           "default_valid_text"]
