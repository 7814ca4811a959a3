"""An experiment's results: every fold and seed scored, results.json, predictions and the
reports (summary.md, confusion matrix) written.  Needs no torch: only the folds' predictions
files are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from emotion2vec.datadir import c_sort_key, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.locks import busy
from emotion2vec.report import (check_hypothesis_labels, read_hypotheses, score_folds,
                                write_predictions, write_reports)
from emotion2vec.training import foldstate
from emotion2vec.training.expdir import load_settings, read_list


def classes_missing_in_training(train: Sequence[str], labels: Dict[str, str],
                                classes: Sequence[str]) -> List[str]:
    """The classes (inventory order) of which a fold's training list has no utterance."""
    seen = {labels[u] for u in train}
    return [c for c in classes if c not in seen]


def _missing_class_warning(fold: Dict, missing: Sequence[str], classes: Sequence[str],
                           seeds: Sequence[int]) -> str:
    """What a class without training utterances did to a scored fold (first seed), in words."""
    parts = []
    for c in missing:
        n, rec = fold["support"][c], fold["recall"][c]
        predicted = sum(row[classes.index(c)] for row in fold["confusion"])
        if n:
            parts.append(f"'{c}': {n} test utterance(s), recall {rec:.2f} % (counted in the "
                         "fold's WA, UA and macro-F1)")
        else:
            parts.append(f"'{c}': no test utterance either (left out of the fold's UA)")
        if predicted:
            parts[-1] += f", predicted for {predicted} test utterance(s)"
    return (f"{fold['fold']}: no training utterance of class(es) {', '.join(missing)}, so the "
            f"head never learnt {'it' if len(missing) == 1 else 'them'}: " + "; ".join(parts)
            + (f" (seed {seeds[0]}; the other seeds are in results.json)" if len(seeds) > 1
               else ""))


def _fold_hypotheses(pfile: Path, classes: Sequence[str]):
    """({utt: label}, {utt: posteriors}) of one seed's predictions file, checked: not empty,
    written for this inventory, every label in it."""
    linenos: Dict[str, int] = {}
    hyp = read_hypotheses(pfile, ref_in_column_2=True, linenos=linenos)
    post = _read_posteriors(pfile, classes)
    check_hypothesis_labels(hyp, classes, pfile, linenos=linenos, inventory="classes.txt",
                            hint="the file does not come from this experiment's head; rerun "
                                 "the fold (remove its .done)")
    return hyp, post


def merge(exp_dir, *, title: Optional[str] = None) -> Dict:
    """Score every fold and seed; write results.json, predictions and the reports.  Classes
    without training utterances in a fold are recorded per fold and as `warnings`."""
    exp = Path(exp_dir).resolve()
    s = load_settings(exp)
    plan = json.loads((exp / "folds" / "plan.json").read_text())
    labels = read_kv(exp / "utt2label")
    classes = s["classes"]
    fp = foldstate.inputs_fingerprint(exp, s)
    for k in range(1, s["num_folds"] + 1):
        holder = busy(exp / f"fold{k}" / ".lock")
        if holder:
            raise E2VError(f"{exp}: fold{k} is still training ({holder})")
    not_done = [f"fold{k}" for k in range(1, s["num_folds"] + 1)
                if not foldstate.is_done(exp / f"fold{k}", fp)]
    if not_done:
        raise E2VError(f"{exp}: {len(not_done)} fold(s) not finished ({', '.join(not_done)}); "
                       f"see {exp / 'log'}/train.*.log and rerun")
    folds = []
    pred_rows: Dict[int, List] = {sd: [] for sd in s["seeds"]}
    for k, meta in enumerate(plan["folds"], 1):
        test = read_list(exp / "folds" / meta["fold"] / "test")
        train = read_list(exp / "folds" / meta["fold"] / "train")
        ref = {u: labels[u] for u in test}
        hyps, post = {}, {}
        for sd in s["seeds"]:
            hyps[sd], post[sd] = _fold_hypotheses(exp / meta["fold"] / f"seed{sd}" /
                                                  "predictions", classes)
            for u in test:
                h = hyps[sd].get(u)
                pred_rows[sd].append((u, ref[u], h, post[sd].get(u)))
        train_json = exp / meta["fold"] / f"seed{s['seeds'][0]}" / "train.json"
        best = json.loads(train_json.read_text()).get("best_epoch") if train_json.is_file() else None
        folds.append({"fold": meta["fold"], "held_out": meta["held_out"], "ref": ref, "hyp": hyps,
                      "num_train": meta["num_train"], "num_valid": meta["num_valid"],
                      "valid_from": meta["valid_from"], "best_epoch": best,
                      "classes_missing_in_training":
                          classes_missing_in_training(train, labels, classes)})
    res = score_folds(folds, classes, ci_seed=s["seed"])
    res["warnings"] += [_missing_class_warning(f, f["classes_missing_in_training"], classes,
                                               s["seeds"])
                        for f in res["folds"] if f["classes_missing_in_training"]]
    res["protocol"] = plan["protocol"]
    res["speaker_independent"] = plan["speaker_independent"]
    res["corpus_defined_split"] = plan["corpus_defined"]
    res["speaker_note"] = plan["speaker_note"]
    res["settings"] = s
    for sd, rows in pred_rows.items():
        rows.sort(key=lambda r: c_sort_key(r[0]))
        name = "predictions" if sd == s["seeds"][0] else f"predictions.seed{sd}"
        write_predictions(exp / name, rows, classes)
    write_reports(exp, res, title=title or f"{s['head']} head, {plan['protocol']}")
    return res


def _read_posteriors(path: Path, classes: Sequence[str]) -> Dict[str, np.ndarray]:
    out = {}
    want = "# utt reference hypothesis " + " ".join(f"p({c})" for c in classes)
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        if lineno == 1 and line.rstrip("\n") != want:
            raise E2VError(f"{path}:1: header {line.rstrip()!r} does not match the experiment's "
                           f"classes.txt ({' '.join(classes)}): want {want!r}")
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        if len(f) > 3:
            if len(f) != 3 + len(classes):
                raise E2VError(f"{path}:{lineno}: '{f[0]}': {len(f) - 3} posteriors, want "
                               f"{len(classes)} (one per class)")
            out[f[0]] = np.array([float(x) for x in f[3:]])
    return out


__all__ = ["merge", "classes_missing_in_training"]
