"""Shared plumbing of the corpus preparation modules (emotion2vec.corpora).

Each `python -m emotion2vec.corpora.<corpus>` reads one corpus in its real layout and calls `write_data_dir`,
which writes a complete Kaldi data directory in one go (built beside the target, validated,
then renamed into place: a crash never leaves a half-written data dir that a rerun would use).

Naming rule shared by every corpus: an utterance id is `<speaker>-<original name>`, so the
corpus's own name is always `utt[len(spk) + 1:]` (see `original_name`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence

from emotion2vec.datadir import (CV_DIR, VERBATIM_FILES, c_sort_key, file_kind, read_classes,
                                 utt2spk_to_spk2utt, validate_data_dir, write_kv)
from emotion2vec.errors import DataDirError, E2VError
from emotion2vec.fileio import atomic_write_text, replace_dir
from emotion2vec.fingerprint import wav_entry_files
from emotion2vec.labels import read_label_map  # noqa: F401  (pc.read_label_map)


def original_name(utt: str, spk: str) -> str:
    """The corpus's own name of an utterance (the id without its `<speaker>-` prefix)."""
    prefix = spk + "-"
    return utt[len(prefix):] if utt.startswith(prefix) else utt


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", file=sys.stderr)


def check_counts(corpus: str, what: str, found: Mapping[str, int],
                 published: Optional[Mapping[str, int]], strict: bool) -> List[str]:
    """Print found vs published counts; a mismatch is a warning (an error when `strict`).

    Returns the mismatch messages (empty when everything matches or nothing is published).
    """
    keys = sorted(set(found) | set(published or {}), key=c_sort_key)
    print(f"{corpus}: {what}:")
    mismatches = []
    for k in keys:
        f = found.get(k, 0)
        if published is None:
            print(f"  {k:<12} {f:>6}")
            continue
        p = published.get(k)
        mark = "" if p == f else "   <-- differs"
        print(f"  {k:<12} {f:>6}  (published {p if p is not None else '-'}){mark}")
        if p != f:
            mismatches.append(f"{corpus}: {what} '{k}': found {f}, published "
                              f"{p if p is not None else 'none'}")
    if published is not None:
        ft, pt = sum(found.values()), sum(published.values())
        print(f"  {'total':<12} {ft:>6}  (published {pt})")
    if mismatches:  # one line per table: a look-alike or partial corpus differs everywhere
        more = f" (and {len(mismatches) - 1} more in this table)" if len(mismatches) > 1 else ""
        if strict:
            raise E2VError(mismatches[0] + more + " (--strict)")
        warn(mismatches[0] + more)
    return mismatches


def check_total(corpus: str, what: str, found: int, published: int, strict: bool) -> None:
    print(f"{corpus}: {what}: {found} (published {published})")
    if found != published:
        msg = f"{corpus}: {what}: found {found}, published {published}"
        if strict:
            raise E2VError(msg + " (--strict)")
        warn(msg)


def validate(data_dir: Path, classes_file: Optional[Path]) -> None:
    """The shared validator (as utils/validate_data_dir.sh); its warnings are printed."""
    try:
        warnings = validate_data_dir(data_dir, no_feats=True, classes=classes_file)
    except DataDirError as e:
        raise DataDirError(f"the prepared data dir is not valid:\n{e}") from None
    for w in warnings:
        warn(w)


def foreign_entry(d: Path) -> Optional[str]:
    """What in `d` is not part of a data directory (None: `d` may be replaced by a new one)."""
    for p in sorted(d.iterdir()):
        n = p.name
        if p.is_file() and (file_kind(n) or n in VERBATIM_FILES or n.startswith(".")):
            continue
        if p.is_dir() and (n in (CV_DIR, ".backup") or re.fullmatch(r"split\d+(utt)?", n)):
            continue
        return f"it holds '{n}', which is not part of a data directory"
    return None


