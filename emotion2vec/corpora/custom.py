"""Your own Kaldi data dir (e.g. from an ASR recipe) -> a checked data dir for this toolkit.

    python -m emotion2vec.corpora.custom [--utt2emo FILE] [--classes FILE] <src-data-dir> <out-dir>

The source is validated as it is (errors name its own files and lines) and never modified.
Labels come from --utt2emo (any order; every line is checked against the source's utterances
and the inventory, errors naming that file and line), else from the source's utt2emo, else
there are none (inference only); --label-map merges labels (`<from> <to>` lines).  The inventory: --classes, else the source's emotions.txt,
else the labels found, sorted.  feats.scp and utt2num_frames of the source describe other
features and are left out.  The result is built beside <out-dir>, validated, then put in its
place; an existing <out-dir> is replaced only when it holds nothing but data-dir files, and
never when it is (or holds) the source.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional

from emotion2vec.corpora import common as pc
from emotion2vec.datadir import (DataDir, c_sort_key, load_data_dir, read_classes,
                                 validate_data_dir)
from emotion2vec.errors import E2VError
from emotion2vec.fileio import replace_dir
from emotion2vec.fingerprint import wav_entry_files

PROG = "corpora.custom"
NOT_CARRIED = ("feats.scp", "utt2num_frames")


def read_user_labels(path: Path, utts: Dict[str, str], src: Path, inventory: Optional[List[str]],
                     inv_name: str, lmap: Dict[str, str]) -> "OrderedDict[str, str]":
    """`<utt> <label>` lines in any order, labels merged by `lmap`: each line checked, errors
    naming `path:line`."""
    labels: Dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise E2VError(f"{path}: not UTF-8 text ({e})") from None
    for lineno, line in enumerate(lines, 1):
        f = line.split()
        if not f:
            continue
        where = f"{path}:{lineno}"
        if len(f) != 2:
            raise E2VError(f"{where}: want '<utterance> <label>', got {line!r}")
        if f[0] in labels:
            raise E2VError(f"{where}: utterance '{f[0]}' labelled twice")
        if f[0] not in utts:
            raise E2VError(f"{where}: utterance '{f[0]}' is not in {src}/utt2spk")
        lab = lmap.get(f[1], f[1])
        if inventory is not None and lab not in inventory:
            raise E2VError(f"{where}: utterance '{f[0]}' has label '{f[1]}'"
                           + (f" (mapped to '{lab}')" if lab != f[1] else "")
                           + f", not in the class inventory {inv_name} {inventory}")
        labels[f[0]] = lab
    missing = [u for u in utts if u not in labels]
    if missing:
        raise E2VError(f"{path}: no label for {len(missing)} of the {len(utts)} utterances of "
                       f"{src}, e.g. {' '.join(missing[:3])} (keep only the labelled ones "
                       "with utils/subset_data_dir.sh --utt-list first)")
    return OrderedDict(sorted(labels.items(), key=lambda kv: c_sort_key(kv[0])))


def build(src: Path, utt2emo: Optional[Path], classes: Optional[Path],
          lmap: Dict[str, str]) -> DataDir:
    if not (src / "wav.scp").is_file() or not (src / "utt2spk").is_file():
        raise E2VError(f"{src}: must be a Kaldi data dir with wav.scp and utt2spk (and "
                       "segments when wav.scp holds recordings)")
    if classes is None and (src / "emotions.txt").is_file():
        classes = src / "emotions.txt"
    inventory = read_classes(classes) if classes is not None else None
    # The source's own utt2emo is checked here (against --classes too) unless replaced (or
    # relabelled: then it is checked once merged, below).
    own_labels = utt2emo is None and (src / "utt2emo").is_file()
    if own_labels and lmap:
        utt2emo = src / "utt2emo"
    for w in validate_data_dir(src, no_feats=True,
                               classes=classes if utt2emo is None else None):
        pc.warn(w)
    dd = load_data_dir(src)
    dropped = [n for n in NOT_CARRIED if dd.files.pop(n, None) is not None]
    if dropped:
        print(f"{PROG}: not carried over: {' '.join(dropped)} (other features)", file=sys.stderr)
    if utt2emo is not None:
        dd.files["utt2emo"] = read_user_labels(utt2emo, dd.utt2spk, src, inventory, str(classes),
                                               lmap)
    if inventory is None and "utt2emo" in dd.files:
        inventory = sorted(set(dd.files["utt2emo"].values()), key=c_sort_key)
    if inventory is not None:
        dd.verbatim["emotions.txt"] = "".join(c + "\n" for c in inventory)
    return dd


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utt2emo", help="'<utt> <label>' file, any order (default: the source's)")
    p.add_argument("--classes", help="class inventory, one per line (default: see above)")
    p.add_argument("--label-map", help="'<from> <to>' label merges (e.g. 'exc hap')")
    p.add_argument("src")
    p.add_argument("out")
    a = p.parse_args(argv)
    src, out = Path(a.src), Path(a.out)
    inputs = [src] + [Path(f) for f in (a.utt2emo, a.classes, a.label_map) if f]
    for f in inputs[1:]:
        if not f.is_file():
            raise E2VError(f"no such file: {f}")
    dd = build(src, Path(a.utt2emo) if a.utt2emo else None,
               Path(a.classes) if a.classes else None, pc.read_label_map(a.label_map))
    tmp = out.parent / f".{out.name}.tmp{os.getpid()}"
    try:
        dd.write(tmp)
        pc.validate(tmp, tmp / "emotions.txt" if "utt2emo" in dd.files else None)
        audio = [f for v in dd.files["wav.scp"].values() for f in wav_entry_files(v)]
        replace_dir(tmp, out, replaceable=pc.foreign_entry, inputs=inputs + audio)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    n = len(dd.utts)
    if "utt2emo" in dd.files:
        print(f"{PROG}: {n} utterances -> {out}; classes: "
              f"{dd.verbatim['emotions.txt'].split()}")
    else:
        print(f"{PROG}: {n} utterances -> {out} (no labels: inference only)")
    return 0


if __name__ == "__main__":
    pc.run(main, PROG)
