"""Late fusion: the test posteriors of several cross-validation experiments (steps/train_cv.sh)
combined per utterance and scored by the code that scores one experiment (report.score_folds,
write_reports), so the fused system gets the same results.json, summary.md, per-fold spread and
bootstrap CI.

The systems must test the same utterances in the same folds with the same labels and class set
(their training and validation lists may differ: each system's fold-k heads never saw fold k's
test utterances, which is all fusion needs).  Every test utterance needs a posterior from every
system: a missing one is an error naming the system, file and utterance (an experiment made by
train_cv.sh always has them all; a hole means a damaged or edited directory, and averaging over
the systems that happen to have a posterior would silently score another system).

Seeds: systems with the same seed list are fused seed by seed (seed s of the fused system
combines seed s of each), giving the per-seed spread as for one system; otherwise each system's
seeds are first averaged (arithmetic mean of posteriors, its seed ensemble, as steps/infer.sh
averages heads) and the fused system has one "seed", `mean`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.datadir import c_sort_key, read_classes, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.locks import busy, lock_fd
from emotion2vec.metrics import MISSING
from emotion2vec.report import score_folds, summary_markdown, write_predictions, write_reports
from emotion2vec.training import foldstate
from emotion2vec.training.expdir import load_settings, read_list

METHODS = ("mean", "geometric")
DEFAULT_METHOD = "mean"
# Posteriors are read from files written with 6 decimals, where 0.000000 means "below 5e-7";
# the geometric mean floors them here so that a rounded 0 does not veto a class outright.
FLOOR = 1e-6
SEED_MEAN = "mean"


@dataclass
class System:
    """One experiment directory made by steps/train_cv.sh, as fusion reads it."""
    name: str                  # as the user gave it
    path: Path
    settings: Dict
    plan: Dict
    classes: List[str]         # classes.txt
    labels: Dict[str, str]     # utt2label
    tests: List[List[str]]     # per fold, folds/<fold>/test
    warnings: List[str]        # of its own results.json


def load_system(exp_dir) -> System:
    """Read an experiment's settings, classes, labels and fold lists; refuse one still
    training or never merged."""
    path = Path(exp_dir).resolve()
    if not path.is_dir():
        raise E2VError(f"{exp_dir}: no such experiment directory")
    s = load_settings(path)
    holder = busy(path / ".lock")
    if holder:
        raise E2VError(f"{exp_dir}: steps/train_cv.sh is running in it ({holder}); fuse it "
                       "when it has finished")
    if not (path / "results.json").is_file():
        raise E2VError(f"{exp_dir}: no results.json: its training has not finished (rerun "
                       "steps/train_cv.sh to the end)")
    plan = json.loads((path / "folds" / "plan.json").read_text())
    tests = []
    for meta in plan["folds"]:
        fold = path / meta["fold"]
        if busy(fold / ".lock") or foldstate.read_done(fold) is None:
            raise E2VError(f"{exp_dir}: {meta['fold']} is not finished (no {fold / '.done'}, "
                           "or a job still training it); rerun steps/train_cv.sh")
        tests.append(read_list(path / "folds" / meta["fold"] / "test"))
    results = json.loads((path / "results.json").read_text())
    return System(str(exp_dir), path, s, plan, read_classes(path / "classes.txt"),
                  dict(read_kv(path / "utt2label")), tests, list(results.get("warnings", [])))


def _some(utts: Sequence[str]) -> str:
    shown = ", ".join(f"'{u}'" for u in sorted(utts, key=c_sort_key)[:3])
    return shown + (" ..." if len(utts) > 3 else "")


def check_compatible(systems: Sequence[System]) -> List[str]:
    """Refuse systems that do not test the same utterances in the same folds with the same
    labels and classes (the message names what differs); returns notes for the report."""
    a = systems[0]
    notes = []
    for b in systems[1:]:
        if set(b.classes) != set(a.classes):
            raise E2VError(f"the systems have different classes: {a.name} (classes.txt: "
                           f"{' '.join(a.classes)}) vs {b.name} ({' '.join(b.classes)})")
        if b.classes != a.classes:
            notes.append(f"{b.name} lists the classes in another order "
                         f"({' '.join(b.classes)}); its posteriors are matched by class name")
        if len(b.tests) != len(a.tests):
            raise E2VError(f"the systems have different folds: {a.name} has {len(a.tests)} "
                           f"({a.plan['protocol']}), {b.name} has {len(b.tests)} "
                           f"({b.plan['protocol']})")
        for meta, ta, tb in zip(a.plan["folds"], a.tests, b.tests):
            only_a, only_b = set(ta) - set(tb), set(tb) - set(ta)
            if only_a or only_b:
                raise E2VError(
                    f"the systems have different folds: {meta['fold']} tests other utterances "
                    f"in {a.name} and {b.name} (folds/{meta['fold']}/test: {len(only_a)} only "
                    f"in the first{', e.g. ' + _some(only_a) if only_a else ''}; {len(only_b)} "
                    f"only in the second{', e.g. ' + _some(only_b) if only_b else ''})")
        for u in (u for t in a.tests for u in t):
            if a.labels.get(u) != b.labels.get(u):
                raise E2VError(f"the systems label utterance '{u}' differently: "
                               f"'{a.labels.get(u)}' in {a.name}/utt2label, "
                               f"'{b.labels.get(u)}' in {b.name}/utt2label")
        if b.settings.get("lists_sha256") != a.settings.get("lists_sha256"):
            notes.append(f"{b.name} trained or validated on other lists than {a.name} "
                         "(settings.json lists_sha256); the test lists and labels are the same")
    return notes


def parse_weights(text: str, n: int) -> List[float]:
    """`--weights 1,2,...`, one non-negative number per system ('' = equal weights)."""
    if not str(text).strip():
        return [1.0] * n
    try:
        w = [float(p) for p in str(text).split(",")]
    except ValueError:
        raise E2VError(f"--weights {text}: want comma-separated numbers") from None
    return check_weights(w, n, f"--weights {text}")


def check_weights(w: Sequence[float], n: int, shown: str = "weights") -> List[float]:
    """One finite weight >= 0 per system, not all 0."""
    w = [float(x) for x in w]
    if len(w) != n:
        raise E2VError(f"{shown}: {len(w)} weight(s) for {n} systems (one per system, in the "
                       "order of the experiment directories)")
    if not all(math.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
        raise E2VError(f"{shown}: weights must be finite, >= 0 and not all 0")
    return w


def combine(posts: Sequence[np.ndarray], weights: Sequence[float], method: str) -> np.ndarray:
    """Fuse [N, C] posteriors: the weighted arithmetic mean, or the weighted geometric mean
    (of posteriors floored at FLOOR) renormalised to sum to 1 per utterance."""
    if method not in METHODS:
        raise E2VError(f"--method {method}: not one of {', '.join(METHODS)}")
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    p = np.stack([np.asarray(x, dtype=np.float64) for x in posts])
    if method == "mean":
        return np.tensordot(w, p, axes=1)
    g = np.exp(np.tensordot(w, np.log(np.maximum(p, FLOOR)), axes=1))
    return g / g.sum(axis=1, keepdims=True)


def read_posteriors(path: Path, classes: Sequence[str], system: System,
                    test: Sequence[str]) -> np.ndarray:
    """[len(test), C] posteriors of one seed's predictions file, columns in `classes` order;
    an utterance of the fold without posteriors, or one the fold does not test, is an error."""
    if not path.is_file():
        raise E2VError(f"system {system.name}: {path}: no such predictions file")
    want = "# utt reference hypothesis " + " ".join(f"p({c})" for c in system.classes)
    order = [system.classes.index(c) for c in classes]
    rows: Dict[str, np.ndarray] = {}
    wanted = set(test)
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"system {system.name}: {path}:{lineno}"
        if lineno == 1 and line != want:
            raise E2VError(f"{where}: header {line!r} does not match its classes.txt: want "
                           f"{want!r}")
        f = line.split()
        if not f or line.startswith("#"):
            continue
        if f[0] not in wanted or f[0] in rows:
            raise E2VError(f"{where}: utterance '{f[0]}' " + (
                "has two predictions" if f[0] in rows else
                f"is not in the fold's test list ({system.name}/folds/.../test)"))
        if f[2] == MISSING or len(f) != 3 + len(system.classes):
            raise E2VError(f"{where}: utterance '{f[0]}' has no posteriors ({len(f) - 3} "
                           f"values, want {len(system.classes)}); every test utterance needs "
                           "one in every fused system")
        try:
            v = np.array([float(x) for x in f[3:]])
        except ValueError:
            raise E2VError(f"{where}: utterance '{f[0]}': a posterior is not a number") from None
        if not np.all(np.isfinite(v)) or (v < 0).any():
            raise E2VError(f"{where}: utterance '{f[0]}': posteriors must be finite and >= 0")
        rows[f[0]] = v[order]
    lost = [u for u in test if u not in rows]
    if lost:
        raise E2VError(f"system {system.name}: {path}: no posterior for {len(lost)} test "
                       f"utterance(s) of the fold, e.g. '{lost[0]}'; every test utterance needs "
                       "one in every fused system")
    return np.stack([rows[u] for u in test])


def seed_keys(systems: Sequence[System]) -> Tuple[list, str]:
    """(the fused system's seeds, how they were made)."""
    first = systems[0].settings["seeds"]
    if all(s.settings["seeds"] == first for s in systems):
        return list(first), "per seed (the systems have the same seeds)"
    return [SEED_MEAN], ("seed means (the systems have different seeds: each system's "
                         "posteriors averaged over its own seeds, then fused)")


def system_posteriors(system: System, k: int, key, classes: Sequence[str]) -> np.ndarray:
    """[N, C] posteriors of fold k (0-based) for seed `key`, or the mean over its seeds."""
    fold = system.path / system.plan["folds"][k]["fold"]
    seeds = system.settings["seeds"] if key == SEED_MEAN else [key]
    return np.mean([read_posteriors(fold / f"seed{sd}" / "predictions", classes, system,
                                    system.tests[k]) for sd in seeds], axis=0)


def fuse_posteriors(systems: Sequence[System], weights: Sequence[float], method: str,
                    keys: Sequence) -> List[Dict]:
    """Per fold: {"fold", "held_out", "test", "post": {key: fused [N, C]},
    "alone": [{key: [N, C]} per system]}, in the first system's fold and test order."""
    a = systems[0]
    out = []
    for k, meta in enumerate(a.plan["folds"]):
        alone = [{} for _ in systems]
        post = {}
        for key in keys:
            for i, s in enumerate(systems):
                p = system_posteriors(s, k, key, a.classes)
                # each system on a.tests[k]'s order (the sets are equal: check_compatible)
                order = {u: j for j, u in enumerate(s.tests[k])}
                alone[i][key] = p[[order[u] for u in a.tests[k]]]
            post[key] = combine([x[key] for x in alone], weights, method)
        out.append({"fold": meta["fold"], "held_out": meta["held_out"], "test": a.tests[k],
                    "post": post, "alone": alone})
    return out


def _score(systems: Sequence[System], folds: Sequence[Dict], which) -> Dict:
    """score_folds over the folds, posteriors from `which(fold) -> {key: [N, C]}`."""
    a = systems[0]
    entries = []
    for f in folds:
        ref = {u: a.labels[u] for u in f["test"]}
        hyp = {key: {u: a.classes[j] for u, j in zip(f["test"], p.argmax(axis=1))}
               for key, p in which(f).items()}
        entries.append({"fold": f["fold"], "held_out": f["held_out"], "ref": ref, "hyp": hyp})
    return score_folds(entries, a.classes, ci_seed=a.settings.get("seed", 0))


def _features(s: Dict) -> str:
    fi = s.get("feat_info") or {}
    layer = fi.get("layer") if fi.get("model") else None
    return (fi.get("feat_type") or "?") + (f" layer {layer}" if layer not in (None, "") else "")


def _unique(values) -> List[str]:
    out: List[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def describe(systems: Sequence[System], weights: Sequence[float], method: str) -> str:
    """The fused system in a few words ('mean fusion: svm + logreg (weights 2, 1)')."""
    equal = len(set(weights)) == 1
    return (f"{method} fusion: " + " + ".join(s.settings["head"] for s in systems)
            + ("" if equal else f" (weights {', '.join(f'{w:g}' for w in weights)})"))


def fused_settings(systems: Sequence[System], weights, method: str, keys, command: str) -> Dict:
    """The `settings` of the fused results.json, in the keys the reports read (head,
    features, validation, seeds) plus the fusion's own."""
    ss = [s.settings for s in systems]
    models = _unique(str((s.get("feat_info") or {}).get("model") or "") for s in ss)
    return {"head": describe(systems, weights, method),
            "feat_info": {"feat_type": " + ".join(_unique(_features(s) for s in ss)),
                          "model": " + ".join(models)},
            "feats_scp": ", ".join(_unique(str(s.get("feats_scp", "")) for s in ss)),
            "valid": " / ".join(_unique(str(s.get("valid", "")) for s in ss)),
            "cv": systems[0].plan["protocol"], "seeds": list(keys), "seed": ss[0].get("seed"),
            "classes": systems[0].classes, "method": method, "weights": list(weights),
            "systems": [str(s.path) for s in systems], "command": command}


def _fusion_record(systems, weights, method, how, notes, alone) -> Dict:
    total = sum(weights)
    return {"method": method, "seeds": how, "floor": FLOOR if method == "geometric" else None,
            "notes": notes,
            "systems": [{"exp": s.name, "path": str(s.path), "head": s.settings["head"],
                         "features": _features(s.settings), "weight": w,
                         "weight_normalised": round(w / total, 6),
                         "seeds": s.settings["seeds"],
                         "alone": {**{m: r[m]["mean"] for m in ("wa", "ua", "f1_macro")},
                                   "ua_pooled": r["pooled"]["ua"], "ua_ci95": r["ua_ci95"]}}
                        for s, w, r in zip(systems, weights, alone)]}


def fusion_markdown(res: Dict) -> str:
    """The summary's section on what was fused, each system alone beside the fusion."""
    f = res["fusion"]
    L = ["## Fused systems", "",
         f"Method: weighted {'arithmetic' if f['method'] == 'mean' else 'geometric'} mean of "
         "the posteriors" + (f" (floored at {f['floor']:g}, renormalised)" if f["floor"] else "")
         + f"; seeds: {f['seeds']}. Each system alone is scored on the same posteriors.", "",
         "| system | head | features | weight | WA | UA | UA pooled [95 % CI] |",
         "|---|---|---|---:|---:|---:|---|"]
    for s in f["systems"]:
        a = s["alone"]
        L.append(f"| `{s['exp']}` | {s['head']} | {s['features']} | {s['weight']:g} | "
                 f"{a['wa']:.2f} | {a['ua']:.2f} | {a['ua_pooled']:.2f} "
                 f"[{a['ua_ci95'][0]:.2f}, {a['ua_ci95'][1]:.2f}] |")
    L.append(f"| **fused** | | | | {res['wa']['mean']:.2f} | {res['ua']['mean']:.2f} | "
             f"{res['pooled']['ua']:.2f} [{res['ua_ci95'][0]:.2f}, {res['ua_ci95'][1]:.2f}] |")
    if f["notes"]:
        L += [""] + [f"- {n}" for n in f["notes"]]
    return "\n".join(L) + "\n"


def _write_predictions(out: Path, systems, folds, keys) -> None:
    a = systems[0]
    for i, key in enumerate(keys):
        rows = [(u, a.labels[u], a.classes[int(np.argmax(p))], p)
                for f in folds for u, p in zip(f["test"], f["post"][key])]
        rows.sort(key=lambda r: c_sort_key(r[0]))
        write_predictions(out / ("predictions" if i == 0 else f"predictions.seed{key}"), rows,
                          a.classes)


def _check_out_dir(out: Path, systems: Sequence[System]) -> None:
    for s in systems:
        if out == s.path:
            raise E2VError(f"<out-dir> {out} is the input experiment {s.name}: use another "
                           "directory (fusion never overwrites a system's results)")
    if (out / "settings.json").is_file():
        raise E2VError(f"<out-dir> {out} is a training experiment (it has settings.json): its "
                       "results would be overwritten; use another directory")


def _clear_stale(out: Path) -> None:
    """An earlier fusion's predictions.seed<s> files (another seed plan) would mislead."""
    prev = out / "results.json"
    try:
        earlier = prev.is_file() and "fusion" in json.loads(prev.read_text())
    except ValueError:
        earlier = False
    if earlier:
        for p in out.glob("predictions.seed*"):
            p.unlink()


def fuse(exp_dirs: Sequence, out_dir, *, weights: Optional[Sequence[float]] = None,
         method: str = DEFAULT_METHOD, command: str = "") -> Dict:
    """Fuse the experiments' test posteriors, score them and write the reports in `out_dir`
    (predictions[.seed<s>], results.json with `fusion`, summary.md, confusion.{txt,png}).
    Returns the fused results."""
    if len(exp_dirs) < 2:
        raise E2VError(f"fusion needs at least 2 experiment directories, got {len(exp_dirs)}")
    if method not in METHODS:
        raise E2VError(f"--method {method}: not one of {', '.join(METHODS)}")
    weights = check_weights([1.0] * len(exp_dirs) if weights is None else weights,
                            len(exp_dirs))
    systems = [load_system(d) for d in exp_dirs]
    notes = check_compatible(systems)
    out = Path(out_dir).resolve()
    _check_out_dir(out, systems)
    keys, how = seed_keys(systems)
    folds = fuse_posteriors(systems, weights, method, keys)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        lock_fd(fd, out / ".lock", os.getpid(), command, what=str(out_dir))
        res = _score(systems, folds, lambda f: f["post"])
        alone = [_score(systems, folds, lambda f, i=i: f["alone"][i])
                 for i in range(len(systems))]
        res["fusion"] = _fusion_record(systems, weights, method, how, notes, alone)
        a = systems[0]
        res["warnings"] += [f"{s.name} (its own report): {w}" for s in systems for w in s.warnings]
        res["protocol"] = " / ".join(_unique(s.plan["protocol"] for s in systems))
        res["speaker_independent"] = all(s.plan["speaker_independent"] for s in systems)
        res["corpus_defined_split"] = a.plan["corpus_defined"]
        res["speaker_note"] = "; ".join(_unique(s.plan.get("speaker_note", "") for s in systems))
        res["settings"] = fused_settings(systems, weights, method, keys, command)
        _clear_stale(out)
        _write_predictions(out, systems, folds, keys)
        title = f"Late fusion ({method}) of {len(systems)} systems, {res['protocol']}"
        write_reports(out, res, title=title)
        atomic_write_text(out / "summary.md", summary_markdown(res, title=title)
                          + fusion_markdown(res))
        if command:
            atomic_write_text(out / "cmd", command + "\n")
    finally:
        os.close(fd)
    return res


__all__ = ["fuse", "combine", "parse_weights", "check_weights", "load_system", "check_compatible",
           "read_posteriors", "METHODS", "DEFAULT_METHOD", "FLOOR"]
