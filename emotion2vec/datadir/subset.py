"""Subsets: `utils/subset_data_dir.sh` (the selected utterances with everything that belongs
to them) and Kaldi's filter_scp.pl."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, Dict, IO, Iterable, List, Optional

from emotion2vec.datadir.kvfiles import _key_error, read_utf8
from emotion2vec.datadir.layout import CV_DIR, DataDir, _emit, _same_dir, _some
from emotion2vec.datadir.validate import _load_checked
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike


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
