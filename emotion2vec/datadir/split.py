"""Splitting: `utils/split_data.sh` (`<data>/split<n>/<k>/`, by speaker or per utterance,
reused while the content fingerprint matches) and Kaldi's split_scp.pl."""

from __future__ import annotations

import os
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from emotion2vec.datadir.kvfiles import read_kv, read_utf8, utt2spk_to_spk2utt
from emotion2vec.datadir.layout import (CV_INFO, VERBATIM_FILES, DataDir, _emit, data_files,
                                        file_kind)
from emotion2vec.datadir.validate import _load_checked
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_write_text


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
    import hashlib   # only here: loading OpenSSL costs every utils/*.sh tool ~3 ms at start
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
