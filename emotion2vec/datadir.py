"""Kaldi data directories: read, write and check the `<key> <value>` files.

Core reading and writing live here; validation, fixing, splitting, subsetting and combining
build on these functions.  Every error names the file, the line number and the key.
"""

from __future__ import annotations


from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Tuple, Union

from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_open

# Files keyed by utterance id.  Values are kept as the raw text after the key.
UTT_FILES = (
    "utt2spk", "text", "segments", "utt2dur", "utt2num_frames", "feats.scp",
    "utt2emo", "utt2avd", "utt2gender", "utt2session", "utt2group", "utt2fold",
)
# Files keyed by recording id (equal to the utterance id when there is no `segments`).
REC_FILES = ("wav.scp", "reco2file_and_channel", "reco2dur")
# Files keyed by speaker id.  spk2utt is always derived from utt2spk.
SPK_FILES = ("spk2utt", "spk2gender")
ALL_FILES = UTT_FILES + REC_FILES + SPK_FILES


def c_sort_key(key: str) -> bytes:
    """Sort order of `LC_ALL=C sort`: plain byte order of the UTF-8 encoding."""
    return key.encode("utf-8")


def read_kv(path: PathLike, *, check_sorted: bool = True,
            ncols: Optional[int] = None) -> "OrderedDict[str, str]":
    """Read a `<key> <value...>` file into an ordered dict of key -> value text.

    Fails (DataDirError naming file, line and key) on a line with no value, a duplicate key
    (never silently dropped), a key out of `LC_ALL=C` order (when `check_sorted`), or, when
    `ncols` is given, a value with a different number of whitespace-separated fields.
    """
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such file")
    out: "OrderedDict[str, str]" = OrderedDict()
    first_line: Dict[str, int] = {}
    prev: Optional[bytes] = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.endswith("\r"):
                raise DataDirError(f"{path}:{lineno}: line ends with a carriage return (DOS file?)")
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or not parts[1].strip():
                raise DataDirError(f"{path}:{lineno}: malformed line (want '<key> <value>'): {line!r}")
            key, value = parts[0], parts[1].strip()
            if line[0].isspace():
                raise DataDirError(f"{path}:{lineno}: line starts with whitespace: {line!r}")
            if key in first_line:
                raise DataDirError(
                    f"{path}:{lineno}: duplicate key '{key}' (first on line {first_line[key]})")
            if ncols is not None and len(value.split()) != ncols:
                raise DataDirError(
                    f"{path}:{lineno}: key '{key}' has {len(value.split())} value fields, want {ncols}")
            k = c_sort_key(key)
            if check_sorted and prev is not None and k < prev:
                raise DataDirError(
                    f"{path}:{lineno}: not sorted (LC_ALL=C): '{key}' comes after "
                    f"'{prev.decode('utf-8')}'; run utils/fix_data_dir.sh")
            prev = k
            first_line[key] = lineno
            out[key] = value
    return out


Pairs = Union[Mapping[str, object], Iterable[Tuple[str, object]]]


def write_kv(path: PathLike, items: Pairs, *, sort: bool = True) -> None:
    """Atomically write `<key> <value>` lines, sorted in `LC_ALL=C` order by default.

    A duplicate key or a key/value with a newline (or a key with whitespace) is an error.
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    seen = set()
    for key, value in pairs:
        if not key or any(c.isspace() for c in key):
            raise DataDirError(f"{path}: invalid key {key!r} (empty or has whitespace)")
        if key in seen:
            raise DataDirError(f"{path}: duplicate key '{key}'")
        if "\n" in str(value) or not str(value).strip():
            raise DataDirError(f"{path}: key '{key}': invalid value {value!r}")
        seen.add(key)
    if sort:
        pairs.sort(key=lambda kv: c_sort_key(kv[0]))
    with atomic_open(path) as f:
        for key, value in pairs:
            f.write(f"{key} {value}\n")


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> "OrderedDict[str, str]":
    """spk2utt lines (speaker -> space-separated utterances, in utterance order)."""
    spk: Dict[str, list] = {}
    for utt in sorted(utt2spk, key=c_sort_key):
        spk.setdefault(utt2spk[utt], []).append(utt)
    return OrderedDict((s, " ".join(spk[s])) for s in sorted(spk, key=c_sort_key))


def read_classes(path: PathLike) -> list:
    """A class inventory file: one label per line (first field), blank lines and # comments ignored."""
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such class inventory file")
    classes = []
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        label = line.split()[0]
        if label in classes:
            raise DataDirError(f"{path}:{lineno}: class '{label}' listed twice")
        classes.append(label)
    if not classes:
        raise DataDirError(f"{path}: class inventory is empty")
    return classes


def data_files(data_dir: PathLike) -> Dict[str, Path]:
    """The known files present in a data directory."""
    d = Path(data_dir)
    if not d.is_dir():
        raise DataDirError(f"{d}: no such data directory")
    return {name: d / name for name in ALL_FILES if (d / name).is_file()}


def is_pipe(wav_entry: str) -> bool:
    return wav_entry.rstrip().endswith("|")


__all__ = [
    "UTT_FILES", "REC_FILES", "SPK_FILES", "ALL_FILES", "c_sort_key", "read_kv", "write_kv",
    "utt2spk_to_spk2utt", "read_classes", "data_files", "is_pipe",
]
