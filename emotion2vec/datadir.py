"""Kaldi data directories: read, write, validate, fix, subset, split, copy and combine them.

A data directory is a set of `<key> <value>` files sorted in `LC_ALL=C` order with unique
keys.  Files are keyed by utterance (utt2spk, segments, utt2emo, ...), by recording (wav.scp,
reco2file_and_channel, ...) or by speaker (spk2utt, spk2gender).  Every operation here carries
every such file (known names, and any other `utt2*` / `reco2*` / `spk2*` file by its prefix),
the class inventory `emotions.txt`, and the fold lists under `cv/` where they still make sense.

Errors are loud (DataDirError naming file, line and key): malformed lines, unsorted files,
duplicate keys are never silently dropped.  Writes are atomic.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import re
import shutil
import unicodedata
from collections import Counter, OrderedDict
from pathlib import Path
from typing import (Callable, Dict, IO, Iterable, List, Mapping, Optional, Sequence, Set,
                    Tuple, Union)

from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_open, atomic_write_text

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
# Copied unchanged (the class inventory, Kaldi's frame shift, the description of the folds;
# the last goes only where cv/ goes).
VERBATIM_FILES = ("emotions.txt", "frame_shift", "cv_info.txt")
# Fold lists (`cv/fold<k>/{train,valid,test}`): one utterance id (first field) a line.
CV_DIR = "cv"
CV_INFO = "cv_info.txt"
# Most ids named in one message; the rest are counted.
_SHOW = 3
# Most messages of one kind per file.
_MAX_MSGS = 5


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


def read_classes(path: PathLike) -> list:
    """A class inventory file: one label per line (first field), blank lines and # comments ignored."""
    path = Path(path)
    if not path.is_file():
        raise DataDirError(f"{path}: no such class inventory file")
    classes = []
    for lineno, line in enumerate(read_utf8(path).split("\n"), 1):
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


def file_kind(name: str) -> Optional[str]:
    """'utt', 'rec' or 'spk' for a data-directory file name (by name or prefix), else None."""
    if name in UTT_FILES or (name.startswith("utt2") and len(name) > 4):
        return "utt"
    if name in REC_FILES or (name.startswith("reco2") and len(name) > 5):
        return "rec"
    if name in SPK_FILES or (name.startswith("spk2") and len(name) > 4):
        return "spk"
    return None


def data_files(data_dir: PathLike) -> Dict[str, Path]:
    """The key-value files present in a data directory: the known names and any other
    `utt2*` / `reco2*` / `spk2*` file (hidden and temporary files are skipped)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise DataDirError(f"{d}: no such data directory")
    found = {name: d / name for name in ALL_FILES if (d / name).is_file()}
    for p in d.iterdir():
        n = p.name
        if (n not in found and not n.startswith(".") and not n.endswith((".tmp", "~", ".bak"))
                and file_kind(n) is not None and p.is_file()):
            found[n] = p
    return dict(sorted(found.items()))


def is_pipe(wav_entry: str) -> bool:
    return wav_entry.rstrip().endswith("|")


# --------------------------------------------------------------------------------------------
# A data directory in memory.


def _some(keys: Sequence[str], n: int = _SHOW) -> str:
    keys = list(keys)
    shown = ", ".join(f"'{k}'" for k in keys[:n])
    return shown + (f" (and {len(keys) - n} more)" if len(keys) > n else "")


class DataDir:
    """The files of a data directory, in memory.

    `files`: name -> OrderedDict(key -> value text) for every key-value file (spk2utt is kept
    only if it was read; writing always derives it from utt2spk).  `verbatim`: name -> text of
    emotions.txt / frame_shift.  `cv`: relative path under cv/ -> list of lines.
    """

    def __init__(self, path: Optional[PathLike] = None) -> None:
        self.path = Path(path) if path is not None else None
        self.files: Dict[str, "OrderedDict[str, str]"] = {}
        self.verbatim: Dict[str, str] = {}
        self.cv: Dict[str, List[str]] = {}

    def __repr__(self) -> str:
        return f"DataDir({str(self.path)!r}, {len(self.utts)} utterances, files={sorted(self.files)})"

    def name(self, fname: str) -> str:
        return str(self.path / fname) if self.path is not None else fname

    @property
    def utt2spk(self) -> "OrderedDict[str, str]":
        if "utt2spk" not in self.files:
            raise DataDirError(f"{self.name('utt2spk')}: no such file (every data directory needs it)")
        return self.files["utt2spk"]

    @property
    def utts(self) -> List[str]:
        return list(self.files.get("utt2spk", {}))

    @property
    def has_segments(self) -> bool:
        return "segments" in self.files

    def reco_of(self, utt: str) -> str:
        """The recording an utterance comes from."""
        if self.has_segments:
            return self.files["segments"][utt].split()[0]
        return utt

    def classes(self) -> Optional[List[str]]:
        if "emotions.txt" not in self.verbatim:
            return None
        return _classes_from_text(self.verbatim["emotions.txt"], self.name("emotions.txt"))

    def restrict(self, utts: Iterable[str]) -> "DataDir":
        """A new DataDir with only these utterances (ids must exist); recordings and speakers
        restricted to those still used; fold lists filtered; spk2utt derived."""
        keep = set(utts)
        u2s = self.utt2spk
        unknown = [u for u in keep if u not in u2s]
        if unknown:
            raise DataDirError(f"{self.name('utt2spk')}: unknown utterance(s) {_some(sorted(unknown))}")
        out = DataDir(None)
        if self.has_segments:
            seg = self.files["segments"]
            recs = {seg[u].split()[0] for u in keep if u in seg}
        else:
            recs = keep
        spks = {u2s[u] for u in keep}
        for fname, m in self.files.items():
            if fname == "spk2utt":
                continue
            kind = file_kind(fname)
            sel = keep if kind == "utt" else recs if kind == "rec" else spks
            if m.keys() <= sel:
                out.files[fname] = OrderedDict(m)
            else:
                out.files[fname] = OrderedDict((k, v) for k, v in m.items() if k in sel)
        out.files["spk2utt"] = utt2spk_to_spk2utt(out.files["utt2spk"])
        out.verbatim = dict(self.verbatim)
        out.cv = {rel: [ln for ln in lines if ln.split()[0] in keep]
                  for rel, lines in self.cv.items()}
        return out

    def write(self, dest: PathLike, *, remove_stale: bool = True,
              log: Optional[Callable[[str], None]] = None) -> None:
        """Write every file into `dest` (atomically, sorted); spk2utt derived from utt2spk.
        Known files in `dest` that this data dir does not have are removed (a stale utt2emo
        from an earlier run must not survive)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        files = dict(self.files)
        if "utt2spk" in files:
            files["spk2utt"] = utt2spk_to_spk2utt(files["utt2spk"])
        for fname, m in files.items():
            write_kv(dest / fname, m)
        for fname, text in self.verbatim.items():
            atomic_write_text(dest / fname, text)
        if remove_stale:
            for fname, p in data_files(dest).items():
                if fname not in files:
                    p.unlink()
                    _emit(log, f"removed stale {p}")
            for fname in VERBATIM_FILES:
                if fname not in self.verbatim and (dest / fname).is_file():
                    (dest / fname).unlink()
                    _emit(log, f"removed stale {dest / fname}")
            if (dest / CV_DIR).is_dir():
                shutil.rmtree(dest / CV_DIR)
                if not self.cv:
                    _emit(log, f"removed stale {dest / CV_DIR}/")
        for rel, lines in self.cv.items():
            atomic_write_text(dest / CV_DIR / rel, "".join(ln + "\n" for ln in lines))


