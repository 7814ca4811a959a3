"""The files of a cross-validation experiment directory.

Layout of `<exp>`:
    settings.json          every setting (checked on rerun: a changed setting is refused)
    classes.txt utt2label  class inventory and the (mapped) label of every utterance used
    dropped_utts           utterances left out by --drop-unlisted (with their labels), if any
    folds/fold<k>/{train,valid,test}   utterance lists; folds/plan.json (protocol, held-out set)
    fold<k>/seed<s>/       head.json + head.safetensors, predictions, train.json, .done
    fold<k>/.done          the fold is complete for the recorded inputs (reruns skip it; other
                           features or lists retrain it: see training/foldstate.py)
    fold<k>/.lock          held by the job training the fold
    results.json predictions summary.md confusion.{txt,png} [missing_utts]

Written by training/experiment.py (prepare, run_fold) and training/results.py (merge).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Sequence

from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def write_list(path: Path, utts: Sequence[str]) -> None:
    atomic_write_text(path, "".join(u + "\n" for u in utts))


def read_list(path: Path) -> List[str]:
    return [line.split()[0] for line in open(path, encoding="utf-8") if line.strip()]


def load_settings(exp) -> Dict:
    p = Path(exp) / "settings.json"
    if not p.is_file():
        raise E2VError(f"{p}: not found (run the preparation step of steps/train_cv.sh first)")
    return json.loads(p.read_text())


__all__ = ["log", "write_list", "read_list", "load_settings"]
