import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             recall_score)

from emotion2vec.errors import E2VError
from emotion2vec.metrics import MISSING, align, bootstrap_ua_ci, format_confusion, score_labels

CLASSES = ["ang", "hap", "neu", "sad"]


def _random_case(seed, n=60):
    rng = np.random.default_rng(seed)
    ref = [CLASSES[i] for i in rng.integers(0, 4, n)]
    hyp = [r if rng.random() < 0.6 else CLASSES[rng.integers(0, 4)] for r in ref]
    return ref, hyp


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn(seed):
    ref, hyp = _random_case(seed)
    m = score_labels(ref, hyp, CLASSES)
    assert m["wa"] == pytest.approx(accuracy_score(ref, hyp))
    assert m["ua"] == pytest.approx(balanced_accuracy_score(ref, hyp))
    assert m["f1_macro"] == pytest.approx(f1_score(ref, hyp, average="macro"))
    assert m["f1_weighted"] == pytest.approx(f1_score(ref, hyp, average="weighted"))
    rec = recall_score(ref, hyp, labels=CLASSES, average=None)
    assert [m["recall"][c] for c in CLASSES] == pytest.approx(list(rec))
    cm = np.array(m["confusion"])
    assert (cm[:, :4] == confusion_matrix(ref, hyp, labels=CLASSES)).all()
    assert m["num_missing"] == 0 and m["num"] == len(ref)


def test_hand_made_values():
    ref = ["ang", "ang", "hap", "neu", "neu", "neu"]
    hyp = ["ang", "hap", "hap", "neu", "neu", "ang"]
    m = score_labels(ref, hyp, CLASSES)
    assert m["wa"] == pytest.approx(4 / 6)
    # Recall: ang 1/2, hap 1/1, neu 2/3; sad is absent from the reference and not averaged.
    assert m["ua"] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    assert m["recall"]["sad"] is None


def test_missing_prediction_lowers_wa_and_is_counted():
    ref = ["ang", "hap", "neu", "sad"]
    full = score_labels(ref, ref, CLASSES)
    m = score_labels(ref, ["ang", "hap", "neu", None], CLASSES)
    assert full["wa"] == 1.0
    assert m["wa"] == pytest.approx(0.75)
    assert m["ua"] == pytest.approx(0.75)
    assert m["num_missing"] == 1
    assert m["recall"]["sad"] == 0.0
    assert m["confusion"][3][4] == 1          # the MISSING column
    assert "<missing>" in format_confusion(m["confusion"], CLASSES)
    # Equals scoring the missing one as an error with sklearn (a label that matches nothing).
    assert m["wa"] == accuracy_score(ref, ["ang", "hap", "neu", "xxx"])


def test_align_counts_missing_and_rejects_unknown():
    ref = {"a": "ang", "b": "hap", "c": "neu"}
    utts, r, h, missing = align(ref, {"a": "ang", "c": "neu"})
    assert utts == ["a", "b", "c"] and h == ["ang", None, "neu"] and missing == ["b"]
    with pytest.raises(E2VError, match="not in the reference.*'zzz'"):
        align(ref, {"a": "ang", "zzz": "neu"})


def test_unknown_labels_are_errors():
    with pytest.raises(E2VError, match="reference label 'fru'"):
        score_labels(["fru"], ["ang"], CLASSES)
    with pytest.raises(E2VError, match="hypothesis label 'oth'"):
        score_labels(["ang"], ["oth"], CLASSES)
    with pytest.raises(E2VError, match="nothing to score"):
        score_labels([], [], CLASSES)


def test_bootstrap_ci_brackets_ua_and_is_seeded():
    ref, hyp = _random_case(5, n=400)
    m = score_labels(ref, hyp, CLASSES)
    r = np.array([CLASSES.index(x) for x in ref])
    ok = np.array([a == b for a, b in zip(ref, hyp)])
    lo, hi = bootstrap_ua_ci(r, ok, 4, seed=3)
    assert lo < m["ua"] < hi
    assert 0.02 < hi - lo < 0.2
    assert bootstrap_ua_ci(r, ok, 4, seed=3) == (lo, hi)
    assert bootstrap_ua_ci(r, ok, 4, seed=4) != (lo, hi)
    perfect = bootstrap_ua_ci(r, np.ones_like(ok), 4)
    assert perfect == (1.0, 1.0)
