"""The scikit-learn heads (heads/classic.py, selection.py, svmmath.py): numpy decisions equal
sklearn's, save/load keeps the posteriors, the inner CV stays inside the training speakers."""

import json

import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.heads import Split, build_head, load_head
from emotion2vec.heads.svmmath import svc_decision
from helpers.traincorpus import make_corpus, run_entry_point


def _blobs(n=60, dim=5, k=3, seed=0, sep=1.5, counts=None):
    """Overlapping Gaussian classes (some errors, some ties in the one-vs-one votes)."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(c, i) for i, c in enumerate(counts)]) if counts else np.arange(n) % k
    centers = rng.normal(size=(k, dim)) * sep
    X = rng.normal(size=(len(y), dim)) + centers[y] + 10.0      # off-centre: standardising matters
    return X.astype(np.float32), y.astype(np.int64)


def _split(X, y, groups=None):
    utts = [f"u{i:03d}" for i in range(len(y))]
    feats = {u: X[i:i + 1] for i, u in enumerate(utts)}     # [1, D]: used as they are
    return Split(utts, y, feats.__getitem__, groups=groups), [feats[u] for u in utts]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_svc_decision_equals_sklearn(k):
    from sklearn.svm import SVC

    X, y = _blobs(n=80, dim=6, k=k, seed=k)
    Xt, _ = _blobs(n=40, dim=6, k=k, seed=100 + k)
    for gamma, C in ((0.05, 1.0), (0.5, 10.0)):
        est = SVC(kernel="rbf", gamma=gamma, C=C).fit(X, y)
        ref = est.decision_function(Xt)
        got = svc_decision(Xt, est.support_vectors_, est.dual_coef_, est.intercept_,
                           est.n_support_, gamma)
        assert got.shape == ((40, 1) if k == 2 else (40, k))
        np.testing.assert_allclose(got.reshape(ref.shape), ref, rtol=1e-8, atol=1e-10)


def _reference(head, cand, X, y, seed=0):
    """The sklearn estimator the head should hold, fitted directly on the standardised data."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC, LinearSVC

    X = np.asarray(X, np.float64)
    mean, scale = X.mean(0), X.std(0)
    Xs = (X - mean) / scale
    cw = "balanced" if head.config.get("class_weight") else None
    if head.name == "logreg":
        est = LogisticRegression(C=cand["C"], max_iter=1000, class_weight=cw, random_state=seed)
    elif cand["kernel"] == "linear":
        est = LinearSVC(C=cand["C"], class_weight=cw, random_state=seed, dual="auto",
                        max_iter=5000)
    else:
        # break_ties: predict takes the argmax of the one-vs-rest scores (votes + confidences),
        # which is what the head's posteriors keep; libsvm's own vote takes the first tied class.
        est = SVC(C=cand["C"], kernel="rbf", gamma=cand["gamma"] / X.shape[1],
                  class_weight=cw, break_ties=True)
    return est.fit(Xs, y), (lambda Z: (np.asarray(Z, np.float64) - mean) / scale)


CASES = [
    ("svm", {"kernel": "linear", "C": [0.1]}, {"kernel": "linear", "C": 0.1}),
    ("svm", {"kernel": "rbf", "C": [3.0], "gamma": [0.5]}, {"kernel": "rbf", "C": 3.0, "gamma": 0.5}),
    ("logreg", {"C": [0.3]}, {"C": 0.3}),
]


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("name,cfg,cand", CASES)
def test_round_trip_and_decisions_equal_sklearn(tmp_path, name, cfg, cand, k):
    X, y = _blobs(n=90, k=k, seed=k)
    Xt, _ = _blobs(n=60, k=k, seed=50 + k)
    tr, _ = _split(X, y, groups=np.arange(90) % 6)
    head = build_head(name, [f"c{i}" for i in range(k)], 5, {**cfg, "class_weight": False})
    head.fit(tr, None, seed=0)
    test = [Xt[i:i + 1] for i in range(len(Xt))]
    p = head.predict_proba(test)
    assert p.shape == (60, k) and np.allclose(p.sum(1), 1, atol=1e-6)
    head.save(tmp_path / "h")
    again = load_head(tmp_path / "h")
    assert np.array_equal(again.predict_proba(test), p)
    est, standardize = _reference(head, cand, X, y)
    assert np.array_equal(p.argmax(1), est.predict(standardize(Xt)))
    if name == "logreg":    # its own probabilities, no temperature
        np.testing.assert_allclose(p, est.predict_proba(standardize(Xt)), atol=1e-6)
    else:                   # a softmax temperature was fitted, and it is not the identity
        assert head.state["temperature"] > 0 and head.state["temperature"] != 1.0


