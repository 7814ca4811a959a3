"""scikit-learn heads on standardised utterance vectors: `svm` (linear or RBF) and `logreg`.

The classic protocol: pool the frames (heads/pooling.py, `pooling`), z-normalise with the
training fold's statistics, and choose the hyper-parameters (`kernel`, `C`, `gamma`) by an
inner cross-validation over the training speakers (heads/selection.py; with a validation
split, on it instead), then refit on the whole training fold.  `class_weight: true` weights
the classes inversely to their frequency ('balanced').  Posteriors: logreg's own softmax;
svm's decision values through a softmax with a temperature fitted on the inner-CV
out-of-fold decision values (it keeps the SVM's decisions; Platt-style calibration of the
scores for fusion).  Saved as numpy arrays (linear: coefficients and intercepts; RBF: support
vectors, dual coefficients, intercepts, support counts; gamma and the temperature in
head.json): loading needs no pickle and prediction is numpy (heads/svmmath.py).
"""

from __future__ import annotations

import warnings
from typing import Dict, List, Optional

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.heads.base import Head, Split, softmax
from emotion2vec.heads.pooling import PooledInput
from emotion2vec.heads.registry import register
from emotion2vec.heads.selection import check_metric, choose, fit_temperature, inner_folds
from emotion2vec.heads.svmmath import rbf_kernel, svc_decision

KERNELS = ("linear", "rbf")


def _as_list(v) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _two_class(z: np.ndarray) -> np.ndarray:
    # Binary models give one decision value d for the second class: scores [0, d].
    z = z.reshape(len(z), -1)
    return np.concatenate([np.zeros_like(z), z], axis=1) if z.shape[1] == 1 else z


