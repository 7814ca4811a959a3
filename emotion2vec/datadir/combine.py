"""`utils/copy_data_dir.sh` (a copy with utterance and speaker ids renamed, so that corpora
can be combined) and `utils/combine_data.sh` (the union of several data dirs)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence

from emotion2vec.datadir.kvfiles import _classes_from_lines
from emotion2vec.datadir.layout import (CV_DIR, CV_INFO, VERBATIM_FILES, DataDir, _emit,
                                        _same_dir, file_kind)
from emotion2vec.datadir.validate import _clip, _load_checked, check_data_dir
from emotion2vec.datadir.values import _raise_if
from emotion2vec.errors import DataDirError
from emotion2vec.fileio import PathLike

Rename = Callable[[str], str]


def _renamed(dd: DataDir, dest: PathLike, umap: Rename, smap: Rename) -> DataDir:
    """A copy of `dd` with utterances (and recordings) renamed by `umap`, speakers by `smap`."""
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
    out = _renamed(dd, dest, lambda u: f"{utt_prefix}{u}{utt_suffix}",
                   lambda s: f"{spk_prefix}{s}{spk_suffix}")
    before = sum(1 for u, s in dd.utt2spk.items() if u.startswith(s))
    after = sum(1 for u, s in out.utt2spk.items() if u.startswith(s))
    if after < before:
        _emit(log, f"warning: {before - after} utterance id(s) no longer start with their speaker "
                   "id; use the same --utt-prefix and --spk-prefix to keep that convention")
    # No second check of the copy: renaming is one-to-one, so the checked source stays valid.
    out.write(dest, log=log)
    _emit(log, f"copied {len(out.utts)} utterances: {src} -> {dest}")
    return out


def _merge_file(fname: str, dds: Sequence[DataDir]) -> "OrderedDict[str, str]":
    """One file of the union: an utterance in two sources, or a recording or speaker with
    different entries, is an error."""
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
    return OrderedDict((k, merged[k]) for k in sorted(merged))


def _merge_verbatim(dds: Sequence[DataDir]) -> Dict[str, str]:
    """emotions.txt and frame_shift, which must agree across the sources (cv_info.txt is left
    out: it describes one source's folds)."""
    out: Dict[str, str] = {}
    for fname in VERBATIM_FILES:
        have = [(dd.path, dd.verbatim[fname]) for dd in dds if fname in dd.verbatim]
        if not have or fname == CV_INFO:
            continue
        for p, text in have[1:]:
            if fname == "emotions.txt":
                a = _classes_from_lines(have[0][1].splitlines(), str(have[0][0] / fname))
                b = _classes_from_lines(text.splitlines(), str(p / fname))
                if a != b:
                    raise DataDirError(
                        f"class inventories differ: {have[0][0] / fname} ({' '.join(a)}) vs "
                        f"{p / fname} ({' '.join(b)}); map the labels to one inventory first")
            elif text != have[0][1]:
                raise DataDirError(f"{fname} differs between {have[0][0]} and {p}")
        out[fname] = have[0][1]
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
        lacking: List[str] = [str(dd.path) for dd in dds if fname not in dd.files]
        if lacking:
            msg = f"{fname} is in some sources but not in {', '.join(lacking)}"
            if fname in ("utt2spk", "segments", "wav.scp") or not drop_partial_files:
                raise DataDirError(msg + ("" if fname in ("utt2spk", "segments", "wav.scp") else
                                          " (--drop-partial-files true drops it from the result)"))
            _emit(log, f"warning: {msg}: not in the result")
            continue
        out.files[fname] = _merge_file(fname, dds)
    out.verbatim = _merge_verbatim(dds)
    if any(dd.cv or CV_INFO in dd.verbatim for dd in dds):
        _emit(log, f"note: {CV_DIR}/ fold lists (and {CV_INFO}) of the sources are not carried "
                   "(each describes one source)")
    _raise_if(check_data_dir(out), f"combination of {', '.join(map(str, srcs))} is inconsistent")
    out.write(dest, log=log)
    _emit(log, f"combined {len(out.utts)} utterances from {len(srcs)} source(s) into {dest}")
    return out
