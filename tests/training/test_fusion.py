"""Late fusion (steps/fuse.sh, emotion2vec.bin.fuse): systems trained by train_cv on generated
corpora, fused, and compared with the posterior average computed here by hand."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emotion2vec.metrics import score_labels
from helpers.traincorpus import CLASSES, make_corpus, run_entry_point as py

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def train(data, feats, exp, *opts):
    """steps/train_cv.sh's three stages, in this process (a subprocess costs a torch import)."""
    r = py("train_cv_prepare", *opts, data, feats, exp)
    assert r.returncode == 0, r.stderr
    for k in range(1, int(r.stdout) + 1):
        assert py("train_fold", "--fold", k, exp).returncode == 0
    r = py("train_cv_merge", exp)
    assert r.returncode == 0, r.stderr
    return exp


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    """Two corpora with the same utterances, labels and sessions but other features (a hard
    task: the systems err, and differently), and systems trained on them."""
    root = tmp_path_factory.mktemp("fusion")
    c1 = make_corpus(root / "c1", separation=0.25, seed=0)
    c2 = make_corpus(root / "c2", separation=0.25, seed=1)
    return {"root": root, "c1": c1, "c2": c2,
            "A": train(*c1, root / "A", "--head", "svm", "--seeds", "2"),
            "B": train(*c2, root / "B", "--head", "logreg", "--seeds", "2"),
            "C": train(*c2, root / "C", "--head", "logreg")}     # one seed


def read_predictions(path):
    """{utt: (ref, hyp, posteriors)} and the header's classes."""
    lines = Path(path).read_text().splitlines()
    classes = [c[2:-1] for c in lines[0].split()[4:]]
    rows = {}
    for line in lines[1:]:
        f = line.split()
        rows[f[0]] = (f[1], f[2], np.array([float(x) for x in f[3:]]))
    return rows, classes


def fold_tests(exp):
    return [Path(exp, "folds", f"fold{k}", "test").read_text().split() for k in (1, 2, 3)]


def check_scores(out, labels, exp):
    """results.json of `out` equals the metrics of `labels` ({utt: (ref, hyp)}) computed
    here with emotion2vec.metrics: per fold, mean over folds, pooled."""
    res = json.loads((Path(out) / "results.json").read_text())
    per_fold = [score_labels([labels[u][0] for u in t], [labels[u][1] for u in t], CLASSES)
                for t in fold_tests(exp)]
    for key in ("wa", "ua", "f1_macro"):
        assert res[key]["mean"] == pytest.approx(np.mean([m[key] for m in per_fold]) * 100,
                                                 abs=1e-3), key
        assert [f[key] for f in res["folds"]] == pytest.approx(
            [m[key] * 100 for m in per_fold], abs=1e-3)
    utts = sorted(labels)
    pooled = score_labels([labels[u][0] for u in utts], [labels[u][1] for u in utts], CLASSES)
    assert res["pooled"]["ua"] == pytest.approx(pooled["ua"] * 100, abs=1e-3)
    assert res["ua_ci95"][0] <= res["pooled"]["ua"] <= res["ua_ci95"][1]
    return res


def hand_fusion(files, weights, method="mean"):
    """The fused posteriors and labels of prediction files, computed here."""
    tables = [read_predictions(f)[0] for f in files]
    out = {}
    for u in tables[0]:
        p = np.array([t[u][2] for t in tables])
        w = np.array(weights, dtype=float)[:, None]
        if method == "mean":
            q = (w * p).sum(axis=0) / w.sum()
        else:
            q = np.exp((w * np.log(np.maximum(p, 1e-6))).sum(axis=0) / w.sum())
            q /= q.sum()
        out[u] = (tables[0][u][0], CLASSES[int(np.argmax(q))], q)
    return out


def labels_of(rows):
    return {u: v[1] for u, v in rows.items()}


def assert_fused_predictions(path, expected):
    got, classes = read_predictions(path)
    assert classes == CLASSES and sorted(got) == sorted(expected)
    for u, (ref, hyp, q) in expected.items():
        assert got[u][:2] == (ref, hyp), u
        assert np.allclose(got[u][2], q, atol=1e-6), u


