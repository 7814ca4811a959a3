"""Consistency of a data directory across its files (`utils/validate_data_dir.sh`).

`check_data_dir` runs the rules below in a fixed order, so that messages come out in the
same order every time; each rule adds its errors and warnings to one `_Report`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set

from emotion2vec.datadir.kvfiles import (_key_error, read_classes, read_kv, read_utf8,
                                         utt2spk_to_spk2utt)
from emotion2vec.datadir.layout import (CV_DIR, VERBATIM_FILES, DataDir, _read_cv, _scp_path,
                                        _some, data_files, file_kind, load_data_dir)
from emotion2vec.datadir.values import _MAX_MSGS, _check_values, _raise_if, _Report
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike

Files = Mapping[str, Mapping[str, str]]


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _rule_required_files(dd: DataDir, present: Set[str], files: Files, rep: _Report, *,
                         need_wav: bool, need_feats: bool, need_spk2utt: bool,
                         require: Sequence[str]) -> None:
    """wav.scp and/or feats.scp, the --require files, and spk2utt exist."""
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


def _rule_has_utterances(dd: DataDir, files: Files, rep: _Report) -> bool:
    """utt2spk exists and is not empty (everything else is checked against it)."""
    if "utt2spk" not in files:
        rep.error(f"{dd.name('utt2spk')}: missing (every data directory needs it)")
        return False
    if not files["utt2spk"]:
        rep.error(f"{dd.name('utt2spk')}: empty (no utterances)")
        return False
    return True


def _label_inventory(dd: DataDir, files: Files, rep: _Report, classes: Optional[Sequence[str]],
                     check_labels: bool) -> Optional[Sequence[str]]:
    """The classes utt2emo labels are checked against: given, else emotions.txt, else none
    (said)."""
    if not check_labels:
        classes = None
    elif classes is None and "emotions.txt" in dd.verbatim:
        try:
            classes = dd.classes()
        except DataDirError as e:
            rep.error(str(e))
    if "utt2emo" in files and classes is None and check_labels:
        rep.warn(f"{dd.name('utt2emo')}: labels not checked (no emotions.txt and no --classes)")
    return classes


def _rule_values(dd: DataDir, files: Files, rep: _Report,
                 classes: Optional[Sequence[str]]) -> None:
    """The values of every file have their file's format (utt2emo: labels of the inventory)."""
    for fname, m in files.items():
        if fname != "spk2utt":
            _check_values(fname, m, dd.name(fname), rep, classes if fname == "utt2emo" else None)


def _exact_keys(dd: DataDir, fname: str, m: Mapping[str, str], keys: Mapping[str, str],
                what: str, group: str, rep: _Report, note: str = "") -> None:
    """File `fname` has exactly the keys of utt2spk's `what`s (each extra one by line)."""
    missing = [k for k in keys if k not in m]
    if missing:
        rep.error(f"{dd.name(fname)}: {len(missing)} {what}(s) of utt2spk missing: "
                  f"{_some(missing)}")
    for lineno, k in enumerate(m, 1):
        if k not in keys:
            rep.error(f"{dd.name(fname)}:{lineno}: '{k}': {what} not in utt2spk{note}",
                      (dd.name(fname), group))


def _same_keys(dd: DataDir, files: Files, kind: str, skip: str, keys: Mapping[str, str],
               what: str, group: str, rep: _Report) -> None:
    """Every `kind` file but `skip` has exactly the keys of utt2spk's `what`s."""
    for fname, m in files.items():
        if file_kind(fname) == kind and fname != skip and m.keys() != keys.keys():
            _exact_keys(dd, fname, m, keys, what, group, rep)


def _rule_utterance_files(dd: DataDir, files: Files, u2s: Mapping[str, str],
                          rep: _Report) -> None:
    """Every utterance file has exactly the utterances of utt2spk."""
    _same_keys(dd, files, "utt", "utt2spk", u2s, "utterance", "utterances not in utt2spk", rep)


def _rule_segment_recordings(dd: DataDir, seg: Mapping[str, str], wav: Mapping[str, str],
                             rep: _Report) -> None:
    """Segments name recordings of wav.scp; a recording no segment uses is a warning."""
    recs_used = {v.split(None, 1)[0] for v in seg.values()}
    if not recs_used <= wav.keys():
        for lineno, (u, v) in enumerate(seg.items(), 1):
            r = v.split()[0]
            if r not in wav:
                rep.error(f"{dd.name('segments')}:{lineno}: '{u}': recording '{r}' is "
                          "not in wav.scp", (dd.name("segments"), "unknown recordings"))
    unused = [r for r in wav if r not in recs_used]
    if unused:
        rep.warn(f"{dd.name('wav.scp')}: {len(unused)} recording(s) used by no "
                 f"segment: {_some(unused)} (utils/fix_data_dir.sh drops them)")


def _rule_wav_utterances(dd: DataDir, wav: Mapping[str, str], u2s: Mapping[str, str],
                         rep: _Report) -> None:
    """Without segments, wav.scp has exactly the utterances of utt2spk."""
    _exact_keys(dd, "wav.scp", wav, u2s, "utterance", "utterances not in utt2spk", rep,
                note=" (and there is no segments file)")


def _rule_recording_files(dd: DataDir, files: Files, recs: Set[str], rep: _Report) -> None:
    """Every other recording file (reco2*) has exactly the recordings."""
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


