"""emotion2vec+ inference end to end: labels, posteriors, windows, timeline, embeddings."""

import json

import kaldi_native_io as kio
import numpy as np
import pytest

from emotion2vec.audio import AudioReader
from emotion2vec.models import load_model

TOKENS = ["angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised",
          "unknown"]


@pytest.fixture(scope="module")
def whole(tmp_path_factory, audio_data, plus_model, infer_cli_module):
    out = tmp_path_factory.mktemp("plus") / "whole"
    code, err = infer_cli_module(["--model", plus_model, "--embeddings", "ark", "--no-progress",
                                  audio_data, out])
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def infer_cli_module():
    from emotion2vec.bin import infer
    from emotion2vec.errors import E2VError

    def run(args):
        try:
            return infer.main([str(a) for a in args]) or 0, ""
        except E2VError as e:
            return 1, str(e)
    return run


def test_labels_and_posteriors_are_well_formed(whole, audio_data, jsonl):
    recs = jsonl(whole / "scores.jsonl")
    utts = [line.split()[0] for line in (audio_data / "wav.scp").read_text().splitlines()]
    assert [r["utt"] for r in recs] == utts
    for r in recs:
        assert list(r["scores"]) == TOKENS  # names from tokens.txt, in class order
        p = np.array(list(r["scores"].values()))
        assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-4
        assert r["label"] == TOKENS[int(np.argmax(p))]
    utt2emo = dict(line.split() for line in (whole / "utt2emo").read_text().splitlines())
    assert utt2emo == {r["utt"]: r["label"] for r in recs}
    info = json.loads((whole / "info.json").read_text())
    assert info["classes"] == TOKENS and info["model"]["kind"] == "emotion2vec"
    assert info["num_utts"] == len(utts) and info["num_bad"] == 0


def test_posteriors_equal_the_model_alone(whole, audio_data, plus_model, jsonl):
    m = load_model(plus_model)
    reader = AudioReader(audio_data)
    recs = {r["utt"]: r for r in jsonl(whole / "scores.jsonl")}
    for utt in ("spk1-a", "spk3-long"):
        want = m.classify([reader.read(utt)])[0]
        got = np.array(list(recs[utt]["scores"].values()))
        assert np.allclose(got, want, atol=2e-6)


def test_embeddings_ark_hold_the_mean_of_last_layer(whole, audio_data, plus_model):
    m = load_model(plus_model)
    reader = AudioReader(audio_data)
    scp = dict(line.split() for line in (whole / "embeddings.scp").read_text().splitlines())
    assert sorted(scp) == sorted(reader.keys)
    r = kio.RandomAccessFloatMatrixReader(f"scp:{whole / 'embeddings.scp'}")
    emb = np.array(r["spk2-c"])  # copy while the reader is alive
    assert emb.shape == (1, m.embed_dim)
    want = m.extract([reader.read("spk2-c")])[0].mean(0)
    assert np.allclose(emb[0], want, atol=1e-5)


def test_segmented_and_whole_agree_on_short_audio(whole, tmp_path, audio_data, plus_model,
                                                  infer_cli_module, jsonl):
    out = tmp_path / "seg"
    code, err = infer_cli_module(["--model", plus_model, "--segment-length", 3,
                                  "--segment-shift", 1.5, "--no-progress", audio_data, out])
    assert code == 0, err
    w = {r["utt"]: r for r in jsonl(whole / "scores.jsonl")}
    s = {r["utt"]: r for r in jsonl(out / "scores.jsonl")}
    assert sorted(w) == sorted(s)
    for utt in w:
        if utt == "spk3-long":
            continue
        assert s[utt]["num_windows"] == 1
        assert np.allclose(list(w[utt]["scores"].values()), list(s[utt]["scores"].values()),
                           atol=1e-5)
        assert w[utt]["label"] == s[utt]["label"]
    # The 7 s recording: 4 windows of 3 s every 1.5 s, the last aligned to the end.
    segs = [line.split() for line in (out / "windows/segments").read_text().splitlines()
            if line.startswith("spk3-long")]
    assert [(x[1], x[2], x[3]) for x in segs] == [
        ("spk3-long", "0.00", "3.00"), ("spk3-long", "1.50", "4.50"),
        ("spk3-long", "3.00", "6.00"), ("spk3-long", "4.00", "7.00")]
    assert s["spk3-long"]["num_windows"] == 4
    wins = [r for r in jsonl(out / "windows/scores.jsonl") if r["parent"] == "spk3-long"]
    assert [r["utt"] for r in wins] == [x[0] for x in segs]
    # Timeline: runs that tile the recording without gaps, labels from the classes.
    tl = [line.split() for line in (out / "timeline").read_text().splitlines()
          if line.startswith("spk3-long ")]
    assert tl[0][1] == "0.00" and tl[-1][2] == "7.00"
    assert all(a[2] == b[1] for a, b in zip(tl, tl[1:]))
    assert all(x[3] in TOKENS for x in tl)


