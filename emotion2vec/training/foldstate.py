"""When a fold of a cross-validation experiment counts as done, and for which inputs.

A fold's `.done` (and each seed's) records the fingerprint of what training read: the
experiment's label and fold lists, the bytes of the feature scp and the size and time of every
archive it points at, and the speakers (speaker normalisation reads them); with early fusion
also the fingerprint of the feature sets the fused ark was made from (training/earlyfusion.py).
A rerun skips a fold only when that fingerprint is unchanged; features re-extracted from a
replaced wav, a rewritten archive or another utt2spk retrain the fold.  While a fold trains,
its job holds `fold<k>/.lock` (see emotion2vec.locks): a leftover job of an earlier run makes
a new one wait.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from emotion2vec.datadir import read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.fingerprint import update_with_files
from emotion2vec.training import earlyfusion
from emotion2vec.training.featureset import scp_arks

DONE = ".done"


def inputs_fingerprint(exp: Path, settings: Dict) -> str:
    """The fingerprint of what the folds of `exp` are trained and tested on."""
    h = hashlib.sha256(settings.get("lists_sha256", "").encode())
    scp = Path(settings["feats_scp"])
    if not scp.is_file():
        raise E2VError(f"{scp}: no such file (the experiment's features are gone)")
    h.update(scp.read_bytes())
    update_with_files(h, scp_arks(scp))
    for name in ("utt2label",):
        h.update((exp / name).read_bytes())
    # Early fusion: the fused ark's record of its feature sets, checked against them as they
    # are now (a set re-extracted since the last prepare is refused, not trained on stale data).
    fused = earlyfusion.current_fingerprint(exp, settings, list(read_kv(exp / "utt2label")))
    if fused:
        h.update(fused.encode())
    spk = Path(settings["data_dir"]) / "utt2spk"
    if spk.is_file():
        h.update(spk.read_bytes())
    return h.hexdigest()


def read_done(d: Path) -> Optional[Dict]:
    try:
        text = (d / DONE).read_text()
    except FileNotFoundError:
        return None
    try:
        rec = json.loads(text) if text.strip() else {}
    except ValueError:
        rec = {}
    return rec if isinstance(rec, dict) else {}


def is_done(d: Path, fingerprint: str) -> bool:
    rec = read_done(d)
    return rec is not None and rec.get("inputs") == fingerprint


def stale_reason(d: Path, fingerprint: str) -> Optional[str]:
    """Why a marker in `d` no longer counts (None: there is none, or it counts)."""
    rec = read_done(d)
    if rec is None or rec.get("inputs") == fingerprint:
        return None
    if "inputs" not in rec:
        return "it was made by an older version that recorded no input fingerprint"
    return "its inputs changed since (features, labels, fold lists or speakers)"


def clean_fold(out: Path, fingerprint: str) -> None:
    """Before a fold (re)trains: remove seed outputs without a marker for these inputs."""
    if (out / DONE).is_file() and not is_done(out, fingerprint):
        (out / DONE).unlink()
    for sdir in sorted(out.glob("seed*")):
        if sdir.is_dir() and not is_done(sdir, fingerprint):
            shutil.rmtree(sdir)


def verify_seed(sdir: Path, test: Sequence[str]) -> None:
    """Read back one seed's outputs before it is marked done: every test utterance predicted
    once, the head's files present."""
    for name in ("head.json", "predictions"):
        if not (sdir / name).is_file():
            raise E2VError(f"{sdir}: {name} was not written")
    keys: List[str] = [ln.split()[0] for ln in (sdir / "predictions").read_text().splitlines()
                       if ln.strip() and not ln.startswith("#")]
    if sorted(keys) != sorted(test) or len(set(keys)) != len(keys):
        raise E2VError(f"{sdir}/predictions holds {len(keys)} prediction(s), the fold tests "
                       f"{len(test)} utterances")


def mark_done(d: Path, fingerprint: str, **extra) -> None:
    atomic_write_text(d / DONE, json.dumps({"inputs": fingerprint, **extra}) + "\n")


__all__ = ["inputs_fingerprint", "read_done", "is_done", "stale_reason", "clean_fold",
           "verify_seed", "mark_done"]
