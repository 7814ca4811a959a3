"""Trained heads: experiment dirs (ensemble or one fold), packed models and their reload."""

import json
import tarfile

import numpy as np
import pytest

from emotion2vec.audio import AudioReader
from emotion2vec.bin import infer, pack_model
from emotion2vec.heads import load_head
from emotion2vec.inference import packing
from emotion2vec.models import load_model


def _scores(out, jsonl):
    return {r["utt"]: np.array(list(r["scores"].values())) for r in jsonl(out / "scores.jsonl")}


@pytest.fixture(scope="module")
def exp_out(tmp_path_factory, exp_dir, audio_data):
    out = tmp_path_factory.mktemp("heads") / "ens"
    infer.main(["--model", str(exp_dir), "--embeddings", "npy", "--no-progress",
                str(audio_data), str(out)])
    return out


def test_ensemble_is_the_mean_of_fold_heads_on_recomputed_features(exp_out, exp_dir, audio_data,
                                                                   plus_model, feat_dir, jsonl):
    recs = jsonl(exp_out / "scores.jsonl")
    assert all(list(r["scores"]) == ["ang", "hap"] for r in recs)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-4 for r in recs)
    heads = [load_head(exp_dir / "fold1"), load_head(exp_dir / "fold2")]
    m = load_model(plus_model)
    reader = AudioReader(audio_data)
    utts = ["spk1-a", "spk3-long"]
    feats = m.extract([reader.read(u) for u in utts])
    want = np.mean([h.predict_proba(feats) for h in heads], axis=0)
    got = _scores(exp_out, jsonl)
    for i, u in enumerate(utts):
        assert np.allclose(got[u], want[i], atol=1e-4)
    info = json.loads((exp_out / "info.json").read_text())
    assert info["model"]["combination"] == "mean of head posteriors"
    assert [p.rsplit("/", 1)[-1] for p in info["model"]["heads"]] == ["fold1", "fold2"]
    emb = np.load(exp_out / "embeddings.npy")
    assert emb.shape == (7, json.loads((feat_dir / "feat_info.json").read_text())["dim"])


def test_fold_option_picks_one_head(tmp_path, exp_dir, audio_data, exp_out, jsonl):
    out = tmp_path / "f2"
    assert infer.main(["--model", str(exp_dir), "--fold", "2", "--no-progress",
                       str(audio_data), str(out)]) == 0
    info = json.loads((out / "info.json").read_text())
    assert info["model"]["combination"] == "single head"
    assert info["model"]["heads"][0].endswith("fold2")
    h = load_head(exp_dir / "fold2")
    assert _scores(out, jsonl).keys() == _scores(exp_out, jsonl).keys()
    assert h.classes == ["ang", "hap"]


def test_packed_model_reloads_with_identical_outputs(tmp_path, exp_dir, audio_data, exp_out,
                                                     jsonl):
    packed = tmp_path / "model.tar.gz"
    assert pack_model.main([str(exp_dir), str(packed)]) == 0
    with tarfile.open(packed) as t:
        names = t.getnames()
    assert names[0] == "manifest.json"
    assert all(n.endswith((".json", ".safetensors")) for n in names)
    m = packing.read_manifest(packed)
    assert m["classes"] == ["ang", "hap"] and m["encoder"]["type"] == "reference"
    assert m["feat_info"]["feat_type"] == "emotion2vec" and len(m["heads"]) == 2
    out = tmp_path / "out"
    assert infer.main(["--model", str(packed), "--no-progress", str(audio_data), str(out)]) == 0
    a, b = _scores(exp_out, jsonl), _scores(out, jsonl)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k])
    assert (out / "utt2emo").read_text() == (exp_out / "utt2emo").read_text()


def test_packed_with_embedded_encoder_needs_no_original_checkpoint(tmp_path, exp_dir, audio_data,
                                                                   exp_out, jsonl):
    packed = tmp_path / "full.tar.gz"
    assert pack_model.main(["--include-encoder", "--fold", "1", str(exp_dir), str(packed)]) == 0
    m = packing.read_manifest(packed)
    assert m["encoder"]["type"] == "embedded"
    assert "encoder/model.safetensors" in m["files"]
    assert [h["path"] for h in m["heads"]] == ["heads/fold1"]
    out = tmp_path / "out"
    assert infer.main(["--model", str(packed), "--model-cache", str(tmp_path / "cache"),
                       "--no-progress", str(audio_data), str(out)]) == 0
    info = json.loads((out / "info.json").read_text())
    assert info["model"]["encoder"].startswith("embedded copy of")
    # The features came from the unpacked copy, not from the original checkpoint.
    assert info["model"]["feat_info"]["model"].startswith(str(tmp_path / "cache"))
    ref = tmp_path / "ref"
    assert infer.main(["--model", str(exp_dir), "--fold", "1", "--no-progress", str(audio_data),
                       str(ref)]) == 0
    a, b = _scores(ref, jsonl), _scores(out, jsonl)
    for k in a:
        assert np.allclose(a[k], b[k], atol=1e-6)
