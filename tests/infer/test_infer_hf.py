"""Hugging Face audio-classification models: labels, windows, custom code only when trusted."""

import json
import shutil

import numpy as np
import pytest
import torch

from emotion2vec.audio import AudioReader
from emotion2vec.bin import infer
from emotion2vec.errors import E2VError
from emotion2vec.inference.hf import HFAudioClassifier

CUSTOM_CODE = '''
from transformers import Wav2Vec2Config, Wav2Vec2ForSequenceClassification


class TinyCustomConfig(Wav2Vec2Config):
    model_type = "tiny-custom-ser"


class TinyCustomForSER(Wav2Vec2ForSequenceClassification):
    config_class = TinyCustomConfig
'''


@pytest.fixture(scope="module")
def hf_out(tmp_path_factory, hf_model, audio_data):
    out = tmp_path_factory.mktemp("hf") / "out"
    infer.main(["--model", str(hf_model), "--embeddings", "npy", "--no-progress",
                str(audio_data), str(out)])
    return out


def test_labels_come_from_id2label_and_posteriors_sum_to_one(hf_out, jsonl):
    recs = jsonl(hf_out / "scores.jsonl")
    assert len(recs) == 7
    for r in recs:
        assert list(r["scores"]) == ["low-neg", "low-pos", "high-neg", "high-pos"]
        assert abs(sum(r["scores"].values()) - 1) < 1e-4
    info = json.loads((hf_out / "info.json").read_text())
    assert info["model"]["kind"] == "hf"
    assert info["model"]["architecture"] == "Wav2Vec2ForSequenceClassification"
    assert info["model"]["trust_remote_code"] is False
    assert np.load(hf_out / "embeddings.npy").shape == (7, 32)


def test_posteriors_equal_the_transformers_model_alone(hf_out, hf_model, audio_data, jsonl):
    from transformers import AutoModelForAudioClassification

    m = AutoModelForAudioClassification.from_pretrained(hf_model).eval()
    wav = AudioReader(audio_data).read("spk2-c")
    x = torch.from_numpy((wav - wav.mean()) / np.sqrt(wav.var() + 1e-7))[None]
    with torch.no_grad():
        want = torch.softmax(m(x).logits, -1)[0].numpy()
    got = [r for r in jsonl(hf_out / "scores.jsonl") if r["utt"] == "spk2-c"][0]
    assert np.allclose(list(got["scores"].values()), want, atol=1e-4)


def test_model_window_averages_fixed_length_windows(hf_model, audio_data):
    wav = AudioReader(audio_data).read("spk3-long")  # 7 s -> windows 0-3, 3-6, 4-7
    pred = HFAudioClassifier(hf_model, model_window=3.0)
    whole = HFAudioClassifier(hf_model)
    got, _ = pred.predict([wav])
    parts, _ = whole.predict([wav[:48000], wav[48000:96000], wav[64000:]])
    assert np.allclose(got[0], parts.mean(0), atol=1e-5)
    short = wav[:16000]  # shorter than the window: zero-padded to 3 s
    got_s, _ = pred.predict([short])
    padded, _ = whole.predict([np.concatenate([short, np.zeros(32000, np.float32)])])
    assert np.allclose(got_s, padded, atol=1e-5)


@pytest.fixture
def custom_model(tmp_path, hf_model):
    d = tmp_path / "custom"
    shutil.copytree(hf_model, d)
    (d / "modeling_tiny.py").write_text(CUSTOM_CODE)
    cfg = json.loads((d / "config.json").read_text())
    cfg["model_type"] = "tiny-custom-ser"
    cfg["auto_map"] = {"AutoConfig": "modeling_tiny.TinyCustomConfig",
                       "AutoModelForAudioClassification": "modeling_tiny.TinyCustomForSER"}
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def test_custom_code_is_refused_without_trust_remote_code(custom_model, audio_data, tmp_path,
                                                         infer_cli):
    code, err = infer_cli(["--model", custom_model, "--no-progress", audio_data, tmp_path / "o"])
    assert code == 1
    assert "needs its own Python code" in err and "--trust-remote-code" in err
    assert "modeling_tiny.TinyCustomForSER" in err
    assert not (tmp_path / "o" / "utt2emo").exists()


def test_custom_code_loads_from_the_local_dir_when_trusted(custom_model):
    pred = HFAudioClassifier(custom_model, trust_remote_code=True)
    assert type(pred.model).__name__ == "TinyCustomForSER"
    assert pred.classes == ["low-neg", "low-pos", "high-neg", "high-pos"]


def test_code_from_another_repository_is_always_refused(custom_model):
    cfg = json.loads((custom_model / "config.json").read_text())
    cfg["auto_map"]["AutoModelForAudioClassification"] = "someone/repo--modeling.X"
    (custom_model / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(E2VError, match="code in another repository"):
        HFAudioClassifier(custom_model, trust_remote_code=True)


def test_classes_file_renames_labels_and_must_match_the_count(hf_model, tmp_path, audio_data,
                                                              infer_cli):
    names = tmp_path / "classes.txt"
    names.write_text("a\nb\nc\n")
    code, err = infer_cli(["--model", hf_model, "--classes", names, "--no-progress", audio_data,
                           tmp_path / "o"])
    assert code == 1 and "the model has 4 classes but the class list names 3" in err
    names.write_text("a\nb\nc\nd\n")
    assert HFAudioClassifier(hf_model, classes=["a", "b", "c", "d"]).classes == list("abcd")