def test_mean_fusion_is_the_posterior_average(systems, tmp_path):
    A, B = systems["A"], systems["B"]
    r = py("fuse", A, B, tmp_path / "AB")
    assert r.returncode == 0, r.stderr
    expected = hand_fusion([A / "predictions", B / "predictions"], [1, 1])
    a, b = (read_predictions(x / "predictions")[0] for x in (A, B))
    # Not a trivial case: the systems disagree, and the fusion follows neither everywhere.
    assert any(a[u][1] != b[u][1] for u in a)
    assert any(expected[u][1] != a[u][1] for u in a) or any(expected[u][1] != b[u][1] for u in a)
    assert_fused_predictions(tmp_path / "AB" / "predictions", expected)
    # The second seed is fused from the systems' second seeds.
    assert_fused_predictions(tmp_path / "AB" / "predictions.seed43", hand_fusion(
        [A / "predictions.seed43", B / "predictions.seed43"], [1, 1]))
    res = check_scores(tmp_path / "AB", {u: v[:2] for u, v in expected.items()}, A)
    assert [s["seed"] for s in res["seeds"]] == [42, 43]
    assert res["fusion"]["method"] == "mean" and res["fusion"]["seeds"].startswith("per seed")
    assert [s["weight"] for s in res["fusion"]["systems"]] == [1, 1]
    alone = [s["alone"]["ua"] for s in res["fusion"]["systems"]]
    assert alone == [json.loads((x / "results.json").read_text())["ua"]["mean"] for x in (A, B)]
    assert res["settings"]["head"] == "mean fusion: svm + logreg"
    summary = (tmp_path / "AB" / "summary.md").read_text()
    assert "## Fused systems" in summary and f"`{A}` | svm" in summary
    assert "## Per fold" in summary and "UA 95 % bootstrap CI" in summary
    assert (tmp_path / "AB" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "ang" in (tmp_path / "AB" / "confusion.txt").read_text()


def test_weights(systems, tmp_path):
    A, B = systems["A"], systems["B"]
    r = py("fuse", "--weights", "3,1", A, B, tmp_path / "w")
    assert r.returncode == 0, r.stderr
    expected = hand_fusion([A / "predictions", B / "predictions"], [3, 1])
    assert labels_of(expected) != labels_of(hand_fusion([A / "predictions", B / "predictions"],
                                                        [1, 1]))
    assert_fused_predictions(tmp_path / "w" / "predictions", expected)
    res = check_scores(tmp_path / "w", {u: v[:2] for u, v in expected.items()}, A)
    assert [s["weight_normalised"] for s in res["fusion"]["systems"]] == [0.75, 0.25]
    assert res["settings"]["head"] == "mean fusion: svm + logreg (weights 3, 1)"
    # Weight 0 leaves the system out: the labels are the other system's.
    assert py("fuse", "--weights", "0,1", A, B, tmp_path / "w0").returncode == 0
    only_b = read_predictions(B / "predictions")[0]
    assert labels_of(read_predictions(tmp_path / "w0" / "predictions")[0]) == labels_of(only_b)
    for bad, message in (("1,2,3", "3 weight(s) for 2 systems"), ("1,x", "want comma-separated"),
                         ("1,-1", "must be finite, >= 0"), ("0,0", "not all 0")):
        r = py("fuse", "--weights", bad, A, B, tmp_path / "bad")
        assert r.returncode == 1 and message in r.stderr, (bad, r.stderr)
    assert not (tmp_path / "bad").exists()


def test_geometric_mean(systems, tmp_path):
    A, B = systems["A"], systems["B"]
    r = py("fuse", "--method", "geometric", "--weights", "2,1", A, B, tmp_path / "g")
    assert r.returncode == 0, r.stderr
    expected = hand_fusion([A / "predictions", B / "predictions"], [2, 1], "geometric")
    arith = hand_fusion([A / "predictions", B / "predictions"], [2, 1])
    assert not all(np.allclose(expected[u][2], arith[u][2], atol=1e-3) for u in expected)
    assert_fused_predictions(tmp_path / "g" / "predictions", expected)
    res = check_scores(tmp_path / "g", {u: v[:2] for u, v in expected.items()}, A)
    assert res["fusion"]["method"] == "geometric" and res["fusion"]["floor"] == 1e-6
    r = py("fuse", "--method", "median", A, B, tmp_path / "m")
    assert r.returncode == 2 and "invalid choice: 'median'" in r.stderr


def test_fusing_a_system_with_itself_equals_it(systems, tmp_path):
    A = systems["A"]
    assert py("fuse", A, A, tmp_path / "AA").returncode == 0
    assert py("fuse", "--method", "geometric", A, A, tmp_path / "AAg").returncode == 0
    own = json.loads((A / "results.json").read_text())
    labels = labels_of(read_predictions(A / "predictions")[0])
    for out in ("AA", "AAg"):
        res = json.loads((tmp_path / out / "results.json").read_text())
        for key in ("wa", "ua", "f1_macro", "f1_weighted", "pooled", "ua_ci95", "seeds"):
            assert res[key] == own[key], (out, key)
        assert [{k: f[k] for k in ("fold", "held_out", "ua", "wa", "confusion")}
                for f in res["folds"]] == \
            [{k: f[k] for k in ("fold", "held_out", "ua", "wa", "confusion")} for f in own["folds"]]
        fused = read_predictions(tmp_path / out / "predictions")[0]
        assert labels_of(fused) == labels


def test_different_seeds_fuse_each_systems_seed_mean(systems, tmp_path):
    A, C = systems["A"], systems["C"]           # seeds 42, 43 and 42
    r = py("fuse", A, C, tmp_path / "AC")
    assert r.returncode == 0, r.stderr
    a42, a43, c = (read_predictions(p)[0] for p in
                   (A / "fold1" / "seed42" / "predictions", A / "fold1" / "seed43" / "predictions",
                    C / "fold1" / "seed42" / "predictions"))
    got = read_predictions(tmp_path / "AC" / "predictions")[0]
    for u in a42:
        q = ((a42[u][2] + a43[u][2]) / 2 + c[u][2]) / 2
        assert np.allclose(got[u][2], q, atol=1e-6) and got[u][1] == CLASSES[int(np.argmax(q))]
    res = json.loads((tmp_path / "AC" / "results.json").read_text())
    assert [s["seed"] for s in res["seeds"]] == ["mean"] and res["settings"]["seeds"] == ["mean"]
    assert res["fusion"]["seeds"].startswith("seed means")
    assert not list((tmp_path / "AC").glob("predictions.seed*"))


def test_class_order_is_matched_by_name(systems, tmp_path):
    c1 = systems["c1"]
    (tmp_path / "classes").write_text("sad\nneu\nhap\nang\n")
    D = train(*c1, tmp_path / "D", "--head", "logreg", "--classes", tmp_path / "classes")
    B = systems["B"]
    r = py("fuse", B, D, tmp_path / "BD")
    assert r.returncode == 0, r.stderr
    d_rows, d_classes = read_predictions(D / "predictions")
    assert d_classes == ["sad", "neu", "hap", "ang"]
    b_rows = read_predictions(B / "predictions")[0]
    got = read_predictions(tmp_path / "BD" / "predictions")[0]
    perm = [d_classes.index(c) for c in CLASSES]
    for u in b_rows:
        q = (b_rows[u][2] + d_rows[u][2][perm]) / 2
        assert np.allclose(got[u][2], q, atol=1e-6)
    res = json.loads((tmp_path / "BD" / "results.json").read_text())
    assert res["classes"] == CLASSES and "matched by class name" in res["fusion"]["notes"][0]


def test_mismatched_folds_and_classes_are_refused(systems, tmp_path):
    c1, A = systems["c1"], systems["A"]
    spk = train(*c1, tmp_path / "spk", "--head", "logreg", "--cv", "leave-one-speaker-out")
    r = py("fuse", A, spk, tmp_path / "out")
    assert r.returncode == 1
    assert (f"the systems have different folds: {A} has 3 (leave-one-session-out), "
            f"{tmp_path / 'spk'} has 6 (leave-one-speaker-out)") in r.stderr
    groups = train(*c1, tmp_path / "groups", "--head", "logreg", "--cv", "speaker-groups:3",
                   "--seed", "1")
    assert fold_tests(groups)[0] != fold_tests(A)[0]
    r = py("fuse", A, groups, tmp_path / "out")
    assert r.returncode == 1 and "fold1 tests other utterances in" in r.stderr, r.stderr
    only_a = set(fold_tests(A)[0]) - set(fold_tests(groups)[0])
    only_b = set(fold_tests(groups)[0]) - set(fold_tests(A)[0])
    first = sorted(only_a)[0]
    assert (f"(folds/fold1/test: {len(only_a)} only in the first, e.g. '{first}'" in r.stderr
            and f"{len(only_b)} only in the second, e.g. '{sorted(only_b)[0]}'" in r.stderr)
    (tmp_path / "map").write_text("sad neu\n")
    (tmp_path / "classes").write_text("ang\nhap\nneu\n")
    three = train(*c1, tmp_path / "three", "--head", "logreg", "--label-map", tmp_path / "map",
                  "--classes", tmp_path / "classes")
    r = py("fuse", A, three, tmp_path / "out")
    assert r.returncode == 1
    assert (f"the systems have different classes: {A} (classes.txt: ang hap neu sad) vs "
            f"{tmp_path / 'three'} (ang hap neu)") in r.stderr
    assert not (tmp_path / "out").exists()


def test_missing_posterior_and_unfinished_system_are_errors(systems, tmp_path):
    A, B = systems["A"], systems["B"]
    broken = tmp_path / "broken"
    shutil.copytree(B, broken)
    p = broken / "fold2" / "seed43" / "predictions"
    lines = p.read_text().splitlines()
    gone = lines[5].split()[0]
    p.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    r = py("fuse", A, broken, tmp_path / "out")
    assert r.returncode == 1
    assert (f"system {broken}: {p}: no posterior for 1 test utterance(s) of the fold, e.g. "
            f"'{gone}'") in r.stderr
    f = lines[5].split()
    p.write_text("\n".join(lines[:5] + [" ".join(f[:2] + ["<missing>"])] + lines[6:]) + "\n")
    r = py("fuse", A, broken, tmp_path / "out")
    assert r.returncode == 1 and f"{p}:6: utterance '{gone}' has no posteriors" in r.stderr
    (broken / "fold2" / ".done").unlink()
    r = py("fuse", A, broken, tmp_path / "out")
    assert r.returncode == 1 and f"{broken}: fold2 is not finished" in r.stderr
    (broken / "results.json").unlink()
    r = py("fuse", A, broken, tmp_path / "out")
    assert r.returncode == 1 and "no results.json: its training has not finished" in r.stderr
    r = py("fuse", A, B, A)
    assert r.returncode == 1 and f"<out-dir> {A} is the input experiment {A}" in r.stderr
    r = py("fuse", A, B)
    assert r.returncode == 2 and "at least 2 experiment directories" in r.stderr


def test_fuse_sh_and_a_results_row(systems, tmp_path):
    A, B = systems["A"], systems["B"]
    out = tmp_path / "fused"
    r = subprocess.run([REPO / "steps/fuse.sh", "--weights", "2,1", A, B, out], env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{out}: WA" in r.stdout and "mean fusion of 2 systems, per seed, 3 folds" in r.stdout
    assert "steps/fuse.sh --weights 2\\,1 " in (out / "cmd").read_text()
    res = json.loads((out / "results.json").read_text())
    assert "steps/fuse.sh" in res["settings"]["command"]
    md = tmp_path / "RESULTS.md"
    r = py("append_results", out / "results.json", md, "--exp", "fused")
    assert r.returncode == 0, r.stderr
    row = md.read_text().splitlines()[-1]
    assert "mean fusion: svm + logreg (weights 2, 1)" in row and "leave-one-session-out" in row
    assert f"{res['ua']['mean']:.2f} ± {res['ua']['std']:.2f}" in row and row.endswith("fused |")
    for args, code, message in (([A, B], 2, "expected at least 3 arguments"),
                                (["--method", "x", A, B, out], 2, "invalid choice: 'x'"),
                                (["--bogus", "1", A, B, out], 2, "")):
        r = subprocess.run([REPO / "steps/fuse.sh", *args], env=ENV, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == code and message in r.stderr, (args, r.stderr)
