"""The format of each file's values, line by line (a whole-file fast path first), and the
`_Report` that gathers errors and warnings, at most `_MAX_MSGS` of one kind per file."""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from emotion2vec.datadir.kvfiles import _KALDI_FIELD, id_problem
from emotion2vec.errors import DataDirError

# Most messages of one kind per file.
_MAX_MSGS = 5


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


def _raise_if(rep: _Report, what: str) -> None:
    if rep.errors:
        raise DataDirError(f"{what}:\n" + "\n".join(rep.errors))