def test_class_weight_true_is_balanced():
    counts = [50, 8]
    X, y = _blobs(k=2, seed=3, sep=0.6, counts=counts)
    tr, feats = _split(X, y, groups=np.arange(len(y)) % 5)
    for name, cfg, cand in CASES:
        h = build_head(name, ["a", "b"], 5, {**cfg, "class_weight": True})
        est = h.estimator({**cand, "gamma_abs": 0.1}, 0)
        assert est.class_weight == "balanced", name
        off = build_head(name, ["a", "b"], 5, {**cfg, "class_weight": False})
        assert off.estimator({**cand, "gamma_abs": 0.1}, 0).class_weight is None, name
        h.fit(tr, None, seed=0)
        ref, standardize = _reference(h, cand, X, y)
        assert ref.class_weight == "balanced"
        hyp = h.predict_proba(feats).argmax(1)
        assert np.array_equal(hyp, ref.predict(standardize(X))), name
        # The weights matter on this data: the minority class wins more often with them.
        off.fit(tr, None, seed=0)
        assert (hyp == 1).sum() > (off.predict_proba(feats).argmax(1) == 1).sum(), name


@pytest.mark.parametrize("name,cfg,message", [
    ("svm", {"kernel": ["linear", "poly"]}, "svm head: kernel 'poly' not one of linear, rbf"),
    ("svm", {"kernel": ["linear", "rbf"], "C": {"linear": [1.0], "rbff": [10.0]}},
     "svm head: C per kernel .* not 'rbff'"),
    ("svm", {"kernel": ["linear", "rbf"], "C": {"linear": [1.0]}},
     r"want a list for each kernel searched \(linear, rbf\) and no other, not 'rbf'"),
    ("svm", {"select_metric": "acc"}, "svm head: select_metric 'acc' not one of wa, ua"),
    ("logreg", {"select_metric": "loss"}, "logreg head: select_metric 'loss' not one of"),
])
def test_bad_configuration_is_a_clear_error(name, cfg, message):
    X, y = _blobs(k=2)
    tr, _ = _split(X, y)
    with pytest.raises(E2VError, match=message):
        build_head(name, ["a", "b"], 5, cfg).fit(tr, None, seed=0)


def test_inner_cv_record_says_how_or_that_there_was_none():
    X, y = _blobs(n=40, k=2)
    tr, _ = _split(X, y, groups=np.array(["spk1"] * 40))
    info = build_head("logreg", ["a", "b"], 5, {"C": [0.1, 1.0]}).fit(tr, None, seed=0)
    assert info["inner_cv"]["by"] == "utterance (one speaker)" and len(info["grid"]) == 2
    tr, _ = _split(X, y)
    info = build_head("logreg", ["a", "b"], 5, {"C": [0.1, 1.0]}).fit(tr, None, seed=0)
    assert info["inner_cv"]["by"] == "utterance (no speakers given)"
    info = build_head("logreg", ["a", "b"], 5, {"C": 0.1}).fit(tr, None, seed=0)
    assert info["inner_cv"] == {"by": "none (a single setting)", "num_folds": 0}
    assert info["grid"] == [] and info["selected"] == {"C": 0.1}


def test_choice_recorded_in_state_and_fit_result(tmp_path):
    X, y = _blobs(n=90, k=3, seed=4)
    tr, feats = _split(X, y, groups=np.repeat(np.arange(6), 15))
    cfg = {"kernel": ["linear", "rbf"], "C": {"linear": [0.01, 1.0], "rbf": [1.0, 10.0]},
           "gamma": [0.25, 4.0], "inner_folds": 3}
    head = build_head("svm", ["a", "b", "c"], 5, cfg)
    info = head.fit(tr, None, seed=0)
    grid = info["grid"]
    assert [(g["kernel"], g["C"], g.get("gamma")) for g in grid] == [
        ("linear", 0.01, None), ("linear", 1.0, None), ("rbf", 1.0, 0.25), ("rbf", 1.0, 4.0),
        ("rbf", 10.0, 0.25), ("rbf", 10.0, 4.0)]
    best = max(grid, key=lambda g: g["cv_ua"])          # max keeps the first of equals
    chosen = {k: best[k] for k in ("kernel", "C", "gamma") if k in best}
    assert info["selected"] == chosen
    assert info["inner_cv"]["by"] == "speaker" and info["inner_cv"]["num_folds"] == 3
    assert info["temperature"] == head.state["temperature"]
    head.save(tmp_path / "h")
    meta = json.loads((tmp_path / "h" / "head.json").read_text())
    sel = meta["state"]["selected"]
    assert {k: sel[k] for k in chosen} == chosen
    if chosen["kernel"] == "rbf":
        assert sel["gamma_abs"] == pytest.approx(chosen["gamma"] / 5)
    # A linear-only grid records no gamma.
    lin = build_head("svm", ["a", "b", "c"], 5, {"kernel": "linear", "C": [0.1, 1.0]})
    assert set(lin.fit(tr, None, seed=0)["selected"]) == {"kernel", "C"}


