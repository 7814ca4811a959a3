"""Atomic file writes: a reader never sees a half-written file, a crash leaves no result;
and the safe replacement of a generated directory (`replace_dir`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator, Optional, Sequence, Union

from emotion2vec.errors import E2VError

PathLike = Union[str, os.PathLike]


def _read_umask() -> int:
    mask = os.umask(0)   # the only portable way to read it; set straight back (once, at
    os.umask(mask)       # import, so no thread ever creates a file under umask 0)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_open(path: PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            # mkstemp creates 0600; give the result the mode a plain open() would have.
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: PathLike, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def replace_dir(new: PathLike, dest: PathLike, *, replaceable: Callable[[Path], Optional[str]],
                inputs: Sequence[PathLike] = ()) -> None:
    """Put the finished directory `new` in the place of `dest`, never losing an input.

    Refused (E2VError, `new` left as it is for the caller to remove): `dest` is, or holds, one
    of `inputs` (same path after symlinks and `..`); `dest` exists and `replaceable(dest)` names
    something in it that this program did not make.  A `dest` that is a symlink is replaced as a
    link: the directory it points to is not touched.  The old `dest` is renamed aside before
    `new` takes its place, and removed only then.
    """
    new, dest = Path(new), Path(dest)
    target = dest.resolve()
    for i in inputs:
        ip = Path(i).resolve()
        if ip == target or target in ip.parents:
            raise E2VError(f"refusing to replace {dest}: it is or holds the input {i}; "
                           "choose another output directory")
    if dest.is_symlink():
        dest.unlink()
    elif dest.exists():
        if not dest.is_dir():
            raise E2VError(f"refusing to replace {dest}: it is a file, not a directory")
        why = replaceable(dest)
        if why:
            raise E2VError(f"refusing to replace {dest}: {why}; remove it yourself or choose "
                           "another output directory")
        old = dest.with_name(f".{dest.name}.old{os.getpid()}")
        os.replace(dest, old)
        os.replace(new, dest)
        shutil.rmtree(old)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(new, dest)
