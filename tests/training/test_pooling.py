"""heads/pooling.py: every statistic against numpy, specs and presets, edge cases; and the
issue's separability check on generated speech through the real steps (fbank, train_cv.sh)."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.heads import Split, build_head
from emotion2vec.heads.pooling import (PRESETS, Pooling, canonical, parse_pooling, pool_matrix,
                                       pooled_dim, resolve_pooling)
from helpers import audio_synth
from helpers.featsteps import run_step
from helpers.traincorpus import run_entry_point

def _reference(x: np.ndarray, stat: str) -> np.ndarray:
    """The statistic computed directly with numpy (float64), as docs/training.md defines it."""
    x = np.asarray(x, np.float64)
    pct = lambda q: np.percentile(x, q, axis=0)             # noqa: E731
    if stat == "slope":
        return np.polyfit(np.arange(len(x), dtype=np.float64), x, 1)[0]
    if stat == "delta":
        d = np.diff(x, axis=0)
        return np.concatenate([d.mean(0), d.std(0)])
    if stat.startswith("p") and stat[1:].replace(".", "").isdigit():
        return pct(float(stat[1:]))
    return {"mean": lambda: x.mean(0), "std": lambda: x.std(0), "min": lambda: x.min(0),
            "max": lambda: x.max(0), "range": lambda: x.max(0) - x.min(0),
            "iqr": lambda: pct(75) - pct(25), "prange": lambda: pct(99) - pct(1),
            "dur": lambda: np.array([float(len(x))])}[stat]()


ALL = ["mean", "std", "min", "max", "range", "p1", "p25", "p50", "p75", "p99", "p12.5", "iqr",
       "prange", "slope", "delta", "dur"]


@pytest.mark.parametrize("stat", ALL)
def test_each_statistic_equals_numpy(stat):
    rng = np.random.default_rng(3)
    # An offset far from 0 and a trend: centring about the first frame must not cost accuracy.
    x = rng.normal(size=(37, 5)) * rng.uniform(0.1, 5, size=5) + 100.0 + np.arange(37)[:, None] * 0.3
    got = pool_matrix(x.astype(np.float32), [stat])
    ref = _reference(x.astype(np.float32), stat)
    assert got.shape == ref.shape == (pooled_dim(stat, 5),)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_blocks_in_spec_order_and_presets_expand():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(20, 3))
    spec = "max+p10+dur+mean+delta"
    ref = np.concatenate([_reference(x, s) for s in spec.split("+")])
    np.testing.assert_allclose(Pooling(spec)(x), ref, rtol=1e-12, atol=1e-12)
    assert Pooling(spec).dim(3) == len(ref) == 3 + 3 + 1 + 3 + 6
    assert parse_pooling("stats") == ["mean", "std", "slope", "delta"]
    assert parse_pooling("functionals") == PRESETS["functionals"].split("+")
    assert len(parse_pooling("functionals")) == 12
    # A preset inside a spec expands in place; repeats are dropped, order kept.
    assert parse_pooling("max+stats+mean") == ["max", "mean", "std", "slope", "delta"]
    assert canonical(" mean + std ") == "mean+std"
    assert pooled_dim("functionals", 4) == 10 * 4 + 2 * 4 + 1
    np.testing.assert_allclose(Pooling("functionals")(x), np.concatenate(
        [_reference(x, s) for s in PRESETS["functionals"].split("+")]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec,bad", [("mean+sdt", "sdt"), ("p101", "p101"), ("mean++std", ""),
                                      ("kurtosis", "kurtosis"), ("p-5", "p-5")])
def test_unknown_statistic_is_named(spec, bad):
    with pytest.raises(E2VError, match=re.escape(f"pooling '{spec}': unknown statistic '{bad}'")):
        parse_pooling(spec)


@pytest.mark.parametrize("spec", ["", "  ", None, 3])
def test_empty_or_non_text_spec_is_refused(spec):
    with pytest.raises(E2VError, match="want statistics joined by"):
        Pooling(spec)


def test_constant_frames_give_exact_zeros():
    row = np.array([0.1, -7.3, 1e4 / 3, 123456.789], np.float32)
    x = np.tile(row, (9, 1))
    v = Pooling("mean+std+slope+delta+range+iqr+prange+p37")(x)
    D = len(row)
    np.testing.assert_array_equal(v[:D], row.astype(np.float64))         # mean is the row
    assert np.all(v[D:-D] == 0.0)                                         # no rounding residue
    np.testing.assert_array_equal(v[-D:], row.astype(np.float64))         # p37 is the row


def test_one_frame_utterance():
    row = np.array([[1.5, -2.0, 3.25]], np.float32)
    v = Pooling("functionals+min+max")(row)
    assert v.shape == (pooled_dim("functionals+min+max", 3),) and np.isfinite(v).all()
    stats = parse_pooling("functionals+min+max")
    pos, got = 0, {}
    for s in stats:
        n = 1 if s == "dur" else 6 if s == "delta" else 3
        got[s], pos = v[pos:pos + n], pos + n
    for s in ("mean", "p1", "p25", "p50", "p75", "p99", "min", "max"):
        np.testing.assert_array_equal(got[s], row[0], err_msg=s)
    for s in ("std", "iqr", "prange", "slope", "delta"):
        assert np.all(got[s] == 0.0), s
    assert got["dur"].tolist() == [1.0]


def test_bad_matrix_shape_is_refused():
    with pytest.raises(E2VError, match=r"want a \[T, D\] matrix with T >= 1, got shape \(0, 3\)"):
        pool_matrix(np.zeros((0, 3)), ["mean"])
    with pytest.raises(E2VError, match=r"got shape \(4,\)"):
        pool_matrix(np.zeros(4), ["mean"])


def test_utterance_level_features_pass_through_whatever_the_spec():
    rng = np.random.default_rng(5)
    vecs = {f"u{i:02d}": rng.normal(size=(1, 6)).astype(np.float32) for i in range(30)}
    p = resolve_pooling("functionals", {"granularity": "utterance"}, lambda: False)
    assert p.passthrough and p.dim(6) == 6
    np.testing.assert_array_equal(p(vecs["u00"]), vecs["u00"][0])
    p = resolve_pooling("mean+std", {"granularity": "frame"}, lambda: True)   # every row single
    assert p.passthrough and p.spec == "mean"
    assert not resolve_pooling("mean+std", {}, lambda: False).passthrough
    # Through a head: the pooled input is the vector itself, and head.json says why.
    utts = sorted(vecs)
    labels = np.arange(30) % 2
    for u, y in zip(utts, labels):
        vecs[u][0, 0] += 3.0 * y
    head = build_head("logreg", ["a", "b"], 6, {"pooling": "functionals", "C": [1.0]})
    head.fit(Split(utts, labels, vecs.__getitem__), None, seed=0)
    assert head.state["pooling"] == "mean" and "does not apply" in head.state["pooling_note"]
    assert head.mean.shape == (6,)
    np.testing.assert_allclose(head.mean, np.concatenate([vecs[u] for u in utts]).astype(np.float64).mean(0),
                               rtol=1e-6)
    assert head.predict_proba([vecs[u] for u in utts]).shape == (30, 2)


# -- separability on generated speech -----------------------------------------------------------

VOICES = [("en-us", 40), ("en+f3", 70), ("en-gb", 30), ("en-gb-scotland", 55), ("en+m3", 45),
          ("en-029", 60)]
SENTENCES = ["hello there", "the weather is nice today", "why did you do that",
             "I am very happy to see you", "please close the door", "we will meet again tomorrow"]
SWING_DB, PERIOD_S, NOISE_DB = 12.0, 0.4, -35.0


def _speech(voice, pitch, text, path: Path) -> np.ndarray:
    """espeak-ng speech at 16 kHz (sox), peak 1."""
    import soundfile as sf

    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "170", "-w", str(raw),
                    text], check=True)
    subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-b", "16", str(path)], check=True)
    x, _ = sf.read(path, dtype="float64")
    return x / np.abs(x).max()


def _two_classes(x: np.ndarray, rng) -> tuple:
    """(steady, swinging): the same speech, in the second the level swings +-SWING_DB dB in a
    slow sine (a whole number of periods, random phase).  A noise floor under the speech makes
    the gain shift every frame's log energy (no floor clipping), and the slow swing keeps the
    25 ms windows from averaging over it, so the frames' mean log energy is the same in both
    classes: only their spread differs.  A random level per utterance on top."""
    x = x + rng.normal(size=len(x)) * 10 ** (NOISE_DB / 20)
    t = np.arange(len(x)) / 16000.0
    period = t[-1] / max(1, round(t[-1] / PERIOD_S))
    swing = SWING_DB * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    out = []
    for db in (0.0, swing):
        y = x * 10 ** ((rng.uniform(-3, 3) - 20.0 - SWING_DB + db) / 20)
        assert np.abs(y).max() < 1.0          # no clipping: it would change the mean
        out.append(y)
    return tuple(out)


@pytest.fixture(scope="module")
def spread_corpus(tmp_path_factory):
    """Data dir + fbank feat dir: 6 speakers x 6 sentences x {steady ('neu'), swinging ('ang')}."""
    import soundfile as sf

    if not audio_synth.have_tools():
        pytest.skip("espeak-ng and sox are needed for the generated speech")
    root = tmp_path_factory.mktemp("spread")
    wav, data = root / "wav", root / "data"
    wav.mkdir()
    rng = np.random.default_rng(7)
    scp, spk, emo = {}, {}, {}
    for s, (voice, pitch) in enumerate(VOICES):
        for i, text in enumerate(SENTENCES):
            x = _speech(voice, pitch, text, wav / f"s{s}-{i}.src.wav")
            for lab, y in zip(("neu", "ang"), _two_classes(x, rng)):
                utt = f"spk{s}-u{i}-{lab}"
                sf.write(wav / f"{utt}.wav", y, 16000, subtype="PCM_16")
                scp[utt], spk[utt], emo[utt] = str(wav / f"{utt}.wav"), f"spk{s}", lab
    audio_synth.make_data_dir(data, scp, sorted(scp), emo=False)
    audio_synth.write_kv(data / "utt2emo", emo)
    (data / "emotions.txt").write_text("neu\nang\n")
    run_step("--nj", 2, "--feat-type", "fbank", data, root / "feats")
    return root, data, root / "feats"


def _train_cv(root: Path, data: Path, feats: Path, pooling: str) -> dict:
    """steps/train_cv.sh's three stages (prepare, a job per fold, merge), run in this process:
    a subprocess per stage costs seconds of imports (helpers.traincorpus.run_entry_point)."""
    cfg = root / "svm.yaml"
    cfg.write_text("head: svm\nkernel: [linear]\nC: [0.01, 0.1, 1.0]\ninner_folds: 3\n")
    exp = root / f"exp_{pooling}"
    r = run_entry_point("train_cv_prepare", "--head", "svm", "--config", cfg, "--pooling",
                        pooling, "--cv", "speaker-groups:3", data, feats, exp)
    assert r.returncode == 0, r.stderr
    for k in range(1, int(r.stdout) + 1):
        r = run_entry_point("train_fold", "--fold", k, exp)
        assert r.returncode == 0, r.stderr
    r = run_entry_point("train_cv_merge", exp)
    assert r.returncode == 0, r.stderr
    res = json.loads((exp / "results.json").read_text())
    assert res["num_utts"] == 72 and res["settings"]["pooling"] == pooling
    assert res["speaker_independent"] is True
    return res


def test_spread_needs_std_pooling_on_generated_speech(spread_corpus):
    """Same-mean, different-spread classes: invisible to mean pooling, plain with mean+std."""
    root, data, feats = spread_corpus
    mean = _train_cv(root, data, feats, "mean")
    both = _train_cv(root, data, feats, "mean+std")
    assert mean["ua"]["mean"] <= 65.0, mean["ua"]
    assert both["ua"]["mean"] >= 90.0, both["ua"]
