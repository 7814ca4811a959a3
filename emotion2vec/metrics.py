"""Classification metrics for emotion recognition: WA, UA, F1, confusion, bootstrap CI.

Conventions (the SER literature's, written down so reports can be trusted):
- WA (weighted accuracy) = correct / reference utterances.
- UA (unweighted accuracy) = mean per-class recall over the classes present in the reference
  (scikit-learn's balanced accuracy).
- F1: macro = unweighted mean over the classes that occur in the reference or the hypothesis;
  weighted = mean weighted by reference support (what emotion2vec calls "F1").
- Every reference utterance is scored.  A missing prediction is the pseudo-class MISSING,
  which matches nothing: it lowers WA, UA and recall, and is listed, never dropped.
- A hypothesis label outside the class inventory is an error; only when the caller allows it
  (`allow_unknown`, steps/score.sh --allow-unknown-labels true) is it the pseudo-class
  UNKNOWN: a wrong answer (like MISSING: a false negative of its reference class, no class of
  its own in F1), counted in `num_unknown` and in its own confusion column.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError

MISSING = "<missing>"
UNKNOWN = "<unknown>"


def score_labels(ref: Sequence[str], hyp: Sequence[Optional[str]],
                 classes: Sequence[str], *, allow_unknown: bool = False) -> Dict:
    """Score parallel label lists; `hyp[i]` None (or MISSING) is a missing prediction.

    Returns fractions in [0, 1]: wa, ua, f1_macro, f1_weighted, recall (per class, None for a
    class absent from the reference), support, confusion (rows = reference classes in
    `classes` order, columns = classes + MISSING [+ UNKNOWN with `allow_unknown`]), num,
    num_missing, num_unknown (hypotheses outside `classes`, counted wrong: `allow_unknown`;
    without it they are an error).
    """
    if len(ref) != len(hyp):
        raise E2VError(f"{len(ref)} references but {len(hyp)} hypotheses")
    if len(ref) == 0:
        raise E2VError("nothing to score: no reference utterances")
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    for r in ref:
        if r not in index:
            raise E2VError(f"reference label '{r}' is not in the class inventory {classes}")
    if not allow_unknown:
        for h in hyp:
            if h is not None and h != MISSING and h not in index:
                raise E2VError(f"hypothesis label '{h}' is not in the class inventory {classes}")
    C = len(classes)
    W = C + 2 if allow_unknown else C + 1        # confusion columns
    r_idx = np.array([index[r] for r in ref], dtype=np.int64)
    h_idx = np.array([C if h is None or h == MISSING else index.get(h, C + 1) for h in hyp],
                     dtype=np.int64)
    confusion = np.bincount(r_idx * W + h_idx, minlength=C * W).reshape(C, W)
    support = confusion.sum(axis=1)
    correct = np.diag(confusion[:, :C])
    present = support > 0
    recall = [float(correct[i] / support[i]) if present[i] else None for i in range(C)]
    wa = float(correct.sum() / len(ref))
    ua = float(np.mean(correct[present] / support[present]))
    # F1 over the classes seen in reference or hypothesis (MISSING is not a class: its
    # utterances are false negatives of their reference class).  Equals scikit-learn's
    # f1_score(labels=those classes, zero_division=0); computed here from the confusion
    # matrix because this runs after every training epoch.
    pred_count = confusion[:, :C].sum(axis=0)
    seen = present | (pred_count > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(pred_count > 0, correct / pred_count, 0.0)
        rec = np.where(present, correct / np.maximum(support, 1), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    f1_macro = float(f1[seen].mean())
    f1_weighted = float((f1 * support).sum() / support.sum())
    return {
        "wa": wa, "ua": ua, "f1_macro": f1_macro, "f1_weighted": f1_weighted,
        "recall": dict(zip(classes, recall)),
        "support": dict(zip(classes, (int(s) for s in support))),
        "confusion": confusion.tolist(),
        "num": int(len(ref)), "num_missing": int((h_idx == C).sum()),
        "num_unknown": int((h_idx == C + 1).sum()),
    }


def align(ref: Mapping[str, str], hyp: Mapping[str, str], *, hyp_name: str = "hypothesis"):
    """Reference-ordered (utts, ref labels, hyp labels or None, missing utts).

    An utterance in `hyp` but not in `ref` is an error (a hypothesis for something we cannot
    score means the two files do not belong together); one in `ref` only is missing.
    """
    extra = [u for u in hyp if u not in ref]
    if extra:
        raise E2VError(f"{hyp_name}: {len(extra)} utterance(s) not in the reference, "
                       f"e.g. '{extra[0]}'")
    utts = list(ref)
    hyps = [hyp.get(u) for u in utts]
    missing = [u for u, h in zip(utts, hyps) if h is None]
    return utts, [ref[u] for u in utts], hyps, missing


def bootstrap_ua_ci(ref_idx: np.ndarray, correct: np.ndarray, num_classes: int, *,
                    resamples: int = 1000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap interval of UA, resampling utterances with replacement.

    `ref_idx`: reference class index per utterance; `correct`: bool per utterance.
    Vectorised: all resamples are counted with one bincount.
    """
    ref_idx = np.asarray(ref_idx, dtype=np.int64)
    correct = np.asarray(correct, dtype=np.float64)
    n = len(ref_idx)
    if n == 0:
        raise E2VError("bootstrap: no utterances")
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    chunk = max(1, min(resamples, 20_000_000 // max(n, 1)))  # bound the index array's memory
    for start in range(0, resamples, chunk):
        b = min(chunk, resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        key = (np.arange(b)[:, None] * num_classes + ref_idx[idx]).ravel()
        tot = np.bincount(key, minlength=b * num_classes).reshape(b, num_classes)
        cor = np.bincount(key, weights=correct[idx].ravel(),
                          minlength=b * num_classes).reshape(b, num_classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            rec = cor / tot
        out[start:start + b] = np.nanmean(np.where(tot > 0, rec, np.nan), axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(out, alpha)), float(np.quantile(out, 1 - alpha))


def aggregate(values: Sequence[float]) -> Dict[str, float]:
    """Mean and standard deviation (sample std, ddof=1; 0 for a single value)."""
    v = np.asarray(list(values), dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def shown_columns(confusion, classes: Sequence[str]):
    """(column labels, column indices) of a confusion matrix to display: the classes, then
    MISSING / UNKNOWN where they are used."""
    cm = np.asarray(confusion)
    C = len(classes)
    extra = [j for j in range(C, cm.shape[1]) if cm[:, j].any()]
    return list(classes) + [(MISSING, UNKNOWN)[j - C] for j in extra], list(range(C)) + extra


def format_confusion(confusion: Sequence[Sequence[int]], classes: Sequence[str]) -> str:
    """Confusion matrix as text: counts, then row percentages (rows = reference)."""
    cols, idx = shown_columns(confusion, classes)
    cm = np.asarray(confusion)[:, idx]
    w = max(8, max(len(c) for c in cols) + 1)
    lines: List[str] = []
    head = "ref\\hyp".ljust(w) + "".join(c.rjust(w) for c in cols) + "total".rjust(w)
    lines += ["# counts (rows: reference, columns: hypothesis)", head]
    for c, row in zip(classes, cm):
        lines.append(c.ljust(w) + "".join(str(int(x)).rjust(w) for x in row)
                     + str(int(row.sum())).rjust(w))
    lines += ["", "# row % (recall on the diagonal)", head]
    for c, row in zip(classes, cm):
        tot = row.sum()
        pct = row / tot * 100 if tot else np.zeros(len(row))
        lines.append(c.ljust(w) + "".join(f"{x:.1f}".rjust(w) for x in pct) + str(int(tot)).rjust(w))
    return "\n".join(lines) + "\n"


__all__ = ["MISSING", "UNKNOWN", "score_labels", "align", "bootstrap_ua_ci", "aggregate",
           "format_confusion", "shown_columns"]
