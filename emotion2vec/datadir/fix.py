"""`utils/fix_data_dir.sh`: sort the files, keep the utterances every file knows, regenerate
spk2utt, filter the fold lists; the originals of changed files go to `<data>/.backup/`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set

from emotion2vec.datadir.kvfiles import _format_kv
from emotion2vec.datadir.layout import CV_DIR, DataDir, _emit, file_kind, load_data_dir
from emotion2vec.datadir.values import _check_values, _raise_if, _Report
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike, atomic_write_text


def _check_fixable(dd: DataDir, d: Path) -> None:
    """Fail on lines that sorting and filtering cannot repair (bad values, unknown labels)."""
    rep = _Report()
    classes = dd.classes() if "emotions.txt" in dd.verbatim else None
    for fname, m in dd.files.items():   # original order: line numbers of the files as they are
        _check_values(fname, m, dd.name(fname), rep, classes if fname == "utt2emo" else None)
    rep.finish()
    _raise_if(rep, f"cannot fix {d}: lines that fix_data_dir.sh cannot repair")


def _utts_to_keep(dd: DataDir, d: Path) -> Set[str]:
    """The utterances in every utterance file whose recording and speaker are known."""
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
    return keep


def _changed_files(d: Path, dd: DataDir, fixed: DataDir, old_spk2utt: Optional[str],
                   removed: Dict[str, int]) -> Dict[str, str]:
    """file -> new text of the files that change; fills `removed` (file -> entries dropped)."""
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
    return changed


def _write_with_backup(d: Path, changed: Dict[str, str],
                       cv_changed: Dict[str, List[str]]) -> None:
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


def _entries(dd: DataDir, fname: str) -> Sequence:
    if fname.startswith(CV_DIR + "/"):
        return dd.cv[fname[len(CV_DIR) + 1:]]
    return dd.files[fname]


def _log_removed(log: Optional[Callable[[str], None]], fixed: DataDir, removed: Dict[str, int],
                 changed: Dict[str, str]) -> None:
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


def fix_data_dir(path: PathLike, *, log: Optional[Callable[[str], None]] = None) -> Dict[str, int]:
    """Sort every file, keep the utterances present in every utterance file (and whose
    recording and speaker are known), drop unused recordings, regenerate spk2utt, filter the
    fold lists.  Originals of changed files go to `<data>/.backup/`.  Malformed lines and
    duplicate keys still fail (nothing is written then).  Returns file -> entries removed."""
    d = Path(path)
    dd = load_data_dir(d, check_sorted=False, read_spk2utt=False)
    if "utt2spk" not in dd.files:
        raise DataDirError(f"{d / 'utt2spk'}: no such file (every data directory needs it)")
    _check_fixable(dd, d)
    keep = _utts_to_keep(dd, d)
    old_spk2utt = (d / "spk2utt").read_text(encoding="utf-8") if (d / "spk2utt").is_file() else None
    fixed = dd.restrict(keep)
    removed: Dict[str, int] = {}
    changed = _changed_files(d, dd, fixed, old_spk2utt, removed)
    cv_changed = {rel: lines for rel, lines in fixed.cv.items() if lines != dd.cv[rel]}
    for rel, lines in fixed.cv.items():
        removed[f"{CV_DIR}/{rel}"] = len(dd.cv[rel]) - len(lines)
    if changed or cv_changed:
        _write_with_backup(d, changed, cv_changed)
    _log_removed(log, fixed, removed, changed)
    _emit(log, f"kept {len(keep)} of {len(dd.files['utt2spk'])} utterances"
               + (f"; originals of changed files in {d / '.backup'}/" if changed or cv_changed
                  else "; nothing changed"))
    return removed