def write_data_dir(out_dir: str | Path, *, wav_scp: Mapping[str, str],
                   utt2spk: Mapping[str, str], utt2emo: Optional[Mapping[str, str]],
                   spk2gender: Optional[Mapping[str, str]], classes: Sequence[str],
                   segments: Optional[Mapping[str, str]] = None,
                   extra: Optional[Mapping[str, Mapping[str, str]]] = None,
                   cv: Optional[Mapping[str, Mapping[str, Iterable[str]]]] = None,
                   info: Optional[str] = None) -> Path:
    """Write a complete data dir atomically and validate it.

    An existing `out_dir` is replaced only when it holds nothing but data-dir files, and never
    when it is or holds the audio the data dir names (see emotion2vec.fileio.replace_dir).
    `extra`: more utterance-keyed files (utt2session, utt2fold, utt2avd ...).
    `cv`: fold name -> {"train"|"valid"|"test": utterance ids} written as cv/<fold>/<part>.
    utt2gender is derived from spk2gender (None: no gender files); spk2utt from utt2spk.
    """
    out = Path(out_dir)
    if not utt2spk:
        raise E2VError(f"{out}: no utterances left to write (check the corpus folder and options)")
    for utt, spk in utt2spk.items():
        if not utt.startswith(spk + "-") and utt != spk:
            raise E2VError(f"utterance '{utt}' does not start with its speaker id '{spk}-'")
    tmp = out.parent / f".{out.name}.tmp{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        write_kv(tmp / "wav.scp", wav_scp)
        if segments is not None:
            write_kv(tmp / "segments", segments)
        write_kv(tmp / "utt2spk", utt2spk)
        write_kv(tmp / "spk2utt", utt2spk_to_spk2utt(utt2spk))
        if utt2emo is not None:
            write_kv(tmp / "utt2emo", utt2emo)
        if spk2gender is not None:  # None: the corpus does not say (EmoBox)
            missing = sorted({s for s in utt2spk.values() if s not in spk2gender})
            if missing:
                raise E2VError(f"no gender known for speaker(s) {', '.join(missing[:5])}")
            write_kv(tmp / "spk2gender", {s: spk2gender[s] for s in set(utt2spk.values())})
            write_kv(tmp / "utt2gender", {u: spk2gender[s] for u, s in utt2spk.items()})
        for name, mapping in (extra or {}).items():
            write_kv(tmp / name, mapping)
        atomic_write_text(tmp / "emotions.txt", "".join(f"{c}\n" for c in classes))
        for fold, parts in (cv or {}).items():
            for part, utts in parts.items():
                utts = sorted(set(utts), key=c_sort_key)
                bad = [u for u in utts if u not in utt2spk]
                if bad:
                    raise E2VError(f"cv/{fold}/{part}: utterance '{bad[0]}' is not in the data dir")
                atomic_write_text(tmp / "cv" / fold / part, "".join(f"{u}\n" for u in utts))
        if info and cv:  # how the splits were made (seeds included); cv/ holds lists only
            atomic_write_text(tmp / "cv_info.txt", info)
        validate(tmp, tmp / "emotions.txt" if utt2emo is not None else None)
        audio = [f for v in wav_scp.values() for f in wav_entry_files(v)]
        replace_dir(tmp, out, replaceable=foreign_entry, inputs=audio)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def report_classes_and_speakers(corpus: str, utt2emo: Mapping[str, str],
                                utt2spk: Mapping[str, str],
                                published_classes: Optional[Mapping[str, int]],
                                published_speakers: Optional[Mapping[str, int]],
                                strict: bool) -> None:
    check_counts(corpus, "utterances per class", Counter(utt2emo.values()),
                 published_classes, strict)
    check_counts(corpus, "utterances per speaker", Counter(utt2spk.values()),
                 published_speakers, strict)


def load_classes(path: str | Path) -> List[str]:
    return read_classes(path)


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--strict", action="store_true",
                   help="counts that differ from the published ones are an error, not a warning")
    return p


def run(main, prog: str) -> None:
    """Entry point: E2VError -> one line on stderr, exit 1 (as emotion2vec.bin does)."""
    from emotion2vec.bin._cli import run_main
    run_main(main, prog)
