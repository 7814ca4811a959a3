"""scikit-learn's SVC decision function in numpy, from the arrays a head saves (no pickle).

SVC is one-vs-one: for the class pair (i, j), i < j, the decision is
    sum over support vectors s of class i of dual_coef[j-1, s] K(x, s)
  + sum over support vectors s of class j of dual_coef[i, s] K(x, s) + intercept[pair],
pairs in the order (0,1), (0,2), ..., (1,2), ...; positive favours i.  For more than two
classes sklearn turns the pairwise values into one score per class (`decision_function_shape
='ovr'`: votes plus a confidence in (-1/3, 1/3)); for two classes it returns one value whose
positive side is the second class.  tests/training/test_classic_heads.py checks both against
sklearn on the same inputs.
"""

from __future__ import annotations

import numpy as np


def rbf_kernel(X: np.ndarray, Y: np.ndarray, gamma: float) -> np.ndarray:
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    d2 = (np.square(X).sum(1)[:, None] + np.square(Y).sum(1)[None, :] - 2.0 * X @ Y.T)
    return np.exp(-gamma * np.maximum(d2, 0.0))


def ovo_decision(K: np.ndarray, dual_coef: np.ndarray, intercept: np.ndarray,
                 n_support: np.ndarray) -> np.ndarray:
    """Pairwise decision values [n, k(k-1)/2] from the kernel rows K [n, n_SV]."""
    n_support = np.asarray(n_support, dtype=np.int64)
    k = len(n_support)
    start = np.concatenate([[0], np.cumsum(n_support)])
    out = np.empty((K.shape[0], k * (k - 1) // 2))
    p = 0
    for i in range(k):
        si = slice(start[i], start[i + 1])
        for j in range(i + 1, k):
            sj = slice(start[j], start[j + 1])
            out[:, p] = K[:, si] @ dual_coef[j - 1, si] + K[:, sj] @ dual_coef[i, sj] + intercept[p]
            p += 1
    return out


def ovr_from_ovo(dec: np.ndarray, k: int) -> np.ndarray:
    """sklearn's `_ovr_decision_function(dec < 0, -dec, k)`: votes + scaled confidences."""
    votes = np.zeros((dec.shape[0], k))
    conf = np.zeros((dec.shape[0], k))
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            conf[:, i] += dec[:, p]
            conf[:, j] -= dec[:, p]
            votes[:, i] += dec[:, p] >= 0
            votes[:, j] += dec[:, p] < 0
            p += 1
    return votes + conf / (3 * (np.abs(conf) + 1))


def svc_decision(X: np.ndarray, support_vectors: np.ndarray, dual_coef: np.ndarray,
                 intercept: np.ndarray, n_support: np.ndarray, gamma: float) -> np.ndarray:
    """What SVC(kernel='rbf').decision_function(X) returns: [n, k] for k > 2 classes, [n, 1]
    (the second class's value) for two."""
    K = rbf_kernel(X, support_vectors, gamma)
    dec = ovo_decision(K, np.asarray(dual_coef, np.float64), np.asarray(intercept, np.float64),
                       n_support)
    k = len(n_support)
    if k == 2:
        return dec   # public dual_coef_/intercept_ of a binary SVC already give the 2nd class's side
    return ovr_from_ovo(dec, k)


__all__ = ["rbf_kernel", "ovo_decision", "ovr_from_ovo", "svc_decision"]
