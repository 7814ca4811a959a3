"""`emotion2vec.AutoModel` side by side with FunASR's emotion2vec port on the same tiny random
weights: every granularity, with and without embeddings, every input type, unuse tokens, a
features-only model, output_dir, batching, and the errors."""

import json
import subprocess
import sys
import types

import numpy as np
import pytest
import soundfile as sf
import torch

from emotion2vec import AutoModel
from emotion2vec.audio import resample
from emotion2vec.errors import E2VError

pytestmark = pytest.mark.reference
SIZES = dict(embed_dim=32, num_heads=4, depth=2, prenet_depth=1)
TOKENS = ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral",
          "其他/other", "难过/sad", "吃惊/surprised", "<unk>"]
TOL = 1e-4


def _model_dir(path, num_classes, tokens, seed):
    from emotion2vec.testing.reference import build_reference, save_as_plus_model

    ref, sd = build_reference(num_classes=num_classes, seed=seed, **SIZES)
    d = save_as_plus_model(sd, path, **SIZES)
    if tokens:
        (d / "tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return ref, d


@pytest.fixture(scope="module")
def plus(tmp_path_factory):
    ref, d = _model_dir(tmp_path_factory.mktemp("plus") / "m", 9, TOKENS, seed=3)
    return ref, d, AutoModel(model=str(d), disable_pbar=True)


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(7)
    t = np.arange(40000) / 16000
    a = (0.3 * np.sin(2 * np.pi * 220 * t[:20000]) + 0.02 * rng.standard_normal(20000))
    b = 0.1 * rng.standard_normal(13001)
    c = 0.2 * np.sin(2 * np.pi * 150 * t) * np.hanning(40000)
    return [x.astype(np.float32) for x in (a, b, c)]


def funasr(ref, wavs, keys, tokens, **kw):
    """FunASR's own inference (the Emotion2vec port's), one waveform at a time as it runs."""
    with torch.inference_mode():
        res, _ = ref.inference(data_in=[torch.from_numpy(w) for w in wavs], key=list(keys),
                               tokenizer=types.SimpleNamespace(token_list=tokens),
                               device="cpu", **kw)
    return res


def same(ours, theirs, feats=True):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o["labels"] == t["labels"]
        np.testing.assert_allclose(o["scores"], t["scores"], atol=TOL)
        assert ("feats" in o) == ("feats" in t) == feats
        if feats:
            assert o["feats"].shape == t["feats"].shape
            np.testing.assert_allclose(o["feats"], t["feats"], atol=TOL)


@pytest.mark.parametrize("granularity", ["utterance", "frame"])
@pytest.mark.parametrize("extract", [True, False])
def test_arrays_equal_funasr(plus, waves, granularity, extract):
    ref, _, m = plus
    ours = m.generate(waves, granularity=granularity, extract_embedding=extract)
    assert [r["key"] for r in ours] == ["array0", "array1", "array2"]
    theirs = funasr(ref, waves, ["x", "y", "z"], TOKENS, granularity=granularity,
                    extract_embedding=extract)
    same(ours, theirs, feats=extract)
    assert ours[0]["labels"][0] == "生气/angry" and abs(sum(ours[0]["scores"]) - 1) < 1e-6
    if extract and granularity == "frame":
        assert ours[2]["feats"].shape[0] == 124        # 40000 samples -> 124 frames at 50 Hz


def test_every_input_type_gives_the_same_result(plus, waves, tmp_path):
    ref, _, m = plus
    paths = []
    for i, w in enumerate(waves):
        paths.append(tmp_path / f"utt{i}.wav")
        sf.write(paths[-1], w, 16000, subtype="FLOAT")
    theirs = funasr(ref, waves, ["a", "b", "c"], TOKENS, granularity="utterance",
                    extract_embedding=True)
    one = m.generate(str(paths[0]))
    assert one[0]["key"] == "utt0"
    same(one, theirs[:1])
    listed = m.generate([str(p) for p in paths])
    assert [r["key"] for r in listed] == ["utt0", "utt1", "utt2"]
    same(listed, theirs)
    scp = tmp_path / "wav.scp"       # Kaldi forms: a file, a pipe
    scp.write_text(f"k1 {paths[0]}\nk2 cat {paths[1]} |\nk3 {paths[2]}\n")
    from_scp = m.generate(str(scp))
    assert [r["key"] for r in from_scp] == ["k1", "k2", "k3"]
    same(from_scp, theirs)
    plain_list = tmp_path / "files.txt"
    plain_list.write_text("".join(f"{p}\n" for p in paths))
    same(m.generate(str(plain_list)), theirs)
    same(m.generate(torch.from_numpy(waves[1])), theirs[1:2])   # a tensor, as FunASR takes
    pcm = np.round(waves[1] * 32767).astype(np.int16)
    got = m.generate(pcm)[0]["scores"]
    np.testing.assert_allclose(got, theirs[1]["scores"], atol=1e-3)   # 16-bit rounding


def test_other_sample_rates_are_resampled(plus, waves, tmp_path):
    ref, _, m = plus
    w8 = resample(waves[2], 16000, 8000)
    sf.write(tmp_path / "low.wav", w8, 8000, subtype="FLOAT")
    back = resample(w8, 8000, 16000)
    theirs = funasr(ref, [back], ["low"], TOKENS, granularity="frame", extract_embedding=True)
    same(m.generate(str(tmp_path / "low.wav"), granularity="frame"), theirs)
    same(m.generate(w8, fs=8000, granularity="frame"), theirs)


def test_unuse_tokens_are_dropped_as_funasr_does(tmp_path, waves):
    toks = list(TOKENS)
    toks[5], toks[8] = "unuse_0", "unuse_1"
    ref, d = _model_dir(tmp_path / "m", 9, toks, seed=5)
    ours = AutoModel(model=str(d)).generate(waves, extract_embedding=False)
    theirs = funasr(ref, waves, "abc", toks, granularity="utterance", extract_embedding=False)
    same(ours, theirs, feats=False)
    assert len(ours[0]["labels"]) == 7 and not any(x.startswith("unuse") for x in ours[0]["labels"])
    english = AutoModel(model=str(d), label_names="english").generate(waves[:1])[0]["labels"]
    assert english == ["angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised"]


def test_features_only_model_always_gives_feats(tmp_path, waves):
    ref, d = _model_dir(tmp_path / "base", 0, None, seed=9)
    m = AutoModel(model=str(d))
    for g in ("utterance", "frame"):
        ours = m.generate(waves, granularity=g, extract_embedding=False)
        theirs = funasr(ref, waves, "abc", [], granularity=g, extract_embedding=False)
        same(ours, theirs, feats=True)
        assert ours[0]["labels"] == [] and ours[0]["scores"] == []


def test_output_dir_writes_the_npy_files_funasr_writes(plus, waves, tmp_path):
    ref, _, m = plus
    keys = ["s1", "s2", "s3"]
    ours = m.generate(waves, key=keys, granularity="frame", output_dir=str(tmp_path / "ours"))
    funasr(ref, waves, keys, TOKENS, granularity="frame", extract_embedding=True,
           output_dir=str(tmp_path / "theirs"))
    for k, r in zip(keys, ours):
        a, b = np.load(tmp_path / "ours" / f"{k}.npy"), np.load(tmp_path / "theirs" / f"{k}.npy")
        assert a.shape == b.shape and np.array_equal(a, r["feats"])
        np.testing.assert_allclose(a, b, atol=TOL)
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == [f"{k}.npy" for k in keys]


def test_batches_equal_one_at_a_time(plus, waves):
    _, _, m = plus
    one = m.generate(waves, granularity="frame", batch_size_s=0.01)    # one input per batch
    big = m.generate(waves, granularity="frame", batch_size_s=1000)    # all in one padded batch
    for a, b in zip(one, big):
        np.testing.assert_allclose(a["scores"], b["scores"], atol=1e-6)
        np.testing.assert_allclose(a["feats"], b["feats"], atol=1e-5)


def test_bad_calls_say_what_is_wrong(plus, waves, tmp_path):
    _, d, m = plus
    with pytest.raises(E2VError, match="unsupported option.*vad_model"):
        AutoModel(model=str(d), vad_model="fsmn-vad")
    with pytest.raises(E2VError, match="granularity 'word'"):
        m.generate(waves, granularity="word")
    with pytest.raises(E2VError, match="no such file"):
        m.generate(str(tmp_path / "missing.wav"))
    with pytest.raises(E2VError, match="duplicate key"):
        m.generate(waves[:2], key=["a", "a"])
    with pytest.raises(E2VError, match="1-D mono"):
        m.generate(np.zeros((2, 8000), np.float32))
    with pytest.raises(E2VError, match="utterance short.*receptive field"):
        m.generate(np.zeros(100, np.float32), key="short")
    with pytest.raises(E2VError, match="2 key"):
        m.generate(waves, key=["a", "b"])
    with pytest.raises(E2VError, match="label_names"):
        AutoModel(model=str(d), label_names="chinese")


def test_cli_in_funasr_spelling(plus, waves, tmp_path):
    _, d, m = plus
    sf.write(tmp_path / "a.wav", waves[0], 16000, subtype="FLOAT")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "emotion2vec.bin.generate", f"++model={d}",
                        f"++input={tmp_path / 'a.wav'}", f"++output_dir={out}",
                        "++granularity=frame"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip())
    want = m.generate(waves[:1], granularity="frame")[0]
    assert line["key"] == "a" and line["labels"] == want["labels"]
    np.testing.assert_allclose(line["scores"], want["scores"], atol=1e-6)
    np.testing.assert_allclose(np.load(out / "a.npy"), want["feats"], atol=1e-6)
    r = subprocess.run([sys.executable, "-m", "emotion2vec.bin.generate", "--model", str(d),
                        str(tmp_path / "nope.wav")], capture_output=True, text=True)
    assert r.returncode == 1 and "nope.wav" in r.stderr and "no such file" in r.stderr