def _rule_recordings(dd: DataDir, files: Files, u2s: Mapping[str, str], rep: _Report) -> None:
    """The recording files agree with segments (or, without segments, with utt2spk)."""
    seg = files.get("segments")
    wav = files.get("wav.scp")
    if wav is not None:
        if seg is not None:
            _rule_segment_recordings(dd, seg, wav, rep)
        else:
            _rule_wav_utterances(dd, wav, u2s, rep)
        recs = set(wav)
    elif seg is not None:
        recs = {v.split(None, 1)[0] for v in seg.values()}
    else:
        recs = set(u2s)
    _rule_recording_files(dd, files, recs, rep)


def _rule_paths_exist(dd: DataDir, files: Files, rep: _Report) -> None:
    """The plain files wav.scp and feats.scp name exist (pipes are not run)."""
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


def _rule_spk2utt(dd: DataDir, files: Files, derived: Mapping[str, str], rep: _Report) -> None:
    """spk2utt is the one derived from utt2spk."""
    if "spk2utt" not in files:
        return
    s2u = files["spk2utt"]
    if list(s2u.items()) == list(derived.items()):
        return
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


def _rule_speaker_files(dd: DataDir, files: Files, derived: Mapping[str, str],
                        rep: _Report) -> None:
    """Every other speaker file (spk2gender, ...) has exactly the speakers of utt2spk."""
    _same_keys(dd, files, "spk", "spk2utt", derived, "speaker", "unknown speakers", rep)


def _warn_speaker_prefix(dd: DataDir, u2s: Mapping[str, str], rep: _Report) -> None:
    """Kaldi convention: an utterance id starts with its speaker id (a warning)."""
    bad_prefix = [u for u, s in u2s.items() if not u.startswith(s)]
    if bad_prefix:
        rep.warn(f"{dd.name('utt2spk')}: {len(bad_prefix)} utterance id(s) do not start with "
                 f"their speaker id: {_some(bad_prefix)} (sorting by utterance will not sort by "
                 "speaker; Kaldi convention is '<speaker>-<rest>')")


def _warn_mixed_gender(dd: DataDir, files: Files, u2s: Mapping[str, str], rep: _Report) -> None:
    """A speaker with utterances of more than one gender (a warning)."""
    if "utt2gender" not in files:
        return
    g: Dict[str, Set[str]] = {}
    for u, v in files["utt2gender"].items():
        if u in u2s:
            g.setdefault(u2s[u], set()).add(v)
    mixed = sorted((s for s, vs in g.items() if len(vs) > 1))
    if mixed:
        rep.warn(f"{dd.name('utt2gender')}: {len(mixed)} speaker(s) with more than one "
                 f"gender: {_some(mixed)}")


def _rule_fold_lists(dd: DataDir, u2s: Mapping[str, str], rep: _Report) -> None:
    """Fold lists under cv/ name valid, known utterances, each once."""
    for rel, lines in dd.cv.items():
        name = dd.name(f"{CV_DIR}/{rel}")
        seen: Dict[str, int] = {}
        for lineno, ln in enumerate(lines, 1):
            bad = None if ln.isprintable() else _key_error(name, lineno, ln)
            k = ln.split()[0] if not bad else ""
            if bad:
                rep.error(bad, (name, "bad ids"))
            elif k not in u2s:
                rep.error(f"{name}:{lineno}: '{k}': utterance not in utt2spk",
                          (name, "unknown utterances"))
            elif k in seen:
                rep.error(f"{name}:{lineno}: '{k}': listed twice (first on line {seen[k]})",
                          (name, "duplicates"))
            seen.setdefault(k, lineno)


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
    skip |= {n for n, on in (("wav.scp", check_wav), ("feats.scp", check_feats),
                             ("text", check_text)) if not on}
    files = {n: m for n, m in dd.files.items() if n not in skip}
    _rule_required_files(dd, present, files, rep, need_wav=need_wav, need_feats=need_feats,
                         need_spk2utt=need_spk2utt, require=require)
    if not _rule_has_utterances(dd, files, rep):
        rep.finish()
        return rep
    u2s = files["utt2spk"]
    _rule_values(dd, files, rep, _label_inventory(dd, files, rep, classes, check_labels))
    _rule_utterance_files(dd, files, u2s, rep)
    if "segments" not in skip:   # unreadable segments: recording keys would not match
        _rule_recordings(dd, files, u2s, rep)
    if check_paths:
        _rule_paths_exist(dd, files, rep)
    derived = utt2spk_to_spk2utt(u2s)
    _rule_spk2utt(dd, files, derived, rep)
    _rule_speaker_files(dd, files, derived, rep)
    if spk_prefix_warning:
        _warn_speaker_prefix(dd, u2s, rep)
    _warn_mixed_gender(dd, files, u2s, rep)
    _rule_fold_lists(dd, u2s, rep)
    rep.finish()
    return rep


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


def _load_checked(path: PathLike, check_labels: bool = True) -> DataDir:
    """Load a data dir and check its consistency (no file-existence or wav requirements)."""
    dd = load_data_dir(path)
    _raise_if(check_data_dir(dd, check_labels=check_labels), f"{path} is not a valid data "
              "directory (see utils/validate_data_dir.sh, utils/fix_data_dir.sh)")
    return dd
