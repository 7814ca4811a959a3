"""Fingerprints of what a job's result depends on, so that a rerun never reuses a result made
from other inputs.

A fingerprint covers the bytes of the small list files (wav.scp, segments, utt2spk, ...) and,
for every file they point at, its size and modification time (as make and rsync do: a wav
replaced at the same path, an archive rewritten, a model checkpoint swapped all change it).
For a `cmd |` entry of wav.scp the command text is in the list's bytes, and every word of it
that names an existing file (`sox in.wav -t wav - |`, `sph2pipe -f wav x.sph |`) is stat-ed
like a plain entry.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path
from typing import Iterable, List

from emotion2vec.audio import entry_kind
from emotion2vec.datadir import read_kv
from emotion2vec.fileio import PathLike

_ARK_SUFFIX = ":"


def wav_entry_files(entry: str) -> List[str]:
    """The files a wav.scp value reads: the file, the archive of `ark:offset`, or the
    existing files named by the words of a `cmd |` pipe."""
    entry = entry.strip()
    kind = entry_kind(entry)
    if kind == "file":
        return [entry]
    if kind == "ark":
        return [entry.rsplit(_ARK_SUFFIX, 1)[0]]
    try:
        words = shlex.split(entry[:-1])
    except ValueError:  # unbalanced quotes: still look at the plain words
        words = entry[:-1].split()
    return [w for w in words if os.path.isfile(w)]


def stat_text(path: PathLike) -> str:
    """`path size mtime_ns` (or `path missing`): what a fingerprint keeps of a file."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} missing"
    return f"{path} {st.st_size} {st.st_mtime_ns}"


def update_with_files(h: "hashlib._Hash", paths: Iterable[PathLike]) -> None:
    """Add the size and time of each distinct file (a directory: every file under it)."""
    seen = set()
    for p in paths:
        p = os.path.abspath(p)
        if p in seen:
            continue
        seen.add(p)
        if os.path.isdir(p):
            for f in sorted(Path(p).rglob("*")):
                if f.is_file():
                    h.update((stat_text(f) + "\n").encode())
        else:
            h.update((stat_text(p) + "\n").encode())


def update_with_wav_scp(h: "hashlib._Hash", wav_scp: PathLike) -> None:
    """Add a wav.scp's bytes and the size and time of every file its entries read."""
    p = Path(wav_scp)
    h.update(b"wav.scp\0" + p.read_bytes() + b"\0")
    files: List[str] = []
    for value in read_kv(p, check_sorted=False).values():
        files += wav_entry_files(value)
    update_with_files(h, files)


__all__ = ["wav_entry_files", "stat_text", "update_with_files", "update_with_wav_scp"]
