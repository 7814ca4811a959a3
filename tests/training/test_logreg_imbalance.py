"""Why `--head logreg --normalize speaker` collapsed (issue 17), and that it no longer does.

The old logreg head had no class weighting and a C grid capped at 0.1, chosen on a random 20 %
of the training speakers' own utterances: on an imbalanced corpus (EmoDB: 127 angry, 46
disgusted utterances) the over-regularised, unweighted model pulls every minority class
towards the majority (on RAVDESS, 10 actors, 7 classes, the old head recalled 5 % of the
half-sized neutral class).  The head now weights classes (`class_weight: true`), searches
C up to 10 and chooses it by an inner cross-validation over the training speakers.
"""

import numpy as np

from emotion2vec.heads import Split, build_head, load_config
from emotion2vec.metrics import score_labels

CLASSES = ["big", "small1", "small2"]


def _imbalanced(seed, n=(240, 24, 24), speakers=8, dim=20, sep=2.0):
    """Utterance vectors [1, D]: class k > 0 shifted by `sep` in dimension k, speakers with
    their own offset (removed per speaker, as --normalize speaker would)."""
    rng = np.random.default_rng(seed)
    X, y, g = [], [], []
    for k, count in enumerate(n):
        for i in range(count):
            v = rng.normal(size=dim)
            if k:
                v[k] += sep
            X.append(v)
            y.append(k)
            g.append(f"s{i % speakers}")
    return np.array(X, np.float32), np.array(y), np.array(g)


def _ua(head_cfg, seed):
    X, y, g = _imbalanced(seed)
    Xt, yt, _ = _imbalanced(seed + 100)
    feats = {f"u{i}": X[i:i + 1] for i in range(len(X))}
    head = build_head("logreg", CLASSES, X.shape[1], head_cfg)
    head.fit(Split(list(feats), y, feats.__getitem__, groups=g), None, seed=seed)
    hyp = head.predict_proba([Xt[i:i + 1] for i in range(len(Xt))]).argmax(axis=1)
    m = score_labels([CLASSES[i] for i in yt], [CLASSES[i] for i in hyp], CLASSES)
    return m["ua"], m["recall"]


def test_unweighted_overregularised_logreg_starves_minority_classes():
    old = {"head": "logreg", "C": [1.0e-3, 1.0e-2, 1.0e-1], "class_weight": False,
           "select_metric": "ua", "max_iter": 1000}
    new = load_config("logreg", None)
    assert new["class_weight"] is True and max(new["C"]) >= 1.0
    for seed in (0, 1):
        ua_old, rec_old = _ua({**old, "C": [1.0e-3]}, seed)
        ua_new, rec_new = _ua(new, seed)
        # The old regime: (nearly) everything is the majority class.
        assert rec_old["small1"] < 0.2 and rec_old["small2"] < 0.2, rec_old
        assert ua_old < 0.4
        # The shipped configuration recovers the minority classes.
        assert rec_new["small1"] > 0.55 and rec_new["small2"] > 0.55, rec_new
        assert ua_new > ua_old + 0.25
