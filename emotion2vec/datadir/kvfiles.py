"""One key-value file of a data directory: `<key> <value>` lines, unique keys sorted in
`LC_ALL=C` order, strict UTF-8.  Reading fails loudly (file, line, key); writing is atomic."""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Dict, IO, Iterable, List, Mapping, Optional, Tuple, Union

from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_open


def c_sort_key(key: str) -> bytes:
    """Sort order of `LC_ALL=C sort`: plain byte order of the UTF-8 encoding.  (Python's own
    str order, by code point, is the same; the code here sorts str directly, faster.)"""
    return key.encode("utf-8")


# Kaldi splits a key off at C isspace(); Python's str.split() also splits at Unicode spaces.
_KALDI_FIELD = re.compile(r"[^ \t\n\r\f\v]*")
_CHAR_KINDS = {"Cc": "a control character", "Cf": "an invisible (format) character",
               "Zs": "a Unicode space", "Zl": "a line separator", "Zp": "a paragraph separator",
               "Co": "a private-use character", "Cn": "an unassigned code point",
               "Cs": "an undecodable byte"}


def id_problem(key: str) -> Optional[str]:
    """Why `key` cannot be a Kaldi id (utterance, speaker, recording, ...), or None if it can.

    Kaldi's rule (IsToken): non-empty, no whitespace, printable.  We also refuse what Python
    calls non-printable: control and zero-width/format characters, every Unicode space and
    line separator, unassigned and private-use code points, undecodable bytes."""
    if not key:
        return "empty id"
    if key.isprintable() and " " not in key:
        return None
    i, c = next((i, c) for i, c in enumerate(key) if c == " " or not c.isprintable())
    return (f"id contains {_char_desc(c)} at character {i + 1}; ids must be printable, "
            "without whitespace")


def _char_desc(c: str) -> str:
    what = "a space" if c == " " else _CHAR_KINDS.get(unicodedata.category(c), "whitespace")
    name = unicodedata.name(c, "")
    return f"{what} (U+{ord(c):04X}{' ' + name if name else ''})"


def _key_error(name: str, lineno: int, line: str) -> Optional[str]:
    """The `file:line: 'key': reason` message for a line whose key (as Kaldi splits it) is not
    a valid id, or whose value starts with a space Kaldi would keep, else None."""
    key = _KALDI_FIELD.match(line).group()
    why = id_problem(key) if key else None
    rest = line[len(key):].lstrip(" \t\r\f\v")
    if why is None and key and rest[:1].isspace():
        why = (f"the value starts with {_char_desc(rest[0])}, which Kaldi does not take "
               "as a separator")
    return None if why is None else f"{name}:{lineno}: {key!r}: {why}"


