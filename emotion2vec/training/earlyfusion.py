"""Early fusion: several feature directories into one utterance head (steps/train_cv.sh
`<feat-dir>` = `feats/a,feats/b[,...]`).

Each set is validated as a single feature directory is (every labelled utterance present and
readable), pooled per utterance with the head's pooling (utterance-level sets are used as they
are, as heads/pooling.resolve_pooling does), and the pooled vectors are concatenated in
argument order into one plain float ark of [1, D_total] rows, `<exp>/feats_fused/`.  Its
feat_info.json (feat_type `fusion`, granularity `utterance`) lists the components with their
column ranges, and records a fingerprint of the inputs: a rerun with the same inputs reuses the
ark, re-extracted features rebuild it (and so retrain the folds: training/foldstate.py hashes
that fingerprint).  The per-set normalisation is the utterance heads' per-column
z-normalisation with training-fold statistics, or `--normalize speaker`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.fingerprint import update_with_files
from emotion2vec.heads.defaults import feature_default
from emotion2vec.heads.pooling import PooledInput, Pooling, resolve_pooling
from emotion2vec.heads.registry import head_class, head_names
from emotion2vec.training.expdir import log
from emotion2vec.training.featureset import FeatureSet, open_feature_dir, scp_arks, write_plain

FEAT_TYPE = "fusion"
FUSED_DIR = "feats_fused"


def split_feat_dirs(arg) -> List[Path]:
    """The feature directories of a `<feat-dir>` argument: one, or a comma-separated list."""
    parts = [p.strip() for p in str(arg).split(",")]
    if not all(parts):
        raise E2VError(f"<feat-dir> '{arg}': an empty name in the comma-separated list")
    dirs = [Path(p).resolve() for p in parts]
    dup = next((d for i, d in enumerate(dirs) if d in dirs[:i]), None)
    if dup is not None:
        raise E2VError(f"<feat-dir> '{arg}': {dup} is listed twice")
    return dirs


def utterance_heads() -> List[str]:
    return [n for n in head_names() if issubclass(head_class(n), PooledInput)]


def check_head(head: str, dirs: Sequence[Path]) -> None:
    if not issubclass(head_class(head), PooledInput):
        raise E2VError(f"head '{head}' works on the frames of one feature set; early fusion "
                       f"({len(dirs)} feature directories: {', '.join(map(str, dirs))}) "
                       "concatenates one pooled vector per utterance and set, so it needs an "
                       f"utterance head ({', '.join(utterance_heads())})")


@dataclass
class Component:
    feat_dir: Path
    fs: FeatureSet          # the scp training reads (a converted copy where needed)
    feat_info: Dict
    level: str              # frame | utterance (what the entries hold)


def open_components(dirs: Sequence[Path], utts: Sequence[str], exp: Path) -> List[Component]:
    """Each set validated as a single feature directory is; errors name the set."""
    out = []
    for i, d in enumerate(dirs, 1):
        what = f"early fusion: feature set {i} of {len(dirs)} ({d})"
        try:
            fs, _, info, level = open_feature_dir(d, utts, exp / FUSED_DIR / f"set{i}")
        except E2VError as e:
            raise E2VError(f"{what}: {e}") from None
        out.append(Component(d, fs, info, level))
    return out


def default_basis(comps: Sequence[Component]) -> Tuple[Dict, str]:
    """(feat_info, granularity) whose heads/defaults.py row picks the head when --head is
    left: the first set's, as utterance vectors where its own row is a frame head."""
    info = dict(comps[0].feat_info)
    gran = info.get("granularity") or comps[0].level
    if not issubclass(head_class(feature_default(info.get("feat_type"), gran).head), PooledInput):
        gran = "utterance"
    info["granularity"] = gran
    return info, gran


def _name(fi: Dict, pool: Pooling) -> str:
    """A set in a few words, for reports ('emotion2vec layer last, mean+std')."""
    layer = fi.get("layer") if fi.get("model") else None
    return ((fi.get("feat_type") or "?") + (f" layer {layer}" if layer not in (None, "") else "")
            + (", utterance vectors" if pool.passthrough else f", {pool.spec}"))