class _SklearnHead(PooledInput, Head):
    level = "utterance"
    default_valid = "none"   # no early stopping: the hyper-parameters come from an inner CV
    calibrate = False        # fit a softmax temperature on the out-of-fold decision values

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.mean = self.scale = None
        self.params: Dict[str, np.ndarray] = {}
        self.labels_: Optional[np.ndarray] = None   # class indices the model knows

    # -- subclasses -----------------------------------------------------------------------------
    def candidates(self, dim: int) -> List[Dict]:
        raise NotImplementedError

    def estimator(self, cand: Dict, seed: int, precomputed: bool = False):
        raise NotImplementedError

    def keep(self, est, cand: Dict) -> None:
        """Store the fitted estimator's arrays in self.params."""
        raise NotImplementedError

    def decision(self, Xs: np.ndarray) -> np.ndarray:
        """Decision values [n, k] (or [n, 1] for two classes) over self.labels_, in numpy."""
        z = Xs @ self.params["coef"].T.astype(np.float64)
        return z + self.params["intercept"].astype(np.float64)

    # -- shared ---------------------------------------------------------------------------------
    def _class_weight(self):
        return "balanced" if self.config.get("class_weight") else None

    def _decider(self, Z: np.ndarray, y: np.ndarray, seed: int):
        """decision(cand, train_idx, valid_idx) on the rows of Z (RBF kernels computed once)."""
        kernels: Dict[float, np.ndarray] = {}

        def decide(cand, tr, va):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")       # convergence chatter; C is cross-validated
                if cand.get("kernel") == "rbf":
                    g = cand["gamma_abs"]
                    if g not in kernels:
                        kernels[g] = rbf_kernel(Z, Z, g)
                    K = kernels[g]
                    est = self.estimator(cand, seed, precomputed=True).fit(K[np.ix_(tr, tr)], y[tr])
                    s = est.decision_function(K[np.ix_(va, tr)])
                else:
                    est = self.estimator(cand, seed).fit(Z[tr], y[tr])
                    s = est.decision_function(Z[va])
            return _two_class(np.asarray(s, np.float64)), est.classes_

        return decide

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, np.float64) - self.mean) / self.scale

    def _selection_folds(self, Xs, y, train: Split, valid: Optional[Split], seed: int):
        """(rows Z, labels Y, [(train_idx, valid_idx)] into them, a record of how)."""
        if valid is not None and valid.utts:
            Z = np.vstack([Xs, self._standardize(self.split_vectors(valid))])
            Y = np.concatenate([y, np.asarray(valid.labels, dtype=np.int64)])
            folds = [(np.arange(len(y)), np.arange(len(y), len(Y)))]
            return Z, Y, folds, {"by": f"validation set ({len(valid.utts)} utterances)",
                                 "num_folds": 1}
        folds, record = inner_folds(y, train.groups, int(self.config.get("inner_folds", 5)), seed)
        return Xs, y, folds, record

    def fit(self, train: Split, valid: Optional[Split], *, seed: int, log=None) -> Dict:
        log = log or (lambda s: None)
        metric = check_metric(self.config.get("select_metric", "ua"), f"{self.name} head")
        X = self.fit_vectors(train).astype(np.float64)
        y = np.asarray(train.labels, dtype=np.int64)
        if len(np.unique(y)) < 2:
            raise E2VError(f"{self.name} head: training data has a single class")
        self.mean = X.mean(axis=0)
        self.scale = X.std(axis=0)
        self.scale[self.scale < 1e-8] = 1.0
        Xs = self._standardize(X)
        cands = self.candidates(X.shape[1])
        table: List[Dict] = []
        temperature = 1.0
        if len(cands) > 1 or self.calibrate:
            Z, Y, folds, record = self._selection_folds(Xs, y, train, valid, seed)
            log(f"choosing among {len(cands)} setting(s) by {record['by']} "
                f"({record['num_folds']} fold(s)), metric {metric}")
            best, oof, table = choose(self._decider(Z, Y, seed), cands, folds, Y, self.classes,
                                      metric, log)
            if self.calibrate:
                va = np.concatenate([v for _, v in folds])
                cols = np.searchsorted(np.unique(Y), Y[va])
                temperature = fit_temperature(oof[va], cols)
        else:
            # One setting and nothing to calibrate: no inner CV runs (the record says so).
            best, record = cands[0], {"by": "none (a single setting)", "num_folds": 0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = self.estimator(best, seed).fit(Xs, y)
        self.labels_ = est.classes_.astype(np.int64)
        self.keep(est, best)
        chosen = {k: v for k, v in best.items() if k != "gamma_abs"}
        self.state.update(selected={**chosen, **({"gamma_abs": best["gamma_abs"]}
                                                 if "gamma_abs" in best else {})},
                          temperature=temperature)
        log(f"selected {chosen}" + (f", softmax temperature {temperature:.4g}"
                                    if self.calibrate else ""))
        return {"selected": chosen, "temperature": temperature, "inner_cv": record,
                "grid": table, "pooling": self.state.get("pooling")}

    def predict_vectors(self, X: np.ndarray) -> np.ndarray:
        if self.mean is None or self.labels_ is None:
            raise E2VError(f"{self.name} head: not trained or loaded")
        z = _two_class(self.decision(self._standardize(X)))
        p = softmax(z / float(self.state.get("temperature", 1.0)))
        out = np.zeros((len(X), len(self.classes)), dtype=np.float32)
        out[:, self.labels_] = p                    # classes unseen in training get 0
        return out

    def arrays(self):
        return {"mean": self.mean, "scale": self.scale, "labels": self.labels_, **self.params}

    def load_arrays(self, a):
        self.mean, self.scale, self.labels_ = a["mean"], a["scale"], a["labels"]
        self.params = {k: v for k, v in a.items() if k not in ("mean", "scale", "labels")}


@register("logreg")
class LogRegHead(_SklearnHead):
    def candidates(self, dim):
        return [{"C": float(c)} for c in _as_list(self.config.get("C", [1.0]))]

    def estimator(self, cand, seed, precomputed=False):
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(C=cand["C"], max_iter=int(self.config.get("max_iter", 1000)),
                                  class_weight=self._class_weight(), random_state=seed)

    def keep(self, est, cand):
        self.params = {"coef": est.coef_.astype(np.float64),
                       "intercept": est.intercept_.astype(np.float64)}


@register("svm")
class SVMHead(_SklearnHead):
    calibrate = True

    def candidates(self, dim):
        kernels = [str(k) for k in _as_list(self.config.get("kernel", "linear"))]
        bad = [k for k in kernels if k not in KERNELS]
        if bad:
            raise E2VError(f"svm head: kernel '{bad[0]}' not one of {', '.join(KERNELS)}")
        Cs = self.config.get("C", [1.0])
        if isinstance(Cs, dict):
            # A typo or a searched kernel without a grid would otherwise fall back to C = 1.
            bad = [k for k in Cs if k not in KERNELS] or [k for k in kernels if k not in Cs]
            if bad:
                raise E2VError(f"svm head: C per kernel {dict(Cs)}: want a list for each kernel "
                               f"searched ({', '.join(kernels)}) and no other, not '{bad[0]}'")
        out = []
        for k in kernels:
            grid = Cs[k] if isinstance(Cs, dict) else Cs
            for c in _as_list(grid):
                if k == "linear":
                    out.append({"kernel": k, "C": float(c)})
                    continue
                for g in _as_list(self.config.get("gamma", [1.0])):   # in units of 1/dim
                    out.append({"kernel": k, "C": float(c), "gamma": float(g),
                                "gamma_abs": float(g) / dim})
        return out

    def estimator(self, cand, seed, precomputed=False):
        from sklearn.svm import SVC, LinearSVC
        cw = self._class_weight()
        if cand["kernel"] == "linear":
            return LinearSVC(C=cand["C"], class_weight=cw, random_state=seed, dual="auto",
                             max_iter=int(self.config.get("max_iter", 5000)))
        return SVC(C=cand["C"], kernel="precomputed" if precomputed else "rbf",
                   gamma=cand["gamma_abs"], class_weight=cw)

    def keep(self, est, cand):
        if cand["kernel"] == "linear":
            self.params = {"coef": est.coef_.astype(np.float64),
                           "intercept": est.intercept_.astype(np.float64)}
        else:
            self.params = {"support_vectors": est.support_vectors_.astype(np.float64),
                           "dual_coef": est.dual_coef_.astype(np.float64),
                           "intercept": est.intercept_.astype(np.float64),
                           "n_support": est.n_support_.astype(np.int64)}

    def decision(self, Xs):
        if "support_vectors" not in self.params:
            return super().decision(Xs)
        p = self.params
        return svc_decision(Xs, p["support_vectors"], p["dual_coef"], p["intercept"],
                            p["n_support"], float(self.state["selected"]["gamma_abs"]))


__all__ = ["LogRegHead", "SVMHead", "KERNELS"]
