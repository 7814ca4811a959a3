"""steps/train_cv.sh, steps/score.sh and the Python entry points, end to end."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers.traincorpus import make_corpus, run_entry_point

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


def sh(*args, cwd=None):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)


py = run_entry_point


@pytest.fixture(scope="module")
def svm_exp(tmp_path_factory):
    """One shell run of the whole pipeline (svm head: fast) shared by several tests."""
    root = tmp_path_factory.mktemp("cv")
    data, feats = make_corpus(root)
    exp = root / "exp"
    # A launcher with options of its own ($train_cmd of cmd.sh often carries some).
    r = sh(REPO / "steps/train_cv.sh", "--cmd", f"{REPO}/utils/parallel/run.py --max-jobs-run 2",
           "--head", "svm", "--seeds", "2", data, feats, exp, cwd=root)
    assert r.returncode == 0, r.stderr + r.stdout
    return root, data, feats, exp, r


def test_outputs_and_results_json(svm_exp):
    root, data, feats, exp, r = svm_exp
    res = json.loads((exp / "results.json").read_text())
    assert res["protocol"] == "leave-one-session-out" and res["speaker_independent"] is True
    assert len(res["folds"]) == 3 and [f["held_out"] for f in res["folds"]] == ["Ses01", "Ses02", "Ses03"]
    for k in ("wa", "ua", "f1_macro", "f1_weighted"):
        assert 70 <= res[k]["mean"] <= 100, (k, res[k])           # separable data, percent units
        assert res[k]["mean"] == pytest.approx(np.mean([f[k] for f in res["folds"]]), abs=1e-3)
    assert [s["seed"] for s in res["seeds"]] == [42, 43]
    assert res["ua_ci95"][0] <= res["pooled"]["ua"] <= res["ua_ci95"][1]
    assert res["num_missing"] == 0 and res["num_utts"] == 72
    assert res["settings"]["head"] == "svm" and res["settings"]["valid"] == "none"  # svm: inner CV
    for name in ("predictions", "predictions.seed43", "summary.md", "confusion.txt",
                 "confusion.png", "cmd"):
        assert (exp / name).is_file(), name
    assert "steps/train_cv.sh --cmd" in (exp / "cmd").read_text()
    assert "--head svm --seeds 2" in (exp / "cmd").read_text()
    lines = [l.split() for l in (exp / "predictions").read_text().splitlines()
             if not l.startswith("#")]
    assert len(lines) == 72 and all(len(l) == 3 + 4 for l in lines)
    assert (exp / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| WA |" in (exp / "summary.md").read_text() and "std over seeds" in (exp / "summary.md").read_text()
    # Speaker-disjoint folds on disk.
    spk = dict(l.split() for l in (data / "utt2spk").read_text().splitlines())
    for k in (1, 2, 3):
        d = exp / "folds" / f"fold{k}"
        test = {spk[u] for u in (d / "test").read_text().split()}
        train = {spk[u] for u in (d / "train").read_text().split() + (d / "valid").read_text().split()}
        assert not test & train


def test_rerun_skips_done_folds_and_refuses_changed_settings(svm_exp):
    root, data, feats, exp, _ = svm_exp
    before = (exp / "fold1" / "seed42" / "head.safetensors").stat().st_mtime_ns
    r = sh(REPO / "steps/train_cv.sh", "--head", "svm", "--seeds", "2", data, feats, exp, cwd=root)
    assert r.returncode == 0, r.stderr
    assert "fold1: already done" in (exp / "log" / "train.1.log").read_text()
    assert (exp / "fold1" / "seed42" / "head.safetensors").stat().st_mtime_ns == before
    r = py("train_cv_prepare", "--head", "svm", "--seeds", "3", data, feats, exp)
    assert r.returncode == 1
    assert "was made with different settings (seeds)" in r.stderr
    r = py("train_cv_prepare", "--head", "logreg", "--seeds", "2", data, feats, exp)
    assert r.returncode == 1 and "different settings (config, head)" in r.stderr


def test_load_head_from_fold_dir_predicts_like_predictions_file(svm_exp):
    from emotion2vec.heads import load_head
    from emotion2vec.training.featureset import FeatureSet
    _, _, feats, exp, _ = svm_exp
    head = load_head(exp / "fold1")            # the first seed's head
    test = (exp / "folds" / "fold1" / "test").read_text().split()
    p = head.predict_proba(FeatureSet(feats / "feats.scp", test).get(test))
    rows = {l.split()[0]: [float(x) for x in l.split()[3:]]
            for l in (exp / "fold1" / "seed42" / "predictions").read_text().splitlines()
            if not l.startswith("#")}
    assert np.allclose(p, np.array([rows[u] for u in test]), atol=1e-5)


def test_score_sh_counts_missing_and_rejects_unknown(svm_exp, tmp_path):
    root, data, _, exp, _ = svm_exp
    hyp = tmp_path / "hyp"
    preds = [l for l in (exp / "predictions").read_text().splitlines() if not l.startswith("#")]
    hyp.write_text("".join(f"{l.split()[0]} {l.split()[2]} extra cols\n" for l in preds))
    full = sh(REPO / "steps/score.sh", data / "utt2emo", hyp, tmp_path / "out")
    assert full.returncode == 0, full.stderr
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    assert res["pooled"]["wa"] == pytest.approx(json.loads((exp / "results.json").read_text())
                                                ["pooled"]["wa"])
    hyp.write_text("".join(f"{l.split()[0]} {l.split()[2]}\n" for l in preds[1:]))
    r = sh(REPO / "steps/score.sh", data / "utt2emo", hyp, tmp_path / "out2")
    assert r.returncode == 0
    assert "1 missing" in r.stdout and preds[0].split()[0] in r.stdout
    res2 = json.loads((tmp_path / "out2" / "results.json").read_text())
    assert res2["num_missing"] == 1 and res2["pooled"]["wa"] < res["pooled"]["wa"] or \
        res["pooled"]["wa"] == 0
    assert res2["pooled"]["num"] == 72
    assert (tmp_path / "out2" / "missing_utts").read_text().split() == [preds[0].split()[0]]
    hyp.write_text("stranger ang\n")
    r = sh(REPO / "steps/score.sh", data / "utt2emo", hyp)
    assert r.returncode == 1 and "not in the reference, e.g. 'stranger'" in r.stderr
    r = sh(REPO / "steps/score.sh", data / "utt2emo")
    assert r.returncode == 2 and "expected 2 or 3 arguments" in r.stderr


def test_append_results(svm_exp, tmp_path):
    _, _, _, exp, _ = svm_exp
    md = tmp_path / "RESULTS.md"
    for _ in range(2):
        r = py("append_results", exp / "results.json", md, "--reference", "paper: 71.79 WA")
        assert r.returncode == 0, r.stderr
    text = md.read_text()
    assert text.count("| date | features |") == 1
    rows = [l for l in text.splitlines() if "paper: 71.79 WA" in l]
    assert len(rows) == 2 and "svm" in rows[0] and "leave-one-session-out" in rows[0]
    r = py("append_results", tmp_path / "nope.json", md)
    assert r.returncode == 1 and "nope.json: no such results file" in r.stderr


def test_e2v_through_python_entry_points(tmp_path):
    data, feats = make_corpus(tmp_path, utts_per_spk=8)
    cfg = tmp_path / "e2v.yaml"
    cfg.write_text("head: e2v\nepochs: 3\nbatch_size: 16\n")
    exp = tmp_path / "exp"
    r = py("train_cv_prepare", "--head", "e2v", "--config", cfg, "--cv", "speaker-groups:2",
           "--valid", "speaker", data, feats, exp)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "2"
    for k in (1, 2):
        r = py("train_fold", "--fold", k, exp)
        assert r.returncode == 0, r.stderr
        assert "epoch 3/3" in r.stderr
    r = py("train_cv_merge", exp)
    assert r.returncode == 0, r.stderr
    res = json.loads((exp / "results.json").read_text())
    assert res["protocol"] == "speaker-groups:2" and res["num_utts"] == 48
    assert all(f["valid_from"].startswith("speaker ") for f in res["folds"])


def test_missing_prediction_in_a_fold_is_counted(tmp_path):
    data, feats = make_corpus(tmp_path, utts_per_spk=8)
    exp = tmp_path / "exp"
    assert py("train_cv_prepare", "--head", "logreg", data, feats, exp).returncode == 0
    for k in (1, 2, 3):
        assert py("train_fold", "--fold", k, exp).returncode == 0
    p = exp / "fold2" / "seed42" / "predictions"
    lines = p.read_text().splitlines()
    dropped = lines[3].split()[0]
    p.write_text("\n".join(lines[:3] + lines[4:]) + "\n")
    r = py("train_cv_merge", exp)
    assert r.returncode == 0 and "1 MISSING predictions" in r.stdout
    res = json.loads((exp / "results.json").read_text())
    assert res["num_missing"] == 1 and res["missing"] == [dropped]
    assert res["folds"][1]["num_missing"] == 1 and res["folds"][1]["num"] == 16
    assert "1 reference utterance(s) had no prediction" in (exp / "summary.md").read_text()


def test_unfinished_fold_blocks_merge(tmp_path):
    data, feats = make_corpus(tmp_path, utts_per_spk=4)
    exp = tmp_path / "exp"
    assert py("train_cv_prepare", "--head", "logreg", data, feats, exp).returncode == 0
    r = py("train_cv_merge", exp)
    assert r.returncode == 1 and "3 fold(s) not finished (fold1, fold2, fold3)" in r.stderr


@pytest.mark.parametrize("case,message", [
    ("unknown_label", "utterance 'Ses01F-utt000' has label 'fru', not in the class inventory"),
    ("corrupt_scp", "does not point at a Kaldi matrix"),
    ("other_data", "no features for 1 of 73 utterance(s), e.g. 'Ses09F-utt000'"),
    ("utterance_feats_frame_head", "head 'e2v' needs frame-level features"),
    ("overlap", "test speakers also occur in training"),
])
def test_prepare_errors(tmp_path, case, message):
    kw = {}
    if case == "unknown_label":
        kw["extra_label"] = "fru"
    if case == "utterance_feats_frame_head":
        kw["granularity"] = "utterance"
    data, feats = make_corpus(tmp_path, **kw)
    args = ["--head", "e2v"]
    if case == "corrupt_scp":
        scp = feats / "feats.scp"
        lines = scp.read_text().splitlines()
        u, spec = lines[5].split()
        lines[5] = f"{u} {spec.rsplit(':', 1)[0]}:3"
        scp.write_text("\n".join(lines) + "\n")
    if case == "other_data":
        for f in ("utt2spk", "utt2emo", "utt2session"):
            (data / f).write_text((data / f).read_text() + "Ses09F-utt000 " +
                                  {"utt2spk": "Ses09F", "utt2emo": "ang", "utt2session": "Ses09"}[f]
                                  + "\n")
    if case == "overlap":
        # Sessions mislabelled so that a speaker spans two "sessions".
        lines = (data / "utt2session").read_text().splitlines()
        lines[0] = lines[0].split()[0] + " Ses02"
        (data / "utt2session").write_text("\n".join(lines) + "\n")
    r = py("train_cv_prepare", *args, data, feats, tmp_path / "exp")
    assert r.returncode == 1, r.stdout + r.stderr
    assert message in r.stderr


def test_drop_unlisted_lists_the_dropped(tmp_path):
    data, feats = make_corpus(tmp_path, extra_label="fru")
    exp = tmp_path / "exp"
    r = py("train_cv_prepare", "--head", "logreg", "--drop-unlisted", "true", data, feats, exp)
    assert r.returncode == 0, r.stderr
    assert (exp / "dropped_utts").read_text() == "Ses01F-utt000 fru\n"
    assert "1 utterance(s) with labels outside the inventory left out" in r.stderr
    assert json.loads((exp / "settings.json").read_text())["num_dropped"] == 1


def test_usage_errors():
    r = sh(REPO / "steps/train_cv.sh", "a", "b")
    assert r.returncode == 2 and "expected 3 arguments, got 2" in r.stderr
    r = sh(REPO / "steps/train_cv.sh", "--help")
    assert r.returncode == 0 and "--head" in r.stdout + r.stderr and "leave-one-speaker-out" in r.stdout + r.stderr
    r = sh(REPO / "steps/train_cv.sh", "--bogus", "1", "a", "b", "c")
    assert r.returncode == 2


def test_label_map_speaker_normalisation_and_balanced_sampling(tmp_path):
    data, feats = make_corpus(tmp_path, utts_per_spk=8, extra_label="exc")
    (tmp_path / "map").write_text("exc hap\n")
    cfg = tmp_path / "mlp.yaml"
    cfg.write_text("head: mlp\nepochs: 3\nbatch_size: 16\nsampler: balanced\n")
    exp = tmp_path / "exp"
    r = py("train_cv_prepare", "--head", "mlp", "--config", cfg, "--label-map", tmp_path / "map",
           "--normalize", "speaker", "--class-weight", "true", "--cv", "leave-one-speaker-out",
           "--valid", "none", data, feats, exp)
    assert r.returncode == 0, r.stderr
    assert "Ses01F-utt000 hap" in (exp / "utt2label").read_text()
    s = json.loads((exp / "settings.json").read_text())
    assert s["label_map"] == {"exc": "hap"} and s["normalize"] == "speaker"
    assert s["config"]["class_weight"] is True and s["num_folds"] == 6
    assert py("train_fold", "--fold", 1, exp).returncode == 0
    from emotion2vec.heads import load_head
    assert load_head(exp / "fold1").input_normalization == "speaker"
    assert "no validation set: keeping the last epoch (3)" in \
        py("train_fold", "--fold", 2, exp).stderr


def test_plot_features(corpus, tmp_path):
    data, feats = corpus
    out = tmp_path / "map.png"
    r = py("plot_features", "--method", "tsne", data, feats, out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    coords = (tmp_path / "map.png.coords").read_text().splitlines()
    assert len(coords) == 72 and coords[0].split()[:2] == ["Ses01F-utt000", "ang"]
    r = py("plot_features", "--method", "tsne", data, tmp_path, out)
    assert r.returncode == 1 and "feats.scp: no such file" in r.stderr