def decode_utf8(data: bytes, name: str) -> str:
    """`data` as UTF-8 text, or a DataDirError naming the line, its key and the bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        lineno = data.count(b"\n", 0, e.start) + 1
        key = re.match(rb"[^ \t\n\r\f\v]*", data[start:]).group()
        key_s = key.decode("utf-8", "backslashreplace")
        raise DataDirError(f"{name}:{lineno}: '{key_s}': not valid UTF-8 (byte "
                           f"0x{data[e.start]:02x} at column {e.start - start + 1})") from None


def read_utf8(path: PathLike) -> str:
    """A whole text file (strict UTF-8, see decode_utf8)."""
    return decode_utf8(Path(path).read_bytes(), str(path))


def _parse_kv_lines(lines: Iterable[str], name: str, *, check_sorted: bool,
                    ncols: Optional[int]) -> "OrderedDict[str, str]":
    out: "OrderedDict[str, str]" = OrderedDict()
    prev = ""
    # Python compares str by code point, which is the byte order of UTF-8 (LC_ALL=C sort).
    for lineno, line in enumerate(lines, 1):
        bad = None if line.isprintable() else _key_error(name, lineno, line)
        if bad:
            raise DataDirError(bad)
        parts = line.split(None, 1)
        if len(parts) != 2 or line[0].isspace() or line.endswith("\r"):
            if line.endswith("\r"):
                raise DataDirError(f"{name}:{lineno}: line ends with a carriage return (DOS file?)")
            if len(parts) != 2:
                raise DataDirError(
                    f"{name}:{lineno}: malformed line (want '<key> <value>'): {line!r}")
            raise DataDirError(f"{name}:{lineno}: line starts with whitespace: {line!r}")
        key, value = parts
        value = value.rstrip()
        if key in out:
            first = next(i for i, k in enumerate(out, 1) if k == key)
            raise DataDirError(f"{name}:{lineno}: duplicate key '{key}' (first on line {first})")
        if ncols is not None and len(value.split()) != ncols:
            raise DataDirError(
                f"{name}:{lineno}: key '{key}' has {len(value.split())} value fields, want {ncols}")
        if check_sorted and key < prev:
            raise DataDirError(
                f"{name}:{lineno}: not sorted (LC_ALL=C): '{key}' comes after '{prev}'; "
                "run utils/fix_data_dir.sh")
        prev = key
        out[key] = value
    return out


def read_kv(path: PathLike, *, check_sorted: bool = True,
            ncols: Optional[int] = None) -> "OrderedDict[str, str]":
    """Read a `<key> <value...>` file into an ordered dict of key -> value text.

    Fails (DataDirError naming file, line and key) on invalid UTF-8, a key that is not a valid
    id (`id_problem`), a line with no value, a duplicate key (never silently dropped), a key
    out of `LC_ALL=C` order (when `check_sorted`), or, when `ncols` is given, a value with a
    different number of whitespace-separated fields.
    """
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such file")
    text = read_utf8(path)   # bytes, not universal newlines: keep any '\r' to report it
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if not text.replace("\n", "").replace("\t", "").isprintable():   # C speed: mostly skipped
        for lineno, line in enumerate(lines, 1):
            bad = None if line.isprintable() else _key_error(str(path), lineno, line)
            if bad:
                raise DataDirError(bad)
    # Fast path (C-speed whole-file checks) for the usual clean file; any doubt -> the
    # line-by-line parser, which names the offending line.
    if (ncols is None and "\r" not in text and not text[:1].isspace() and "\n " not in text
            and "\n\t" not in text and " \n" not in text and "\t\n" not in text
            and not text.endswith((" ", "\t"))):
        parts = [ln.split(None, 1) for ln in lines]
        if all(len(x) == 2 for x in parts):
            out = OrderedDict(parts)
            keys = list(out)
            if len(out) == len(parts) and (not check_sorted or keys == sorted(keys)):
                return out
    return _parse_kv_lines(lines, str(path), check_sorted=check_sorted, ncols=ncols)


def read_kv_stream(f: IO[str], name: str = "-", *, check_sorted: bool = False,
                   ncols: Optional[int] = None) -> "OrderedDict[str, str]":
    """`read_kv` for an open text stream (stdin in the Kaldi-style filters)."""
    try:
        return _parse_kv_lines((ln.rstrip("\n") for ln in f), name, check_sorted=check_sorted,
                               ncols=ncols)
    except UnicodeDecodeError as e:
        raise DataDirError(f"{name}: not valid UTF-8 ({e})") from None


Pairs = Union[Mapping[str, object], Iterable[Tuple[str, object]]]


def _format_kv(path: PathLike, items: Pairs, sort: bool = True) -> str:
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    keys = [k for k, _ in pairs]
    vals = [str(v) for _, v in pairs]
    # Whole-list checks first (fast); line by line only to name the offender.
    joined = " ".join(keys)
    if (len(joined.split()) != len(keys) or len(set(keys)) != len(keys)
            or "\n" in "".join(vals) or "" in vals or any(map(str.isspace, vals))):
        seen = set()
        for key, value in zip(keys, vals):
            if not key or any(c.isspace() for c in key):
                raise DataDirError(f"{path}: invalid key {key!r} (empty or has whitespace)")
            if key in seen:
                raise DataDirError(f"{path}: duplicate key '{key}'")
            if "\n" in value or not value.strip():
                raise DataDirError(f"{path}: key '{key}': invalid value {value!r}")
            seen.add(key)
    out = list(zip(keys, vals))
    if sort:
        out.sort(key=lambda kv: kv[0])
    return "".join([f"{k} {v}\n" for k, v in out])


def write_kv(path: PathLike, items: Pairs, *, sort: bool = True) -> None:
    """Atomically write `<key> <value>` lines, sorted in `LC_ALL=C` order by default.

    A duplicate key or a key/value with a newline (or a key with whitespace) is an error.
    """
    text = _format_kv(path, items, sort)
    with atomic_open(path) as f:
        f.write(text)


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> "OrderedDict[str, str]":
    """spk2utt lines (speaker -> space-separated utterances, in utterance order)."""
    spk: Dict[str, list] = {}
    for utt in sorted(utt2spk):
        spk.setdefault(utt2spk[utt], []).append(utt)
    return OrderedDict((s, " ".join(spk[s])) for s in sorted(spk))


def spk2utt_to_utt2spk(spk2utt: Mapping[str, str], name: str = "spk2utt") -> "OrderedDict[str, str]":
    """utt2spk (sorted by utterance) from spk2utt; an utterance under two speakers is an error."""
    utt2spk: Dict[str, str] = {}
    for lineno, (spk, utts) in enumerate(spk2utt.items(), 1):
        for utt in utts.split():
            if utt in utt2spk:
                raise DataDirError(f"{name}:{lineno}: utterance '{utt}' of speaker '{spk}' is "
                                   f"already listed under speaker '{utt2spk[utt]}'")
            utt2spk[utt] = spk
    return OrderedDict((u, utt2spk[u]) for u in sorted(utt2spk))


def _classes_from_lines(lines: Iterable[str], name: str) -> List[str]:
    classes: List[str] = []
    for lineno, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        label = line.split()[0]
        if label in classes:
            raise DataDirError(f"{name}:{lineno}: class '{label}' listed twice")
        classes.append(label)
    if not classes:
        raise DataDirError(f"{name}: class inventory is empty")
    return classes


def read_classes(path: PathLike) -> list:
    """A class inventory file: one label per line (first field), blank lines and # comments ignored."""
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such class inventory file")
    return _classes_from_lines(read_utf8(path).split("\n"), str(path))
