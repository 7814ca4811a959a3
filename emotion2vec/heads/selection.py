"""Hyper-parameter choice for the scikit-learn heads: an inner cross-validation on the training
fold, grouped by speaker, and the temperature that turns decision values into posteriors.

The inner folds are scikit-learn's StratifiedGroupKFold over the training utterances' speakers
(`Split.groups`): every inner validation fold holds whole speakers, and only speakers of the
training split exist here (the outer fold's test utterances never reach the head's fit).  The
candidate with the best `select_metric` over the pooled out-of-fold predictions wins (the
first in grid order on a tie).  Without speakers (a head fitted outside an experiment) or with
a single one, the inner folds are stratified by utterance, and the returned record says so.
"""

from __future__ import annotations

import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.metrics import score_labels

METRICS = ("wa", "ua", "f1_macro", "f1_weighted")   # what select_metric may name here

# decision(candidate, train_idx, valid_idx) -> (scores [len(valid), k], classes of the columns)
Decision = Callable[[Dict, np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


def check_metric(metric, who: str) -> str:
    """`metric` if the inner CV can select by it, else a clear error (before any fitting)."""
    if metric not in METRICS:
        raise E2VError(f"{who}: select_metric '{metric}' not one of {', '.join(METRICS)}")
    return metric


def inner_folds(y: np.ndarray, groups: Optional[Sequence], n_splits: int, seed: int
                ) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], Dict]:
    """[(train_idx, valid_idx)] and a record of how they were made (speakers per fold)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y = np.asarray(y)
    X0 = np.zeros((len(y), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # "least populated class has only n members"
        if groups is not None and len(np.unique(groups)) >= 2:
            g = np.asarray(groups)
            k = min(int(n_splits), len(np.unique(g)))
            cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            folds = [(tr, va) for tr, va in cv.split(X0, y, g)]
            record = {"by": "speaker", "num_folds": k,
                      "valid_speakers": [sorted(map(str, set(g[va]))) for _, va in folds]}
        else:
            counts = np.bincount(y)
            k = min(int(n_splits), max(2, int(counts[counts > 0].min())))
            cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            folds = [(tr, va) for tr, va in cv.split(X0, y)]
            why = "one speaker" if groups is not None and len(groups) else "no speakers given"
            record = {"by": f"utterance ({why})", "num_folds": k}
    if any(len(va) == 0 or len(tr) == 0 for tr, va in folds):
        raise E2VError(f"inner cross-validation: an empty fold ({len(y)} utterances)")
    return folds, record


def _widen(scores: np.ndarray, cols: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Scores over `cols` placed in the columns of `labels`; classes unknown to the model -inf."""
    out = np.full((len(scores), len(labels)), -np.inf)
    out[:, np.searchsorted(labels, cols)] = scores
    return out


def out_of_fold(decision: Decision, cand: Dict, folds, n: int, labels: np.ndarray
                ) -> np.ndarray:
    """Out-of-fold scores [n, len(labels)] of one candidate."""
    oof = np.full((n, len(labels)), -np.inf)
    for tr, va in folds:
        s, cols = decision(cand, tr, va)
        oof[va] = _widen(s, cols, labels)
    return oof


def choose(decision: Decision, candidates: Sequence[Dict], folds, y: np.ndarray,
           classes: Sequence[str], metric: str, log) -> Tuple[Dict, np.ndarray, List[Dict]]:
    """(best candidate, its out-of-fold scores, the table of every candidate's scores)."""
    labels = np.unique(y)
    rows = np.concatenate([va for _, va in folds])      # the rows some fold predicts
    ref = [classes[i] for i in y[rows]]
    best, best_val, best_oof, table = None, None, None, []
    for cand in candidates:
        oof = out_of_fold(decision, cand, folds, len(y), labels)
        m = score_labels(ref, [classes[i] for i in labels[oof[rows].argmax(axis=1)]], classes)
        table.append({**cand, **{f"cv_{k}": m[k] for k in ("wa", "ua", "f1_macro")}})
        log("  " + " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in cand.items())
            + f": inner-CV WA {m['wa'] * 100:.2f} UA {m['ua'] * 100:.2f}")
        if best_val is None or m[metric] > best_val:
            best, best_val, best_oof = cand, m[metric], oof
    return best, best_oof, table


def fit_temperature(scores: np.ndarray, y_cols: np.ndarray) -> float:
    """T minimising the mean negative log-likelihood of softmax(scores / T) (rows whose true
    class the model knew); a temperature keeps the argmax, i.e. the classifier's decisions."""
    from scipy.optimize import minimize_scalar

    rows = np.isfinite(scores[np.arange(len(y_cols)), y_cols])
    if rows.sum() < 2:
        return 1.0
    s, t = scores[rows], y_cols[rows]

    def nll(log_t: float) -> float:
        z = s / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            lse = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(lse - z[np.arange(len(t)), t]))

    r = minimize_scalar(nll, bounds=(-7.0, 7.0), method="bounded")
    return float(np.exp(r.x))


__all__ = ["METRICS", "check_metric", "inner_folds", "out_of_fold", "choose", "fit_temperature"]
