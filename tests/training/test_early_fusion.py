"""Early fusion (steps/train_cv.sh `<feat-dir>` = a,b): several feature sets into one head."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers.traincorpus import make_corpus, run_entry_point

from emotion2vec.datadir import read_kv
from emotion2vec.errors import E2VError
from emotion2vec.heads.inputs import fold_splits
from emotion2vec.heads.pooling import parse_pooling, pool_matrix
from emotion2vec.training.experiment import prepare, run_fold
from emotion2vec.training.expdir import read_list
from emotion2vec.training.featureset import FeatureSet

REPO = Path(__file__).resolve().parents[2]


def two_sets(root: Path):
    """One data dir; a frame-level set (6 dims) and an utterance-level one (4 dims)."""
    data, fa = make_corpus(root / "a", utts_per_spk=4, dim=6, frames=(2, 9))
    _, fb = make_corpus(root / "b", utts_per_spk=4, dim=4, granularity="utterance", seed=1)
    return data, fa, fb


def expected_vectors(fa: Path, fb: Path, utts, pooling: str) -> np.ndarray:
    """By hand: set a pooled with `pooling`, set b as it is, side by side."""
    a, b = FeatureSet(fa / "feats.scp", utts), FeatureSet(fb / "feats.scp", utts)
    stats = parse_pooling(pooling)
    return np.stack([np.concatenate([pool_matrix(a[u], stats).astype(np.float32), b[u][0]])
                     for u in utts])


def test_fused_fold_vectors_are_the_concatenated_pooled_sets(tmp_path):
    data, fa, fb = two_sets(tmp_path)
    exp = tmp_path / "exp"
    s = prepare(data, f"{fa},{fb}", exp, head="svm", pooling="mean+std")
    assert s["feat_dir"] == f"{fa},{fb}" and s["pooling"] == "mean+std" and s["dim"] == 16
    info = json.loads((exp / "feats_fused" / "feat_info.json").read_text())
    assert info["feat_type"] == "fusion" and info["granularity"] == "utterance"
    assert [(c["feat_dir"], c["pooling"], c["pooled_dim"], c["columns"])
            for c in info["components"]] == [(str(fa), "mean+std", 12, [0, 12]),
                                            (str(fb), "mean", 4, [12, 16])]
    assert info["components"][1]["used_as_is"] is True
    assert s["feat_info"]["components"] == info["components"]
    # The vectors a fold's head is given.
    lists = exp / "folds" / "fold1"
    parts = {p: read_list(lists / p) for p in ("train", "test")}
    every = parts["train"] + parts["test"]
    labels = {u: 0 for u in every}
    spk = {u: v.split()[0] for u, v in read_kv(data / "utt2spk").items()}
    fused = FeatureSet(s["feats_scp"], every)
    splits, _, cfg = fold_splits(s["head"], s["config"], s["feat_info"], s["feature_level"],
                                 fused.__getitem__, fused.dim, parts, labels, spk)
    for p in ("train", "test"):
        np.testing.assert_array_equal(splits[p].vectors,
                                      expected_vectors(fa, fb, parts[p], "mean+std"))
    # The head is told the vectors are used as they are (pooled per set already).
    assert cfg["pooling"] == "mean" and splits["train"].pooling == "mean"


def test_default_head_for_fused_frame_features_is_an_utterance_head(tmp_path):
    data, fa, fb = two_sets(tmp_path)
    # emotion2vec frames alone would get the e2v frame head; fused, its utterance row.
    s = prepare(data, f"{fa},{fb}", tmp_path / "exp")
    assert s["head"] == "logreg" and "early fusion" in s["head_chosen_by"]


@pytest.mark.parametrize("case,message", [
    ("missing", "early fusion: feature set 2 of 2 ({fb}): {fb}/feats.scp: no features for 1 "
                "of 24 utterance(s), e.g. 'Ses02M-utt001'"),
    ("frame_head", "head 'e2v' works on the frames of one feature set; early fusion "
                   "(2 feature directories"),
    ("twice", "is listed twice"),
])
def test_prepare_errors(tmp_path, case, message):
    data, fa, fb = two_sets(tmp_path)
    feats, head = f"{fa},{fb}", "svm"
    if case == "missing":
        scp = fb / "feats.scp"
        scp.write_text("".join(l + "\n" for l in scp.read_text().splitlines()
                               if not l.startswith("Ses02M-utt001 ")))
    elif case == "frame_head":
        head = "e2v"
    else:
        feats = f"{fa},{fb},{fa}"
    with pytest.raises(E2VError) as e:
        prepare(data, feats, tmp_path / "exp", head=head)
    assert message.format(fb=fb) in str(e.value)
    assert not (tmp_path / "exp" / "feats_fused" / "feats.scp").exists()


def rewrite_set(feat_dir: Path, scale: float) -> None:
    """The same utterances re-extracted with other values (the ark rewritten)."""
    import kaldi_native_io as kio
    fs = FeatureSet(feat_dir / "feats.scp")
    mats = {u: fs[u] * scale for u in fs.utts}
    fs.close()
    tmp = feat_dir / "new.ark"
    w = kio.FloatMatrixWriter(f"ark:{tmp}")
    for u, m in mats.items():
        w.write(u, m)
    w.close()
    os.replace(tmp, feat_dir / "feats.ark")


def test_rerun_reuses_the_fused_ark_and_a_changed_set_rebuilds_it(tmp_path, capsys):
    data, fa, fb = two_sets(tmp_path)
    exp = tmp_path / "exp"
    args = (data, f"{fa},{fb}", exp)
    prepare(*args, head="svm")
    run_fold(exp, 1)
    ark = exp / "feats_fused" / "feats.ark"
    before, done = ark.stat().st_mtime_ns, (exp / "fold1" / ".done").read_text()
    capsys.readouterr()
    prepare(*args, head="svm")
    run_fold(exp, 1)
    err = capsys.readouterr().err
    assert "feats_fused is up to date" in err and "fold1: already done" in err
    assert ark.stat().st_mtime_ns == before
    # Set b re-extracted: a fold job before the next prepare refuses the stale fused ark ...
    rewrite_set(fb, 2.0)
    with pytest.raises(E2VError, match="feature sets of this early fusion changed"):
        run_fold(exp, 1)
    # ... and the prepare of the rerun rebuilds it, then the fold retrains on it.
    prepare(*args, head="svm")
    run_fold(exp, 1)
    err = capsys.readouterr().err
    assert "early fusion: wrote" in err and "fold1: retraining: its inputs changed" in err
    assert (exp / "fold1" / ".done").read_text() != done
    utts = read_list(exp / "folds" / "fold1" / "test")
    np.testing.assert_array_equal(FeatureSet(exp / "feats_fused" / "feats.scp", utts).pooled(),
                                  expected_vectors(fa, fb, utts, "mean"))
    # Another pooling is another experiment (as for one feature set): refused, ark untouched.
    rebuilt = ark.stat().st_mtime_ns
    assert rebuilt != before
    with pytest.raises(E2VError, match="different settings"):
        prepare(*args, head="svm", pooling="mean+std")
    assert ark.stat().st_mtime_ns == rebuilt


def test_an_interrupted_build_is_never_reused(tmp_path, monkeypatch):
    from emotion2vec.training import earlyfusion
    data, fa, fb = two_sets(tmp_path)
    exp = tmp_path / "exp"
    prepare(data, f"{fa},{fb}", exp, head="svm")
    rewrite_set(fb, 3.0)

    def dies(out_dir, rows):
        next(iter(rows))
        raise E2VError("killed")
    monkeypatch.setattr(earlyfusion, "write_plain", dies)
    with pytest.raises(E2VError, match="killed"):
        prepare(data, f"{fa},{fb}", exp, head="svm")
    monkeypatch.undo()
    with pytest.raises(E2VError, match="its build did not finish"):
        run_fold(exp, 1)
    prepare(data, f"{fa},{fb}", exp, head="svm")
    utts = read_list(exp / "utt2label")
    np.testing.assert_array_equal(FeatureSet(exp / "feats_fused" / "feats.scp", utts).pooled(),
                                  expected_vectors(fa, fb, utts, "mean"))


def test_train_cv_sh_with_two_feature_dirs(tmp_path):
    data, fa, fb = two_sets(tmp_path)
    exp = tmp_path / "exp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    r = subprocess.run([str(REPO / "steps/train_cv.sh"), "--head", "svm", "--pooling", "mean+std",
                        str(data), f"{fa},{fb}", str(exp)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout
    res = json.loads((exp / "results.json").read_text())
    assert res["settings"]["feat_dir"] == f"{fa},{fb}" and res["ua"]["mean"] >= 70
    row = run_entry_point("append_results", exp / "results.json", tmp_path / "RESULTS.md")
    assert row.returncode == 0, row.stderr
    assert ("| fusion: emotion2vec layer last, mean+std + emotion2vec layer last, utterance "
            "vectors | tiny + tiny | svm |") in (tmp_path / "RESULTS.md").read_text()
    r = subprocess.run([str(REPO / "steps/train_cv.sh"), str(data), f"{fa},{tmp_path}/nope",
                        str(exp)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f"no {tmp_path}/nope/feats.scp" in r.stderr


def fbank_sets(root: Path):
    """Waveforms for the utterances of a generated data dir, and two fbank sets made from
    them as the extraction step would: 6 bins per frame, 4 bins averaged per utterance."""
    import kaldi_native_io as kio
    from emotion2vec.features import make_extractor

    data, _ = make_corpus(root / "c", utts_per_spk=4)
    labels = {u: v.split()[0] for u, v in read_kv(data / "utt2emo").items()}
    rng, t = np.random.default_rng(0), np.arange(8000) / 16000.0
    classes = sorted(set(labels.values()))
    wavs = {u: (0.3 * np.sin(2 * np.pi * (200 + 250 * classes.index(e)) * t)
                + 0.05 * rng.normal(size=t.size)).astype(np.float32) for u, e in labels.items()}
    dirs = []
    for name, bins, gran in (("fa", 6, "frame"), ("fb", 4, "utterance")):
        d = root / name
        d.mkdir()
        ext = make_extractor("fbank", num_mel_bins=bins, sample_rate=16000)
        w = kio.FloatMatrixWriter(f"ark,scp:{d / 'feats.ark'},{d / 'feats.scp'}")
        for u in sorted(wavs):
            m = np.asarray(ext.extract([wavs[u]])[0], dtype=np.float32)
            w.write(u, m.mean(axis=-2, keepdims=True) if gran == "utterance" else m)
        w.close()
        (d / "feat_info.json").write_text(json.dumps(
            {"feat_type": "fbank", "granularity": gran, "dim": bins, "sample_rate": 16000,
             "options": {"num_mel_bins": bins}}))
        dirs.append(d)
    return data, dirs, wavs


def test_fused_heads_infer_and_pack_from_audio(tmp_path):
    from emotion2vec.heads import load_head
    from emotion2vec.inference import packing
    from emotion2vec.inference.loading import load_packed, load_predictor

    data, (fa, fb), wavs = fbank_sets(tmp_path)
    exp = tmp_path / "exp"
    prepare(data, f"{fa},{fb}", exp, head="svm", pooling="mean+std", normalize="global")
    run_fold(exp, 1)
    test = read_list(exp / "folds" / "fold1" / "test")
    head = load_head(exp / "fold1" / "seed42")
    want = head.predict_vectors(FeatureSet(exp / "feats_fused" / "feats.scp", test).pooled())
    pred = load_predictor(str(exp / "fold1"))
    post, embs = pred.predict([wavs[u] for u in test], want_embeddings=True)
    np.testing.assert_allclose(post, want, atol=1e-5)
    assert embs[0].shape == (16,)
    m = packing.pack(exp, tmp_path / "m.tar.gz", fold="1")
    assert m["feat_info"]["feat_type"] == "fusion"
    packed = load_packed(tmp_path / "m.tar.gz", cache_dir=tmp_path / "cache")
    np.testing.assert_allclose(packed.predict([wavs[u] for u in test])[0], want, atol=1e-5)
    with pytest.raises(E2VError, match="--encoder and --include-encoder are not supported"):
        packing.pack(exp, tmp_path / "m2.tar.gz", fold="1", include_encoder=True)
    with pytest.raises(E2VError, match="takes no other encoder"):
        load_predictor(str(exp / "fold1"), encoder="other")
