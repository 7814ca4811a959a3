"""scikit-learn heads on standardised utterance features: `svm` (linear) and `logreg`.

The audEERING protocol: z-normalise with training statistics, fit a linear model, choose C on
the validation set (`C` may be a list; the best by `select_metric` wins; with no validation
set the first C is used).  Only coefficients are saved, so loading needs no pickle, and
prediction is plain numpy.  `svm` posteriors are a softmax of the decision values (scores for
ranking, not calibrated probabilities).
"""

from __future__ import annotations

import warnings
from typing import Dict, Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.heads.base import Head, Split, softmax
from emotion2vec.heads.registry import register
from emotion2vec.metrics import score_labels


class _LinearSklearnHead(Head):
    level = "utterance"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.mean = self.scale = self.coef = self.intercept = None
        self.labels_: Optional[np.ndarray] = None   # class indices the model knows

    def _estimator(self, C: float, seed: int):
        raise NotImplementedError

    def _scores(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, train: Split, valid: Optional[Split], *, seed: int, log=None) -> Dict:
        log = log or (lambda s: None)
        X = train.pooled().astype(np.float64)
        y = np.asarray(train.labels)
        if len(np.unique(y)) < 2:
            raise E2VError(f"{self.name} head: training data has a single class")
        self.mean = X.mean(axis=0)
        self.scale = X.std(axis=0)
        self.scale[self.scale < 1e-8] = 1.0
        Xs = (X - self.mean) / self.scale
        Cs = self.config.get("C", [1.0])
        Cs = [float(c) for c in (Cs if isinstance(Cs, (list, tuple)) else [Cs])]
        metric = self.config.get("select_metric", "ua")
        Xv = valid.pooled() if valid is not None and valid.utts else None
        best = None
        history = []
        for C in Cs:
            est = self._estimator(C, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")       # convergence chatter; C is validated
                est.fit(Xs, y)
            self.labels_ = est.classes_.astype(np.int64)
            self.coef, self.intercept = est.coef_.astype(np.float32), est.intercept_.astype(np.float32)
            if Xv is None or len(Cs) == 1:
                best = (None, C, self.coef, self.intercept)
                break
            hyp = self.predict_proba_pooled(Xv).argmax(axis=1)
            m = score_labels([self.classes[i] for i in valid.labels],
                             [self.classes[i] for i in hyp], self.classes)
            history.append({"C": C, **{f"valid_{k}": m[k] for k in ("wa", "ua", "f1_macro")}})
            log(f"C={C:g}: valid WA {m['wa'] * 100:.2f} UA {m['ua'] * 100:.2f}")
            if best is None or m[metric] > best[0]:
                best = (m[metric], C, self.coef, self.intercept)
        _, C, self.coef, self.intercept = best
        log(f"selected C={C:g}")
        return {"history": history, "C": C}

    def predict_proba_pooled(self, X: np.ndarray) -> np.ndarray:
        z = ((np.asarray(X, np.float64) - self.mean) / self.scale) @ self.coef.T.astype(np.float64) \
            + self.intercept.astype(np.float64)
        p = self._scores(z)
        out = np.zeros((len(X), len(self.classes)), dtype=np.float32)
        out[:, self.labels_] = p                    # classes unseen in training get 0
        return out

    def predict_proba(self, feats: Sequence[np.ndarray]) -> np.ndarray:
        if self.coef is None:
            raise E2VError(f"{self.name} head: not trained or loaded")
        feats = list(feats)
        self.check_inputs(feats)
        X = np.stack([np.asarray(f, np.float64).mean(axis=0) for f in feats])
        return self.predict_proba_pooled(X)

    def arrays(self):
        return {"mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept, "labels": self.labels_}

    def load_arrays(self, a):
        self.mean, self.scale = a["mean"], a["scale"]
        self.coef, self.intercept, self.labels_ = a["coef"], a["intercept"], a["labels"]


def _two_class(z: np.ndarray) -> np.ndarray:
    # Binary linear models give one decision value d for the second class: scores [0, d].
    return np.stack([np.zeros_like(z[:, 0]), z[:, 0]], axis=1) if z.shape[1] == 1 else z


@register("logreg")
class LogRegHead(_LinearSklearnHead):
    def _estimator(self, C, seed):
        from sklearn.linear_model import LogisticRegression
        cw = "balanced" if self.config.get("class_weight") else None
        return LogisticRegression(C=C, max_iter=int(self.config.get("max_iter", 1000)),
                                  class_weight=cw, random_state=seed)

    def _scores(self, z):
        return softmax(_two_class(z))


@register("svm")
class SVMHead(_LinearSklearnHead):
    def _estimator(self, C, seed):
        from sklearn.svm import LinearSVC
        cw = "balanced" if self.config.get("class_weight") else None
        return LinearSVC(C=C, class_weight=cw, random_state=seed, dual="auto",
                         max_iter=int(self.config.get("max_iter", 5000)))

    def _scores(self, z):
        return softmax(_two_class(z))


__all__ = ["LogRegHead", "SVMHead"]
