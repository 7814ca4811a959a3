"""Which files a data directory holds (by utterance, recording or speaker), and `DataDir`,
all of them in memory: load, restrict to some utterances, write."""

from __future__ import annotations

import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from emotion2vec.datadir.kvfiles import (_classes_from_lines, read_kv, read_utf8,
                                         utt2spk_to_spk2utt, write_kv)
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_write_text

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


def _scp_path(value: str) -> Optional[str]:
    """The file a non-pipe wav.scp / feats.scp entry names (ark offsets removed)."""
    if is_pipe(value):
        return None
    p = value.strip()
    head, sep, tail = p.rpartition(":")
    if sep and tail.isdigit():
        p = head
    return p


def _some(keys: Sequence[str], n: int = _SHOW) -> str:
    keys = list(keys)
    shown = ", ".join(f"'{k}'" for k in keys[:n])
    return shown + (f" (and {len(keys) - n} more)" if len(keys) > n else "")


def _emit(log: Optional[Callable[[str], None]], msg: str) -> None:
    if log is not None:
        log(msg)


def _same_dir(a: PathLike, b: PathLike) -> bool:
    return Path(a).resolve() == Path(b).resolve()


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
        return _classes_from_lines(self.verbatim["emotions.txt"].splitlines(),
                                  self.name("emotions.txt"))

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