def test_inner_cv_never_sees_the_test_speaker(tmp_path, monkeypatch):
    """A real fold (train_cv_prepare + train_fold): every inner fold is made of training
    speakers, inner valid speakers never train the same inner model, and no test vector ever
    reaches an estimator's fit or the RBF kernel."""
    import sklearn.linear_model
    import sklearn.svm

    from emotion2vec.heads import classic
    from emotion2vec.training.featureset import FeatureSet

    seen_rows, inner = [], []
    real_decider, real_kernel = classic._SklearnHead._decider, classic.rbf_kernel

    def decider(self, Z, y, seed):
        decide = real_decider(self, Z, y, seed)

        def record(cand, tr, va):
            inner.append((np.array(tr), np.array(va)))
            return decide(cand, tr, va)
        return record

    def kernel(A, B, gamma):
        seen_rows.extend([np.asarray(A, np.float64), np.asarray(B, np.float64)])
        return real_kernel(A, B, gamma)

    def recording(cls):
        real_fit = cls.fit

        def fit(est, X, y, *a, **kw):
            if getattr(est, "kernel", None) != "precomputed":     # kernels come via rbf_kernel
                seen_rows.append(np.asarray(X, np.float64))
            return real_fit(est, X, y, *a, **kw)
        monkeypatch.setattr(cls, "fit", fit)

    monkeypatch.setattr(classic._SklearnHead, "_decider", decider)
    monkeypatch.setattr(classic, "rbf_kernel", kernel)
    for cls in (sklearn.svm.SVC, sklearn.svm.LinearSVC, sklearn.linear_model.LogisticRegression):
        recording(cls)

    data, feats = make_corpus(tmp_path, utts_per_spk=8, dim=6)
    cfg = tmp_path / "svm.yaml"
    cfg.write_text("head: svm\nkernel: [linear, rbf]\nC: [0.1, 1.0]\ngamma: [1.0]\n")
    exp = tmp_path / "exp"
    r = run_entry_point("train_cv_prepare", "--head", "svm", "--config", cfg, data, feats, exp)
    assert r.returncode == 0, r.stderr
    r = run_entry_point("train_fold", "--fold", 1, exp)
    assert r.returncode == 0, r.stderr

    lists = exp / "folds" / "fold1"
    train, test = (lists / "train").read_text().split(), (lists / "test").read_text().split()
    assert (lists / "valid").read_text().split() == []              # svm: inner CV, no valid
    spk = dict(l.split() for l in (data / "utt2spk").read_text().splitlines())
    train_spk, test_spk = {spk[u] for u in train}, {spk[u] for u in test}
    assert test_spk and not train_spk & test_spk
    # Inner folds: indices into the training list, whole training speakers on each side.
    assert len(inner) == 4 * 4          # 4 candidates x min(5, 4 training speakers) folds
    for tr, va in inner:
        tr_spk, va_spk = {spk[train[i]] for i in tr}, {spk[train[i]] for i in va}
        assert tr_spk <= train_spk and va_spk <= train_spk and not tr_spk & va_spk
        assert len(tr) + len(va) == len(train)
    info = json.loads((exp / "fold1" / "seed42" / "train.json").read_text())
    valid_spk = info["inner_cv"]["valid_speakers"]     # one training speaker per inner fold
    assert sorted(s for v in valid_spk for s in v) == sorted(train_spk)
    assert {frozenset(spk[train[i]] for i in va) for _, va in inner} == {frozenset(v)
                                                                         for v in valid_spk}
    # The rows fits saw, against the standardised training and test vectors of this fold.
    head = load_head(exp / "fold1")
    fs = FeatureSet(feats / "feats.scp", train + test)
    std = lambda us: head._standardize(head.feats_vectors(fs.get(us)))       # noqa: E731
    tr_rows, te_rows = std(train), std(test)
    fs.close()
    rows = np.concatenate(seen_rows)
    assert len(rows) > len(train)
    d_train = np.abs(rows[:, None, :] - tr_rows[None]).max(-1).min(1)
    d_test = np.abs(rows[:, None, :] - te_rows[None]).max(-1).min(1)
    assert d_train.max() < 1e-9                     # every row is a training utterance's
    assert d_test.min() > 1e-3                      # none is a test utterance's