def fused_info(comps: Sequence[Component], pooling: str) -> Dict:
    """The fused features' feat_info: components with their pooled dims and column ranges."""
    parts, start = [], 0
    for c in comps:
        pool = resolve_pooling(pooling, c.feat_info, lambda c=c: c.level == "utterance")
        n = pool.dim(c.fs.dim)
        parts.append({"feat_dir": str(c.feat_dir), "feats_scp": str(c.feat_dir / "feats.scp"),
                      "read_scp": str(c.fs.scp), "feat_info": c.feat_info, "level": c.level,
                      "dim": c.fs.dim, "pooling": pool.spec, "used_as_is": pool.passthrough,
                      "pooled_dim": n, "columns": [start, start + n],
                      "name": _name(c.feat_info, pool)})
        start += n
    rates = {c.feat_info.get("sample_rate") for c in comps} - {None}
    info = {"feat_type": FEAT_TYPE, "granularity": "utterance", "dim": start,
            "components": parts}
    if len(rates) == 1:
        info["sample_rate"] = rates.pop()
    return info


def inputs_fingerprint(info: Dict, utts: Sequence[str]) -> str:
    """What the fused ark is made of: the utterances, each component's record (pooling,
    columns), its scp bytes and the size and time of every ark it points at."""
    h = hashlib.sha256(json.dumps(info["components"], sort_keys=True).encode())
    h.update(("\n".join(sorted(utts)) + "\n").encode())
    for c in info["components"]:   # the sets themselves: a converted copy is remade each run
        scp = Path(c["feats_scp"])
        if not scp.is_file():
            raise E2VError(f"{scp}: no such file (a feature set of this early fusion is gone)")
        h.update(scp.read_bytes())
        update_with_files(h, scp_arks(scp))
    return h.hexdigest()


def build(comps: Sequence[Component], info: Dict, utts: Sequence[str], out_dir: Path) -> Path:
    """Write the fused ark (or keep the one made from the same inputs); returns its scp."""
    out_dir = Path(out_dir)
    fp = inputs_fingerprint(info, utts)
    scp, rec = out_dir / "feats.scp", _read_record(out_dir)
    if rec.get("inputs") == fp and scp.is_file() and (out_dir / "feats.ark").is_file():
        log(f"early fusion: {out_dir} is up to date ({len(comps)} sets, {info['dim']} values "
            "per utterance)")
        return scp
    # The record goes first, so an interrupted build never counts as made from these inputs.
    (out_dir / "feat_info.json").unlink(missing_ok=True)
    pools = [Pooling(c["pooling"], c["used_as_is"]) for c in info["components"]]
    rows = ((u, np.concatenate([p(c.fs[u]) for p, c in zip(pools, comps)])[None, :])
            for u in utts)
    try:
        write_plain(out_dir, rows)
    finally:
        for c in comps:
            c.fs.close()
    atomic_write_text(out_dir / "feat_info.json",
                      json.dumps({**info, "inputs": fp}, indent=2) + "\n")
    log(f"early fusion: wrote {out_dir}: " + " + ".join(
        f"{c['name']} ({c['pooled_dim']})" for c in info["components"])
        + f" = {info['dim']} values per utterance")
    return scp


def _read_record(out_dir: Path) -> Dict:
    try:
        rec = json.loads((out_dir / "feat_info.json").read_text())
    except (OSError, ValueError):
        return {}
    return rec if isinstance(rec, dict) else {}


def current_fingerprint(exp: Path, settings: Dict, utts: Sequence[str]) -> Optional[str]:
    """For a fold job: the input fingerprint of the experiment's fused ark (None: no early
    fusion here), checked against the feature sets as they are now."""
    fused = Path(exp).resolve() / FUSED_DIR
    if Path(settings["feats_scp"]).resolve() != fused / "feats.scp":
        return None   # one feature set (perhaps another experiment's fused one, as it is)
    info = settings.get("feat_info") or {}
    fp = inputs_fingerprint(info, utts)
    if _read_record(fused).get("inputs") != fp:
        raise E2VError(f"{fused}: the feature sets of this early fusion changed since it was "
                       "built (or its build did not finish); rerun steps/train_cv.sh, whose "
                       "prepare step rebuilds it")
    return fp


__all__ = ["FEAT_TYPE", "FUSED_DIR", "split_feat_dirs", "check_head", "open_components",
           "default_basis", "fused_info", "build", "inputs_fingerprint", "current_fingerprint"]
