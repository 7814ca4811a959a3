"""Label maps: `<from> <to>` lines (e.g. `exc hap`) that merge or rename emotion labels.

One reader for corpus preparation, training, scoring and plotting."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

from emotion2vec.errors import E2VError


def read_label_map(path: Optional[str]) -> Dict[str, str]:
    """The map in `path` ({} when no path is given); blank lines and `#` comments ignored."""
    if not path:
        return {}
    p = Path(path)
    if not p.is_file():
        raise E2VError(f"{p}: no such label map file")
    out: Dict[str, str] = {}
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if len(f) != 2:
            raise E2VError(f"{p}:{lineno}: want '<from> <to>', got {line.rstrip()!r}")
        if f[0] in out:
            raise E2VError(f"{p}:{lineno}: label '{f[0]}' mapped twice")
        out[f[0]] = f[1]
    return out


__all__ = ["read_label_map"]