def _emit(log: Optional[Callable[[str], None]], msg: str) -> None:
    if log is not None:
        log(msg)


def _classes_from_text(text: str, name: str) -> List[str]:
    classes: List[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
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


def _read_cv(d: Path) -> Dict[str, List[str]]:
    cv: Dict[str, List[str]] = {}
    root = d / CV_DIR
    if not root.is_dir():
        return cv
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            lines = []
            for ln in read_utf8(p).split("\n"):   # ASCII strip: a Unicode space is no blank
                if ln.strip(" \t\r\f\v"):
                    lines.append(ln.strip(" \t\r\f\v"))
            cv[p.relative_to(root).as_posix()] = lines
    return cv


def load_data_dir(path: PathLike, *, check_sorted: bool = True,
                  read_spk2utt: bool = True) -> DataDir:
    """Read every file of a data directory (strict: malformed, unsorted, duplicate -> error)."""
    d = Path(path)
    dd = DataDir(d)
    for fname, p in data_files(d).items():
        if fname == "spk2utt" and not read_spk2utt:
            continue
        dd.files[fname] = read_kv(p, check_sorted=check_sorted)
    for fname in VERBATIM_FILES:
        if (d / fname).is_file():
            dd.verbatim[fname] = read_utf8(d / fname)
    dd.cv = _read_cv(d)
    return dd


# --------------------------------------------------------------------------------------------
# Validation.


def _float(s: str) -> Optional[float]:
    try:
        x = float(s)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


class _Report:
    """Errors and warnings, at most _MAX_MSGS of one kind per file (then a count)."""

    def __init__(self) -> None:
        self.errors: List[str] = []
        self.warnings: List[str] = []
        self._counts: Counter = Counter()

    def error(self, msg: str, group: Optional[Tuple[str, str]] = None) -> None:
        if group is not None:
            self._counts[group] += 1
            if self._counts[group] > _MAX_MSGS:
                return
        self.errors.append(msg)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def finish(self) -> None:
        for (fname, kind), n in self._counts.items():
            if n > _MAX_MSGS:
                self.errors.append(f"{fname}: ... and {n - _MAX_MSGS} more line(s) with {kind}")


_SINGLE = ("utt2spk", "utt2emo", "utt2gender", "utt2session", "utt2group", "utt2fold",
           "feats.scp", "spk2gender")


def _chk_single(v: str) -> Optional[str]:
    f = v.split()
    return None if len(f) == 1 else f"want 1 value field, got {len(f)}"


def _chk_segments(v: str) -> Optional[str]:
    f = v.split()
    if len(f) != 3:
        return "want '<recording> <start> <end>'"
    start, end = _float(f[1]), _float(f[2])
    if start is None or end is None:
        return "start/end are not numbers"
    if start < 0 or end <= start:
        return "bad times (want 0 <= start < end)"
    return None


def _chk_dur(v: str) -> Optional[str]:
    x = _float(v) if len(v.split()) == 1 else None
    return None if x is not None and x > 0 else "want one positive duration in seconds"


def _chk_frames(v: str) -> Optional[str]:
    return None if v.isdigit() and int(v) > 0 else "want one positive integer frame count"


def _chk_avd(v: str) -> Optional[str]:
    f = v.split()
    if len(f) == 3 and all(_float(x) is not None for x in f):
        return None
    return "want 3 numbers 'arousal valence dominance'"


def _chk_r2fc(v: str) -> Optional[str]:
    return None if len(v.split()) == 2 else "want '<file> <channel>'"


def _chk_wav(v: str) -> Optional[str]:
    f = v.split()
    if len(f) > 1 and not f[-1].endswith("|"):
        return ("several fields but no trailing '|' (a command must end with '|'; a path must "
                "not contain spaces)")
    return None


_CHECKERS: Dict[str, Callable[[str], Optional[str]]] = {
    **{n: _chk_single for n in _SINGLE}, "segments": _chk_segments, "utt2dur": _chk_dur,
    "reco2dur": _chk_dur, "utt2num_frames": _chk_frames, "utt2avd": _chk_avd,
    "reco2file_and_channel": _chk_r2fc, "wav.scp": _chk_wav,
}


def _floats_ok(xs: Iterable[str], positive: bool = False, nonneg: bool = False) -> bool:
    try:
        v = list(map(float, xs))
    except ValueError:
        return False
    if any(map(math.isinf, v)) or any(map(math.isnan, v)):
        return False
    return not v or ((not positive or min(v) > 0) and (not nonneg or min(v) >= 0))


def _bulk_ok(name: str, vals: List[str]) -> bool:
    """Whole-file version of the checkers (mostly C-speed); False means: look line by line."""
    if name in _SINGLE:
        return not any(" " in v or "\t" in v for v in vals)
    if name in ("utt2dur", "reco2dur"):
        return _floats_ok(vals, positive=True)
    if name == "utt2num_frames":
        return all(map(str.isdigit, vals)) and (not vals or min(map(int, vals)) > 0)
    if name == "utt2avd":
        parts = [v.split() for v in vals]
        return all(len(p) == 3 for p in parts) and _floats_ok(x for p in parts for x in p)
    if name == "segments":
        parts = [v.split() for v in vals]
        if not all(len(p) == 3 for p in parts) or not _floats_ok(p[1] for p in parts) \
                or not _floats_ok((p[2] for p in parts), nonneg=True):
            return False
        return all(0 <= float(p[1]) < float(p[2]) for p in parts)
    return False


# Files whose value starts with an id: checked with `id_problem`, as keys are by read_kv.
_ID_VALUES = {"utt2spk": "speaker", "segments": "recording", "utt2session": "session",
              "utt2group": "group"}


def _check_id_values(name: str, m: Mapping[str, str], fname: str, rep: _Report) -> Set[str]:
    """`file:line: 'utt': speaker id '...': reason` errors; returns the keys of those lines."""
    what = _ID_VALUES.get(name)
    if what is None or all(map(str.isprintable, m.values())):
        return set()
    bad = set()
    for lineno, (key, value) in enumerate(m.items(), 1):
        v = _KALDI_FIELD.match(value).group()
        why = id_problem(v) if v else None
        if why:
            bad.add(key)
            rep.error(f"{fname}:{lineno}: '{key}': {what} id {v!r}: {why}", (fname, "bad ids"))
    return bad


def _check_values(name: str, m: Mapping[str, str], fname: str, rep: _Report,
                  classes: Optional[Sequence[str]] = None) -> None:
    """Per-line format checks of one file (line number = position + 1: files have no blanks)."""
    bad_ids = _check_id_values(name, m, fname, rep)
    chk = _CHECKERS.get(name)
    if chk is not None and not _bulk_ok(name, list(m.values())):
        for lineno, (key, value) in enumerate(m.items(), 1):
            why = chk(value)
            if why is not None and key not in bad_ids:
                rep.error(f"{fname}:{lineno}: '{key}': {why}, got {value!r}", (fname, "bad values"))
    if name == "utt2emo" and classes is not None and not set(m.values()) <= set(classes):
        classset = set(classes)
        for lineno, (key, value) in enumerate(m.items(), 1):
            if value not in classset and len(value.split()) == 1:
                rep.error(f"{fname}:{lineno}: '{key}': label '{value}' is not in the class "
                          f"inventory ({' '.join(classes)})", (fname, "unknown labels"))


def _scp_path(value: str) -> Optional[str]:
    """The file a non-pipe wav.scp / feats.scp entry names (ark offsets removed)."""
    if is_pipe(value):
        return None
    p = value.strip()
    head, sep, tail = p.rpartition(":")
    if sep and tail.isdigit():
        p = head
    return p


def check_data_dir(dd: DataDir, *, need_wav: bool = False, need_feats: bool = False,
                   need_spk2utt: bool = False, check_wav: bool = True, check_feats: bool = True,
                   check_text: bool = True, classes: Optional[Sequence[str]] = None,
                   classes_name: str = "emotions.txt", require: Sequence[str] = (),
                   check_paths: bool = False, rep: Optional[_Report] = None,
                   unreadable: Iterable[str] = (), check_labels: bool = True,
                   spk_prefix_warning: bool = True) -> _Report:
    """Consistency checks of a loaded data dir; returns the report (errors are not raised).
    `unreadable`: files that exist but failed to parse (already reported; not checked)."""
    rep = rep if rep is not None else _Report()
    skip = set(unreadable)
    present = set(dd.files) | skip
    if not check_wav:
        skip.add("wav.scp")
    if not check_feats:
        skip.add("feats.scp")
    if not check_text:
        skip.add("text")
    files = {n: m for n, m in dd.files.items() if n not in skip}

    if need_wav and need_feats:
        if "wav.scp" not in present and "feats.scp" not in present:
            rep.error(f"{dd.name('wav.scp')}: missing, and no feats.scp either (one is required; "
                      "--no-wav / --no-feats turn the requirement off)")
    elif need_wav and "wav.scp" not in present:
        rep.error(f"{dd.name('wav.scp')}: missing (required; --no-wav turns this off)")
    elif need_feats and "feats.scp" not in present:
        rep.error(f"{dd.name('feats.scp')}: missing (required; --no-feats turns this off)")
    for r in require:
        if r not in present and r not in dd.verbatim and not (dd.path / r).exists():
            rep.error(f"{dd.name(r)}: missing (required by --require)")
    if need_spk2utt and "utt2spk" in files and "spk2utt" not in present:
        rep.error(f"{dd.name('spk2utt')}: missing; run utils/fix_data_dir.sh {dd.path} "
                  f"(or utils/utt2spk_to_spk2utt {dd.name('utt2spk')} > {dd.name('spk2utt')})")
    if "utt2spk" not in files:
        rep.error(f"{dd.name('utt2spk')}: missing (every data directory needs it)")
        rep.finish()
        return rep
    u2s = files["utt2spk"]
    if not u2s:
        rep.error(f"{dd.name('utt2spk')}: empty (no utterances)")
        rep.finish()
        return rep

    if not check_labels:
        classes = None
    elif classes is None and "emotions.txt" in dd.verbatim:
        try:
            classes = dd.classes()
        except DataDirError as e:
            rep.error(str(e))
    if "utt2emo" in files and classes is None and check_labels:
        rep.warn(f"{dd.name('utt2emo')}: labels not checked (no emotions.txt and no --classes)")

    for fname, m in files.items():
        if fname != "spk2utt":
            _check_values(fname, m, dd.name(fname), rep, classes if fname == "utt2emo" else None)

    # Every utterance file has exactly the utterances of utt2spk.
    utts = set(u2s)
    for fname, m in files.items():
        if file_kind(fname) != "utt" or fname == "utt2spk" or m.keys() == u2s.keys():
            continue
        missing = [u for u in u2s if u not in m]
        if missing:
            rep.error(f"{dd.name(fname)}: {len(missing)} utterance(s) of utt2spk missing: "
                      f"{_some(missing)}")
        for lineno, k in enumerate(m, 1):
            if k not in utts:
                rep.error(f"{dd.name(fname)}:{lineno}: '{k}': utterance not in utt2spk",
                          (dd.name(fname), "utterances not in utt2spk"))

    # Recordings (not checkable when segments could not be read: keys would not match).
    if "segments" not in skip or "segments" in files:
        seg = files.get("segments")
        wav = files.get("wav.scp")
        if seg is not None:
            recs_used = {v.split(None, 1)[0] for v in seg.values()}
            if wav is not None and not recs_used <= wav.keys():
                for lineno, (u, v) in enumerate(seg.items(), 1):
                    r = v.split()[0]
                    if r not in wav:
                        rep.error(f"{dd.name('segments')}:{lineno}: '{u}': recording '{r}' is "
                                  "not in wav.scp", (dd.name("segments"), "unknown recordings"))
            if wav is not None:
                unused = [r for r in wav if r not in recs_used]
                if unused:
                    rep.warn(f"{dd.name('wav.scp')}: {len(unused)} recording(s) used by no "
                             f"segment: {_some(unused)} (utils/fix_data_dir.sh drops them)")
        elif wav is not None:
            recs_used = set(wav)
            missing = [u for u in u2s if u not in wav]
            if missing:
                rep.error(f"{dd.name('wav.scp')}: {len(missing)} utterance(s) of utt2spk "
                          f"missing: {_some(missing)}")
            for lineno, k in enumerate(wav, 1):
                if k not in utts:
                    rep.error(f"{dd.name('wav.scp')}:{lineno}: '{k}': utterance not in utt2spk "
                              "(and there is no segments file)",
                              (dd.name("wav.scp"), "utterances not in utt2spk"))
        else:
            recs_used = utts
        recs = set(wav) if wav is not None else recs_used
        for fname, m in files.items():
            if file_kind(fname) != "rec" or fname == "wav.scp":
                continue
            missing = sorted((r for r in recs if r not in m))
            if missing:
                rep.error(f"{dd.name(fname)}: {len(missing)} recording(s) missing: "
                          f"{_some(missing)}")
            for lineno, k in enumerate(m, 1):
                if k not in recs:
                    rep.error(f"{dd.name(fname)}:{lineno}: '{k}': unknown recording",
                              (dd.name(fname), "unknown recordings"))

    if check_paths:
        for fname in ("wav.scp", "feats.scp"):
            if fname not in files:
                continue
            cache: Dict[str, bool] = {}
            bad = []
            for lineno, (k, v) in enumerate(files[fname].items(), 1):
                p = _scp_path(v)
                if p is None:
                    continue
                if p not in cache:
                    cache[p] = os.path.isfile(p)
                if not cache[p]:
                    bad.append((lineno, k, p))
            for lineno, k, p in bad[:_MAX_MSGS]:
                rep.error(f"{dd.name(fname)}:{lineno}: '{k}': no such file {p}")
            if len(bad) > _MAX_MSGS:
                rep.error(f"{dd.name(fname)}: ... and {len(bad) - _MAX_MSGS} more missing file(s)")

    # Speakers.
    derived = utt2spk_to_spk2utt(u2s)
    if "spk2utt" in files:
        s2u = files["spk2utt"]
        if list(s2u.items()) != list(derived.items()):
            for lineno, (s, v) in enumerate(s2u.items(), 1):
                if derived.get(s) != v:
                    why = ("speaker not in utt2spk" if s not in derived else
                           f"utterances differ from utt2spk (want '{_clip(derived[s])}')")
                    rep.error(f"{dd.name('spk2utt')}:{lineno}: '{s}': {why}",
                              (dd.name("spk2utt"), "mismatches with utt2spk"))
            missing = [s for s in derived if s not in s2u]
            if missing:
                rep.error(f"{dd.name('spk2utt')}: {len(missing)} speaker(s) of utt2spk missing: "
                          f"{_some(missing)}")
            rep.error(f"{dd.name('spk2utt')}: inconsistent with utt2spk; regenerate it with "
                      f"utils/fix_data_dir.sh {dd.path}")
    for fname, m in files.items():
        if file_kind(fname) != "spk" or fname == "spk2utt":
            continue
        missing = [s for s in derived if s not in m]
        if missing:
            rep.error(f"{dd.name(fname)}: {len(missing)} speaker(s) of utt2spk missing: "
                      f"{_some(missing)}")
        for lineno, k in enumerate(m, 1):
            if k not in derived:
                rep.error(f"{dd.name(fname)}:{lineno}: '{k}': speaker not in utt2spk",
                          (dd.name(fname), "unknown speakers"))

    bad_prefix = [u for u, s in u2s.items() if not u.startswith(s)] if spk_prefix_warning else []
    if bad_prefix:
        rep.warn(f"{dd.name('utt2spk')}: {len(bad_prefix)} utterance id(s) do not start with "
                 f"their speaker id: {_some(bad_prefix)} (sorting by utterance will not sort by "
                 "speaker; Kaldi convention is '<speaker>-<rest>')")
    if "utt2gender" in files:
        g: Dict[str, Set[str]] = {}
        for u, v in files["utt2gender"].items():
            if u in u2s:
                g.setdefault(u2s[u], set()).add(v)
        mixed = sorted((s for s, vs in g.items() if len(vs) > 1))
        if mixed:
            rep.warn(f"{dd.name('utt2gender')}: {len(mixed)} speaker(s) with more than one "
                     f"gender: {_some(mixed)}")

    for rel, lines in dd.cv.items():
        name = dd.name(f"{CV_DIR}/{rel}")
        seen: Dict[str, int] = {}
        for lineno, ln in enumerate(lines, 1):
            bad = None if ln.isprintable() else _key_error(name, lineno, ln)
            k = ln.split()[0] if not bad else ""
            if bad:
                rep.error(bad, (name, "bad ids"))
            elif k not in utts:
                rep.error(f"{name}:{lineno}: '{k}': utterance not in utt2spk",
                          (name, "unknown utterances"))
            elif k in seen:
                rep.error(f"{name}:{lineno}: '{k}': listed twice (first on line {seen[k]})",
                          (name, "duplicates"))
            seen.setdefault(k, lineno)
    rep.finish()
    return rep


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def validate_data_dir(path: PathLike, *, no_wav: bool = False, no_feats: bool = False,
                      no_text: bool = False, classes: Optional[PathLike] = None,
                      require: Sequence[str] = (), check_paths: bool = True,
                      spk_prefix_warning: bool = True) -> List[str]:
    """Validate a data directory as `utils/validate_data_dir.sh` does.

    Required: utt2spk, spk2utt (equal to the one derived from utt2spk), and wav.scp or
    feats.scp (`no_wav`: wav.scp neither required nor checked; `no_feats`: the same for
    feats.scp; `no_text`: text not checked).  `require`: more file names that must exist.
    `classes`: inventory file for utt2emo labels (default: `<data>/emotions.txt` if present).
    Raises DataDirError with every problem found (one `file:line: 'key': ...` per line);
    returns the warnings.
    """
    d = Path(path)
    if not d.is_dir():
        raise DataDirError(f"{d}: no such data directory")
    rep = _Report()
    dd = DataDir(d)
    unreadable = set()
    skipped = {n for n, off in (("wav.scp", no_wav), ("feats.scp", no_feats), ("text", no_text))
               if off}
    for fname, p in data_files(d).items():
        if fname in skipped:
            continue
        try:
            dd.files[fname] = read_kv(p)
        except DataDirError as e:
            rep.error(str(e))
            unreadable.add(fname)
    try:
        for fname in VERBATIM_FILES:
            if (d / fname).is_file():
                dd.verbatim[fname] = read_utf8(d / fname)
        dd.cv = _read_cv(d)
    except DataDirError as e:
        rep.error(str(e))
    cls = None
    if classes is not None:
        try:
            cls = read_classes(classes)
        except DataDirError as e:
            rep.error(str(e))
    if "utt2spk" in unreadable:
        # Everything is checked against utt2spk: the rest would be a flood of follow-on errors.
        raise DataDirError("\n".join(rep.errors))
    check_data_dir(dd, need_wav=not no_wav, need_feats=not no_feats, need_spk2utt=True,
                   check_wav=not no_wav, check_feats=not no_feats, check_text=not no_text,
                   classes=cls, require=list(require), check_paths=check_paths, rep=rep,
                   unreadable=unreadable, spk_prefix_warning=spk_prefix_warning)
    if rep.errors:
        raise DataDirError("\n".join(rep.errors))
    return rep.warnings


def _raise_if(rep: _Report, what: str) -> None:
    if rep.errors:
        raise DataDirError(f"{what}:\n" + "\n".join(rep.errors))


def _load_checked(path: PathLike, check_labels: bool = True) -> DataDir:
    """Load a data dir and check its consistency (no file-existence or wav requirements)."""
    dd = load_data_dir(path)
    _raise_if(check_data_dir(dd, check_labels=check_labels), f"{path} is not a valid data directory "
                                  "(see utils/validate_data_dir.sh, utils/fix_data_dir.sh)")
    return dd


def _same_dir(a: PathLike, b: PathLike) -> bool:
    return Path(a).resolve() == Path(b).resolve()


# --------------------------------------------------------------------------------------------
# fix_data_dir


def fix_data_dir(path: PathLike, *, log: Optional[Callable[[str], None]] = None) -> Dict[str, int]:
    """Sort every file, keep the utterances present in every utterance file (and whose
    recording and speaker are known), drop unused recordings, regenerate spk2utt, filter the
    fold lists.  Originals of changed files go to `<data>/.backup/`.  Malformed lines and
    duplicate keys still fail (nothing is written then).  Returns file -> entries removed."""
    d = Path(path)
    dd = load_data_dir(d, check_sorted=False, read_spk2utt=False)
    if "utt2spk" not in dd.files:
        raise DataDirError(f"{d / 'utt2spk'}: no such file (every data directory needs it)")
    rep = _Report()
    classes = dd.classes() if "emotions.txt" in dd.verbatim else None
    for fname, m in dd.files.items():   # original order: line numbers of the files as they are
        _check_values(fname, m, dd.name(fname), rep, classes if fname == "utt2emo" else None)
    rep.finish()
    _raise_if(rep, f"cannot fix {d}: lines that fix_data_dir.sh cannot repair")

    utt_files = [n for n in dd.files if file_kind(n) == "utt"]
    rec_files = [n for n in dd.files if file_kind(n) == "rec"]
    spk_files = [n for n in dd.files if file_kind(n) == "spk"]
    keep = set(dd.files["utt2spk"])
    for n in utt_files:
        keep &= set(dd.files[n])
    recs_known: Optional[Set[str]] = None
    for n in rec_files:
        ks = set(dd.files[n])
        recs_known = ks if recs_known is None else recs_known & ks
    if recs_known is not None:
        keep = {u for u in keep if dd.reco_of(u) in recs_known}
    for n in spk_files:
        ks = dd.files[n]
        keep = {u for u in keep if dd.files["utt2spk"][u] in ks}
    if not keep:
        raise DataDirError(f"cannot fix {d}: no utterance is in every file "
                           f"({', '.join(utt_files + rec_files + spk_files)}); nothing written")

    old_spk2utt = (d / "spk2utt").read_text(encoding="utf-8") if (d / "spk2utt").is_file() else None
    fixed = dd.restrict(keep)
    removed: Dict[str, int] = {}
    changed: Dict[str, str] = {}
    for fname, m in fixed.files.items():
        if fname != "spk2utt":
            removed[fname] = len(dd.files[fname]) - len(m)
            keys = list(m)
            if not removed[fname] and keys == sorted(keys):
                continue   # already sorted, nothing removed: leave the file as it is
        text = _format_kv(d / fname, m)
        old = old_spk2utt if fname == "spk2utt" else (d / fname).read_text(encoding="utf-8")
        if text != old:
            changed[fname] = text
    cv_changed = {rel: lines for rel, lines in fixed.cv.items() if lines != dd.cv[rel]}
    for rel, lines in fixed.cv.items():
        removed[f"{CV_DIR}/{rel}"] = len(dd.cv[rel]) - len(lines)

    if changed or cv_changed:
        backup = d / ".backup"
        for fname in changed:
            if (d / fname).is_file():
                backup.mkdir(exist_ok=True)
                shutil.copy2(d / fname, backup / fname)
        for rel in cv_changed:
            (backup / CV_DIR / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(d / CV_DIR / rel, backup / CV_DIR / rel)
        for fname, text in changed.items():
            atomic_write_text(d / fname, text)
        for rel, lines in cv_changed.items():
            atomic_write_text(d / CV_DIR / rel, "".join(ln + "\n" for ln in lines))
    total = len(dd.files["utt2spk"])
    for fname in sorted(removed):
        n = removed[fname]
        what = "recording(s)" if file_kind(fname) == "rec" else (
            "speaker(s)" if file_kind(fname) == "spk" else "utterance(s)")
        if n:
            _emit(log, f"{fname}: removed {n} of {n + len(_entries(fixed, fname))} {what}")
        elif fname in changed:
            _emit(log, f"{fname}: sorted")
    if "spk2utt" in changed:
        _emit(log, "spk2utt: regenerated from utt2spk")
    _emit(log, f"kept {len(keep)} of {total} utterances"
               + (f"; originals of changed files in {d / '.backup'}/" if changed or cv_changed
                  else "; nothing changed"))
    return removed


def _entries(dd: DataDir, fname: str) -> Sequence:
    if fname.startswith(CV_DIR + "/"):
        return dd.cv[fname[len(CV_DIR) + 1:]]
    return dd.files[fname]


# --------------------------------------------------------------------------------------------
# Splitting


def split_contiguous(n_items: int, n: int) -> List[Tuple[int, int]]:
    """[start, end) of n contiguous near-equal parts (the first ones one longer), as
    Kaldi's split_scp.pl."""
    if n < 1:
        raise DataDirError(f"cannot split into {n} parts")
    if n > n_items:
        raise DataDirError(f"cannot split {n_items} lines into {n} parts (more parts than lines)")
    base, extra = divmod(n_items, n)
    out, start = [], 0
    for i in range(n):
        end = start + base + (1 if i < extra else 0)
        out.append((start, end))
        start = end
    return out


def split_by_speaker(utt2spk: Mapping[str, str], n: int) -> List[List[str]]:
    """Utterances in n parts; each speaker wholly in one part, speakers contiguous in sorted
    order, parts balanced by utterance count (deterministic)."""
    per_spk: Dict[str, List[str]] = {}
    for u, s in utt2spk.items():
        per_spk.setdefault(s, []).append(u)
    spks = sorted(per_spk)
    if n < 1:
        raise DataDirError(f"cannot split into {n} parts")
    if n > len(spks):
        raise DataDirError(f"cannot split by speaker into {n} parts: only {len(spks)} speaker(s) "
                           "(use fewer jobs, or split per utterance: --per-utt)")
    parts = _split_speakers_in_order(utt2spk, spks, n)
    return [sorted(p) for p in parts]


def _fingerprint(d: Path, mode: str, n: int) -> str:
    h = hashlib.sha256(f"split v1 {mode} {n}\n".encode())
    names = list(data_files(d)) + [f for f in VERBATIM_FILES if (d / f).is_file()]
    for fname in sorted(names):
        h.update(f"{fname}\0".encode())
        h.update((d / fname).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _write_parts(dd: DataDir, groups: Sequence[Sequence[str]], top: Path) -> None:
    """Write `top/<k>/` (k = 1..len(groups)) in one pass over each file (a speaker or a
    recording may serve several parts).  Fold lists stay behind: they describe the whole set."""
    part_of: Dict[str, int] = {}
    for i, g in enumerate(groups):
        for u in g:
            part_of[u] = i
    u2s = dd.utt2spk
    idx: Dict[str, Dict[str, Set[int]]] = {"spk": {}, "rec": {}}
    for u, i in part_of.items():
        idx["spk"].setdefault(u2s[u], set()).add(i)
        idx["rec"].setdefault(dd.reco_of(u), set()).add(i)
    dirs = [top / str(k) for k in range(1, len(groups) + 1)]
    for p in dirs:
        p.mkdir(parents=True)
    for fname, m in dd.files.items():
        if fname == "spk2utt":
            continue
        kind = file_kind(fname)
        bufs: List[List[str]] = [[] for _ in groups]
        if kind == "utt":
            for k, v in m.items():
                bufs[part_of[k]].append(f"{k} {v}\n")
        else:
            where = idx[kind]
            for k, v in m.items():
                for i in where.get(k, ()):
                    bufs[i].append(f"{k} {v}\n")
        for p, b in zip(dirs, bufs):
            (p / fname).write_text("".join(b), encoding="utf-8")
    for p, g in zip(dirs, groups):
        s2u = utt2spk_to_spk2utt({u: u2s[u] for u in g})
        (p / "spk2utt").write_text("".join(f"{k} {v}\n" for k, v in s2u.items()),
                                   encoding="utf-8")
        for fname, text in dd.verbatim.items():
            if fname != CV_INFO:
                (p / fname).write_text(text, encoding="utf-8")


def split_data_dir(path: PathLike, n: int, *, per_utt: bool = False,
                   log: Optional[Callable[[str], None]] = None) -> List[Path]:
    """`utils/split_data.sh`: `<data>/split<n>/<k>/` (per-utt: `split<n>utt/<k>/`), k = 1..n,
    each a complete data dir.  A split is reused only when it was made from exactly the
    current files (content fingerprint); otherwise it is rebuilt in a temporary directory and
    swapped in."""
    d = Path(path)
    mode = "utt" if per_utt else "spk"
    top = d / (f"split{n}utt" if per_utt else f"split{n}")
    fp = _fingerprint(d, mode, n)
    parts_dirs = [top / str(k) for k in range(1, n + 1)]
    stamp = top / ".fingerprint"
    if stamp.is_file() and stamp.read_text().strip() == fp and all(p.is_dir() for p in parts_dirs):
        _emit(log, f"{top} is up to date")
        return parts_dirs
    dd = _load_checked(d, check_labels=False)   # structure only: labels are not its business
    utts = dd.utts
    if per_utt:
        groups = [utts[a:b] for a, b in split_contiguous(len(utts), n)]
    else:
        groups = split_by_speaker(dd.utt2spk, n)
    tmp = d / f".{top.name}.tmp.{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        _write_parts(dd, groups, tmp)
        (tmp / ".fingerprint").write_text(fp + "\n")
        old = d / f".{top.name}.old.{os.getpid()}"
        if top.exists():
            os.replace(top, old)
        try:
            os.replace(tmp, top)
        except OSError:
            # Another process put a split there meanwhile: fine if it is the same split.
            if not (stamp.is_file() and stamp.read_text().strip() == fp):
                raise
            shutil.rmtree(tmp)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sizes = [len(g) for g in groups]
    _emit(log, f"split {len(utts)} utterances of {d} into {n} parts "
               f"({'per utterance' if per_utt else 'by speaker'}; {min(sizes)}..{max(sizes)} "
               f"utterances a part) in {top}")
    return parts_dirs


# --------------------------------------------------------------------------------------------
# subset / copy / combine


def _read_id_list(path: PathLike, what: str) -> List[str]:
    p = Path(path)
    if not p.is_file():
        raise DataDirError(f"{p}: no such {what} list")
    ids: List[str] = []
    seen: Dict[str, int] = {}
    for lineno, ln in enumerate(read_utf8(p).split("\n"), 1):
        bad = None if ln.isprintable() else _key_error(str(p), lineno, ln)
        if bad:
            raise DataDirError(bad)
        if not ln.strip():
            continue
        k = ln.split()[0]
        if k in seen:
            raise DataDirError(f"{p}:{lineno}: '{k}' listed twice (first on line {seen[k]})")
        seen[k] = lineno
        ids.append(k)
    return ids


def select_utterances(dd: DataDir, *, utt_list: Optional[PathLike] = None,
                      spk_list: Optional[PathLike] = None, first: Optional[int] = None,
                      last: Optional[int] = None, random_n: Optional[int] = None,
                      seed: int = 0, per_spk: Optional[int] = None,
                      spread: Optional[int] = None, allow_missing: bool = False,
                      log: Optional[Callable[[str], None]] = None) -> List[str]:
    """Utterances chosen by exactly one selector (see subset_data_dir)."""
    chosen = [x for x in (utt_list, spk_list, first, last, random_n, per_spk, spread)
              if x is not None]
    if len(chosen) != 1:
        raise DataDirError("give exactly one of --utt-list, --spk-list, --first, --last, "
                           "--random, --per-spk, or <num-utt>")
    utts = dd.utts
    u2s = dd.utt2spk
    if utt_list is not None or spk_list is not None:
        is_utt = utt_list is not None
        lst = _read_id_list(utt_list if is_utt else spk_list, "utterance" if is_utt else "speaker")
        known = set(utts) if is_utt else set(u2s.values())
        missing = [k for k in lst if k not in known]
        if missing:
            what = "utterance" if is_utt else "speaker"
            msg = (f"{utt_list if is_utt else spk_list}: {len(missing)} {what}(s) not in "
                   f"{dd.path}: {_some(missing)}")
            if not allow_missing:
                raise DataDirError(msg + " (--allow-missing true to skip them)")
            _emit(log, "skipping " + msg)
        want = set(lst)
        return [u for u in utts if (u if is_utt else u2s[u]) in want]
    n = next(x for x in (first, last, random_n, per_spk, spread) if x is not None)
    if n < 1:
        raise DataDirError(f"number of utterances must be positive, got {n}")
    if per_spk is not None:
        by: Dict[str, List[str]] = {}
        for u in utts:
            by.setdefault(u2s[u], []).append(u)
        out = []
        fewer = 0
        for s, us in by.items():
            if len(us) <= n:
                fewer += 1
                out.extend(us)
            else:
                out.extend(us[(i * len(us)) // n] for i in range(n))
        if fewer:
            _emit(log, f"{fewer} speaker(s) have {n} or fewer utterances: all of theirs kept")
        return out
    if n > len(utts):
        raise DataDirError(f"{dd.path} has {len(utts)} utterances; cannot select {n}")
    if first is not None:
        return utts[:n]
    if last is not None:
        return utts[-n:]
    if spread is not None:   # Kaldi's default: evenly spaced, deterministic
        return [utts[(i * len(utts)) // n] for i in range(n)]
    picked = set(random.Random(seed).sample(utts, n))
    _emit(log, f"random selection of {n} utterances with seed {seed}")
    return [u for u in utts if u in picked]


def subset_data_dir(src: PathLike, dest: PathLike, *, log: Optional[Callable[[str], None]] = None,
                    **selector) -> DataDir:
    """`utils/subset_data_dir.sh`: a data dir with the selected utterances and everything that
    belongs to them (recordings, speakers, every file; fold lists filtered)."""
    if _same_dir(src, dest):
        raise DataDirError(f"source and destination are the same directory: {src}")
    dd = _load_checked(src)
    sel = select_utterances(dd, log=log, **selector)
    if not sel:
        raise DataDirError(f"the selection from {src} is empty; nothing written")
    out = dd.restrict(sel)
    out.path = Path(dest)
    for rel, lines in out.cv.items():
        if not lines:
            _emit(log, f"note: {CV_DIR}/{rel} is empty in the subset")
    out.write(dest, log=log)
    _emit(log, f"{len(sel)} of {len(dd.utts)} utterances, "
               f"{len(set(out.utt2spk.values()))} speakers: {src} -> {dest}")
    return out


def copy_data_dir(src: PathLike, dest: PathLike, *, utt_prefix: str = "", utt_suffix: str = "",
                  spk_prefix: str = "", spk_suffix: str = "",
                  log: Optional[Callable[[str], None]] = None) -> DataDir:
    """`utils/copy_data_dir.sh`: copy every file, renaming utterances (prefix + id + suffix)
    and speakers; with segments, recordings are renamed with the utterance prefix/suffix."""
    if _same_dir(src, dest):
        raise DataDirError(f"source and destination are the same directory: {src}")
    for what, s in (("--utt-prefix", utt_prefix), ("--utt-suffix", utt_suffix),
                    ("--spk-prefix", spk_prefix), ("--spk-suffix", spk_suffix)):
        if any(c.isspace() for c in s):
            raise DataDirError(f"{what} {s!r} contains white space")
    dd = _load_checked(src)

    def umap(u: str) -> str:
        return f"{utt_prefix}{u}{utt_suffix}"

    def smap(s: str) -> str:
        return f"{spk_prefix}{s}{spk_suffix}"

    out = DataDir(dest)
    for fname, m in dd.files.items():
        if fname == "spk2utt":
            continue
        kind = file_kind(fname)
        if kind == "utt":
            km = umap
        elif kind == "rec":
            km = umap   # recording = utterance without segments; renamed alike with them
        else:
            km = smap
        new = OrderedDict()
        for k, v in m.items():
            if fname == "utt2spk":
                v = smap(v)
            elif fname == "segments":
                f = v.split(maxsplit=1)
                v = f"{umap(f[0])} {f[1]}"
            new[km(k)] = v
        out.files[fname] = new
    out.verbatim = dict(dd.verbatim)
    out.cv = {rel: [" ".join([umap(ln.split()[0])] + ln.split()[1:]) for ln in lines]
              for rel, lines in dd.cv.items()}
    before = sum(1 for u, s in dd.utt2spk.items() if u.startswith(s))
    after = sum(1 for u, s in out.utt2spk.items() if u.startswith(s))
    if after < before:
        _emit(log, f"warning: {before - after} utterance id(s) no longer start with their speaker "
                   "id; use the same --utt-prefix and --spk-prefix to keep that convention")
    # No second check of the copy: renaming is one-to-one, so the checked source stays valid.
    out.write(dest, log=log)
    _emit(log, f"copied {len(out.utts)} utterances: {src} -> {dest}")
    return out


def combine_data_dirs(dest: PathLike, srcs: Sequence[PathLike], *,
                      drop_partial_files: bool = False,
                      log: Optional[Callable[[str], None]] = None) -> DataDir:
    """`utils/combine_data.sh`: the union of several data dirs.  A duplicate utterance id is an
    error (prefix ids with copy_data_dir.sh --utt-prefix first); a recording or speaker in
    several sources must have identical entries; class inventories must agree; a file present
    in only some sources is an error unless `drop_partial_files` (then it is dropped, said)."""
    if len(srcs) < 1:
        raise DataDirError("combine_data needs at least one source directory")
    for s in srcs:
        if _same_dir(s, dest):
            raise DataDirError(f"destination {dest} is also a source")
    dds = [_load_checked(s) for s in srcs]
    names = sorted({n for dd in dds for n in dd.files if n != "spk2utt"})
    out = DataDir(dest)
    for fname in names:
        lacking = [str(dd.path) for dd in dds if fname not in dd.files]
        if lacking:
            msg = f"{fname} is in some sources but not in {', '.join(lacking)}"
            if fname in ("utt2spk", "segments", "wav.scp") or not drop_partial_files:
                raise DataDirError(msg + ("" if fname in ("utt2spk", "segments", "wav.scp") else
                                          " (--drop-partial-files true drops it from the result)"))
            _emit(log, f"warning: {msg}: not in the result")
            continue
        kind = file_kind(fname)
        merged: Dict[str, str] = {}
        origin: Dict[str, str] = {}
        for dd in dds:
            for k, v in dd.files[fname].items():
                if k in merged:
                    if kind == "utt":
                        raise DataDirError(
                            f"utterance '{k}' is in both {origin[k]} and {dd.path}: ids must be "
                            "unique across sources; prefix them first, e.g. utils/copy_data_dir.sh "
                            f"--utt-prefix <corpus>- --spk-prefix <corpus>- {dd.path} <new-dir>")
                    if merged[k] != v:
                        what = "recording" if kind == "rec" else "speaker"
                        raise DataDirError(
                            f"{what} '{k}' has different {fname} entries in {origin[k]} "
                            f"('{_clip(merged[k])}') and {dd.path} ('{_clip(v)}')")
                    continue
                merged[k] = v
                origin[k] = str(dd.path)
        out.files[fname] = OrderedDict((k, merged[k]) for k in sorted(merged))
    for fname in VERBATIM_FILES:
        have = [(dd.path, dd.verbatim[fname]) for dd in dds if fname in dd.verbatim]
        if not have or fname == CV_INFO:
            continue
        for p, text in have[1:]:
            if fname == "emotions.txt":
                a = _classes_from_text(have[0][1], str(have[0][0] / fname))
                b = _classes_from_text(text, str(p / fname))
                if a != b:
                    raise DataDirError(
                        f"class inventories differ: {have[0][0] / fname} ({' '.join(a)}) vs "
                        f"{p / fname} ({' '.join(b)}); map the labels to one inventory first")
            elif text != have[0][1]:
                raise DataDirError(f"{fname} differs between {have[0][0]} and {p}")
        out.verbatim[fname] = have[0][1]
    if any(dd.cv or CV_INFO in dd.verbatim for dd in dds):
        _emit(log, f"note: {CV_DIR}/ fold lists (and {CV_INFO}) of the sources are not carried "
                   "(each describes one source)")
    _raise_if(check_data_dir(out), f"combination of {', '.join(map(str, srcs))} is inconsistent")
    out.write(dest, log=log)
    _emit(log, f"combined {len(out.utts)} utterances from {len(srcs)} source(s) into {dest}")
    return out


# --------------------------------------------------------------------------------------------
# Statistics


def data_dir_stats(path: PathLike) -> dict:
    """Counts per class / speaker / session / gender / group / fold, and durations.

    Durations come from utt2dur, else segments, else the headers of plain-file wav.scp entries
    (soundfile); `duration_source` says which, `duration_unknown` why none could be had."""
    dd = _load_checked(path, check_labels=False)   # it shows unknown labels in its table
    u2s = dd.utt2spk
    dur: Optional[Dict[str, float]] = None
    source = None
    unknown = None
    if "utt2dur" in dd.files:
        dur = {u: float(v) for u, v in dd.files["utt2dur"].items()}
        source = "utt2dur"
    elif dd.has_segments:
        dur = {}
        for u, v in dd.files["segments"].items():
            f = v.split()
            dur[u] = float(f[2]) - float(f[1])
        source = "segments"
    elif "wav.scp" in dd.files:
        wav = dd.files["wav.scp"]
        paths = {u: _scp_path(v) for u, v in wav.items()}
        not_plain = [u for u, p in paths.items() if p is None or p.endswith(".ark")
                     or wav[u].rstrip().rsplit(":", 1)[-1].isdigit()]
        if not_plain:
            unknown = (f"{len(not_plain)} wav.scp entries are pipes or ark offsets and there is "
                       "no utt2dur or segments")
        else:
            import soundfile   # only here: the other tools stay fast to start
            dur = {}
            for u, p in paths.items():
                try:
                    info = soundfile.info(p)
                except Exception as e:   # soundfile raises several types; report the file
                    raise DataDirError(f"{dd.name('wav.scp')}: '{u}': cannot read audio header "
                                       f"of {p}: {e}") from None
                dur[u] = info.frames / info.samplerate
            source = "audio headers"
    else:
        unknown = "no utt2dur, segments or wav.scp"

    def table(fname: Optional[str], keyf: Callable[[str], str]) -> "OrderedDict[str, dict]":
        rows: Dict[str, dict] = {}
        for u in u2s:
            k = keyf(u)
            r = rows.setdefault(k, {"utts": 0, "seconds": 0.0 if dur is not None else None})
            r["utts"] += 1
            if dur is not None:
                r["seconds"] += dur[u]
        order = (_classes_order(dd, rows) if fname == "utt2emo"
                 else sorted(rows))
        return OrderedDict((k, rows[k]) for k in order)

    stats: dict = {
        "data_dir": str(path),
        "num_utts": len(u2s),
        "num_speakers": len(set(u2s.values())),
        "num_recordings": (len({v.split()[0] for v in dd.files["segments"].values()})
                           if dd.has_segments else len(u2s)),
        "total_seconds": (sum(dur.values()) if dur is not None else None),
        "duration_source": source,
        "duration_unknown": unknown,
        "tables": OrderedDict(),
    }
    for fname, title in (("utt2emo", "class"), ("utt2spk", "speaker"), ("utt2session", "session"),
                         ("utt2gender", "gender"), ("utt2group", "group"), ("utt2fold", "fold")):
        if fname in dd.files:
            m = dd.files[fname]
            stats["tables"][title] = table(fname, lambda u, m=m: m[u])
    return stats


def _classes_order(dd: DataDir, rows: Mapping[str, dict]) -> List[str]:
    cls = dd.classes() if "emotions.txt" in dd.verbatim else None
    if cls is None:
        return sorted(rows)
    return [c for c in cls if c in rows] + sorted((r for r in rows if r not in cls))


def format_stats(stats: dict) -> str:
    """The stats as aligned text tables."""
    lines = [f"{stats['data_dir']}: {stats['num_utts']} utterances, {stats['num_speakers']} "
             f"speakers, {stats['num_recordings']} recordings"]
    if stats["total_seconds"] is not None:
        lines.append(f"total duration: {stats['total_seconds'] / 3600:.3f} h "
                     f"({stats['total_seconds']:.1f} s, from {stats['duration_source']})")
    else:
        lines.append(f"total duration: unknown ({stats['duration_unknown']})")
    n = stats["num_utts"]
    for title, rows in stats["tables"].items():
        header = [title, "utts", "share"] + (["hours"] if stats["total_seconds"] is not None else [])
        body = []
        for k, r in rows.items():
            row = [k, str(r["utts"]), f"{100.0 * r['utts'] / n:.1f}%"]
            if r["seconds"] is not None:
                row.append(f"{r['seconds'] / 3600:.3f}")
            body.append(row)
        widths = [max(len(x[i]) for x in [header] + body) for i in range(len(header))]
        lines.append("")
        fmt = lambda row: "  ".join(  # noqa: E731
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        lines.append(fmt(header).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines.extend(fmt(r).rstrip() for r in body)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# scp filters (filter_scp, split_scp)


def filter_scp(id_list: PathLike, lines: Iterable[str], out: IO[str], *, field: int = 1,
               exclude: bool = False, name: str = "-") -> int:
    """Kaldi's filter_scp.pl: copy the lines whose `field`-th field (1-based) is (or with
    `exclude`, is not) the first field of a line of `id_list`.  Returns lines written."""
    p = Path(id_list)
    if not p.is_file():
        raise DataDirError(f"{p}: no such id list")
    ids = set()
    for ln in read_utf8(p).splitlines():
        if ln.strip():
            ids.add(ln.split()[0])
    written = 0
    for lineno, line in enumerate(lines, 1):
        f = line.split()
        if not f:
            raise DataDirError(f"{name}:{lineno}: empty line")
        if field > len(f):
            raise DataDirError(f"{name}:{lineno}: no field {field} in line {line.rstrip()!r}")
        if (f[field - 1] in ids) != exclude:
            out.write(line if line.endswith("\n") else line + "\n")
            written += 1
    return written


def split_scp(in_path: PathLike, outs: Sequence[PathLike], *,
              utt2spk: Optional[PathLike] = None) -> List[int]:
    """Kaldi's split_scp.pl: split the lines of `in_path` into len(outs) contiguous parts
    (with `utt2spk`: keeping each speaker's lines in one part).  Returns line counts."""
    src = Path(in_path)
    if not src.is_file():
        raise DataDirError(f"{src}: no such file")
    lines = read_utf8(src).splitlines(keepends=True)
    for lineno, ln in enumerate(lines, 1):
        if not ln.split():
            raise DataDirError(f"{src}:{lineno}: empty line")
    n = len(outs)
    if utt2spk is None:
        groups = [lines[a:b] for a, b in split_contiguous(len(lines), n)]
    else:
        u2s = read_kv(utt2spk, check_sorted=False)
        keys = []
        for lineno, ln in enumerate(lines, 1):
            k = ln.split()[0]
            if k not in u2s:
                raise DataDirError(f"{src}:{lineno}: '{k}' is not in {utt2spk}")
            keys.append(k)
        order: Dict[str, List[str]] = OrderedDict()
        for k in keys:   # speakers in order of first appearance, lines stay in input order
            order.setdefault(u2s[k], []).append(k)
        if n > len(order):
            raise DataDirError(f"cannot split {src} by speaker into {n} parts: only "
                               f"{len(order)} speaker(s)")
        sub = OrderedDict((k, u2s[k]) for k in keys)
        parts = _split_speakers_in_order(sub, list(order), n)
        index = {k: i for i, k in enumerate(keys)}
        groups = [[lines[index[k]] for k in sorted(p, key=index.__getitem__)] for p in parts]
    for path, g in zip(outs, groups):
        atomic_write_text(path, "".join(x if x.endswith("\n") else x + "\n" for x in g))
    return [len(g) for g in groups]


def _split_speakers_in_order(utt2spk: Mapping[str, str], spks: List[str],
                             n: int) -> List[List[str]]:
    per: Dict[str, List[str]] = {}
    for u, s in utt2spk.items():
        per.setdefault(s, []).append(u)
    total = len(utt2spk)
    parts: List[List[str]] = [[] for _ in range(n)]
    before, prev = 0, -1
    for j, s in enumerate(spks):
        cnt = len(per[s])
        want = min(int((before + cnt / 2) * n / total), n - 1)
        p = min(max(want, prev, n - len(spks) + j), prev + 1)
        parts[p].extend(per[s])
        before += cnt
        prev = p
    return parts


__all__ = [
    "UTT_FILES", "REC_FILES", "SPK_FILES", "ALL_FILES", "VERBATIM_FILES", "CV_DIR", "CV_INFO",
    "c_sort_key", "read_kv", "read_kv_stream", "write_kv", "utt2spk_to_spk2utt",
    "spk2utt_to_utt2spk", "read_classes", "file_kind", "data_files", "is_pipe",
    "DataDir", "load_data_dir", "check_data_dir", "validate_data_dir", "fix_data_dir",
    "split_contiguous", "split_by_speaker", "split_data_dir", "select_utterances",
    "subset_data_dir", "copy_data_dir", "combine_data_dirs", "data_dir_stats", "format_stats",
    "filter_scp", "split_scp",
]
