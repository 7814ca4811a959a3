"""Writing Kaldi float-matrix archives so that no reader ever sees a partial one.

`ArkWriter` writes `<name>.ark` and its scp under names of this run (`<name>.ark.<run>.tmp`),
so that a leftover process of another run can never rename them, then renames the archive and
writes the scp pointing at the final name (absolute paths: Kaldi scp files must work from any
directory).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open


def run_token() -> str:
    """A name part unique to this process and call: `<pid>-<random>`."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


class ArkWriter:
    """`write(key, matrix)` ..., then `finish()` (publish) or `discard()` (remove)."""

    def __init__(self, ark: os.PathLike, run: str = ""):
        import kaldi_native_io as kio

        run = run or run_token()
        self.ark = Path(ark).resolve()
        self.tmp_ark = self.ark.with_name(f"{self.ark.name}.{run}.tmp")
        self.tmp_scp = self.ark.with_name(f"{self.ark.stem}.scp.{run}.tmp")
        self.scp = self.ark.with_suffix(".scp")
        self.ark.parent.mkdir(parents=True, exist_ok=True)
        self.writer = kio.FloatMatrixWriter(f"ark,scp:{self.tmp_ark},{self.tmp_scp}")

    def write(self, key: str, mat: np.ndarray) -> None:
        self.writer.write(key, np.ascontiguousarray(mat, dtype=np.float32))

    def finish(self) -> None:
        """Rename the archive, then write the scp that points at the final name."""
        self.writer.close()
        lines = []
        for line in self.tmp_scp.read_text().splitlines():
            key, loc = line.split(maxsplit=1)
            path, offset = loc.rsplit(":", 1)
            if Path(path) != self.tmp_ark:
                raise E2VError(f"{self.tmp_scp}: unexpected archive path in {line!r}")
            lines.append(f"{key} {self.ark}:{offset}\n")
        os.replace(self.tmp_ark, self.ark)
        with atomic_open(self.scp) as f:
            f.writelines(lines)
        self.tmp_scp.unlink()

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        for p in (self.tmp_ark, self.tmp_scp):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


__all__ = ["ArkWriter", "run_token"]