def test_batch_size_does_not_change_results(whole, tmp_path, audio_data, plus_model,
                                            infer_cli_module, jsonl):
    out = tmp_path / "b1"
    code, err = infer_cli_module(["--model", plus_model, "--max-batch", 1, "--buffer-seconds", 2,
                                  "--no-progress", audio_data, out])
    assert code == 0, err
    a = {r["utt"]: list(r["scores"].values()) for r in jsonl(whole / "scores.jsonl")}
    b = {r["utt"]: list(r["scores"].values()) for r in jsonl(out / "scores.jsonl")}
    assert a.keys() == b.keys()
    for k in a:
        assert np.allclose(a[k], b[k], atol=1e-5)


def test_audio_files_and_npy_embeddings(tmp_path, audio_data, plus_model, infer_cli_module,
                                        whole, jsonl):
    wavs = sorted((audio_data.parent / "wavs").glob("spk1-*.wav"))
    out = tmp_path / "files"
    code, err = infer_cli_module(["--model", plus_model, "--embeddings", "npy", "--no-progress",
                                  *wavs, out])
    assert code == 0, err
    assert (out / "utt2emo").read_text().split()[::2] == ["spk1-a", "spk1-b"]
    emb = np.load(out / "embeddings.npy")
    keys = (out / "embeddings.keys").read_text().split()
    assert keys == ["spk1-a", "spk1-b"] and emb.shape[0] == 2 and emb.dtype == np.float32
    ref = {r["utt"]: r for r in jsonl(whole / "scores.jsonl")}
    for r in jsonl(out / "scores.jsonl"):
        assert np.allclose(list(r["scores"].values()), list(ref[r["utt"]]["scores"].values()),
                           atol=1e-6)


def test_segments_input_gives_recording_times_and_timeline(tmp_path, audio_data, plus_model,
                                                           infer_cli_module, jsonl):
    wav_scp = tmp_path / "wav.scp"
    wav_scp.write_text([line for line in (audio_data / "wav.scp").read_text().splitlines()
                        if line.startswith("spk3-long")][0] + "\n")
    seg = tmp_path / "segments"
    seg.write_text("spk3-long-000-200 spk3-long 0.00 2.00\n"
                   "spk3-long-250-700 spk3-long 2.50 7.00\n")
    out = tmp_path / "out"
    code, err = infer_cli_module(["--model", plus_model, "--segments", seg, "--no-progress",
                                  wav_scp, out])
    assert code == 0, err
    recs = jsonl(out / "scores.jsonl")
    assert [(r["utt"], r["reco"], r["start"], r["end"]) for r in recs] == [
        ("spk3-long-000-200", "spk3-long", 0.0, 2.0), ("spk3-long-250-700", "spk3-long", 2.5, 7.0)]
    tl = [line.split() for line in (out / "timeline").read_text().splitlines()]
    assert tl[0][:2] == ["spk3-long", "0.00"] and tl[-1][2] == "7.00"
    assert not any(float(x[1]) < 2.5 < float(x[2]) for x in tl)  # the 2.0-2.5 gap stays open
