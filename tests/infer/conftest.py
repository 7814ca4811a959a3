"""Fixtures for the inference tests: tiny random models in their real formats, tiny audio,
heads trained on real features of that audio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]

# Utterance -> (seconds, label); "spk3-long" is the long recording of the window tests.
UTTS = {"spk1-a": (0.8, "ang"), "spk1-b": (1.5, "hap"), "spk2-c": (2.4, "ang"),
        "spk2-d": (1.1, "hap"), "spk3-e": (1.3, "ang"), "spk3-f": (0.9, "hap"),
        "spk3-long": (7.0, "ang")}


def _wav(path: Path, seconds: float, seed: int, sr: int = 16000) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110 + 60 * rng.random()
    x = 0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t)))
    x += 0.02 * rng.standard_normal(len(t))
    sf.write(path, x.astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def write_wav():
    return _wav


@pytest.fixture(scope="session")
def audio_data(tmp_path_factory) -> Path:
    """A Kaldi data dir: 6 short utterances (0.8-2.4 s) of 3 speakers and one 7 s recording."""
    d = tmp_path_factory.mktemp("audio")
    (d / "wavs").mkdir()
    data = d / "data"
    data.mkdir()
    lines, spk, emo = [], [], []
    for i, (utt, (sec, lab)) in enumerate(sorted(UTTS.items())):
        lines.append(f"{utt} {_wav(d / 'wavs' / f'{utt}.wav', sec, i)}\n")
        spk.append(f"{utt} {utt.split('-')[0]}\n")
        emo.append(f"{utt} {lab}\n")
    (data / "wav.scp").write_text("".join(lines))
    (data / "utt2spk").write_text("".join(spk))
    (data / "utt2emo").write_text("".join(emo))
    spk2utt = {}
    for utt in sorted(UTTS):
        spk2utt.setdefault(utt.split("-")[0], []).append(utt)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(u)}\n" for s, u in spk2utt.items()))
    return data


@pytest.fixture(scope="session")
def plus_model(tmp_path_factory) -> Path:
    """A tiny random emotion2vec+ model directory (model.pt, config.yaml, tokens.txt)."""
    from emotion2vec.testing.tiny import make_tiny_checkpoint

    return Path(make_tiny_checkpoint(tmp_path_factory.mktemp("plus") / "tiny_plus", fmt="plus",
                                     seed=3))


@pytest.fixture(scope="session")
def feat_dir(tmp_path_factory, audio_data, plus_model) -> Path:
    """emotion2vec features of the audio made by the extraction step (feat_info.json included)."""
    out = tmp_path_factory.mktemp("feats") / "e2v"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([str(ROOT / "steps/extract_feats.sh"), "--nj", "1", "--feat-type",
                        "emotion2vec", "--model", str(plus_model), str(audio_data), str(out)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.fixture(scope="session")
def exp_dir(tmp_path_factory, audio_data, feat_dir) -> Path:
    """An experiment dir like steps/train_cv.sh's: fold1/ and fold2/ with trained e2v heads."""
    from emotion2vec.heads import Split, build_head
    from emotion2vec.training.featureset import FeatureSet

    info = json.loads((feat_dir / "feat_info.json").read_text())
    fs = FeatureSet(feat_dir / "feats.scp")
    classes = ["ang", "hap"]
    exp = tmp_path_factory.mktemp("exp") / "e2v_head"
    utts = sorted(UTTS)
    for k, held in enumerate(["spk1", "spk2"], 1):
        train = [u for u in utts if not u.startswith(held)]
        labels = np.array([classes.index(UTTS[u][1]) for u in train])
        head = build_head("e2v", classes, info["dim"], {"epochs": 3, "batch_size": 4, "hidden": 8},
                          info)
        head.fit(Split(train, labels, fs.__getitem__), None, seed=42 + k)
        head.save(exp / f"fold{k}")
    (exp / "results.json").write_text(json.dumps({"mean": {"wa": 50.0}}))
    return exp


@pytest.fixture(scope="session")
def hf_model(tmp_path_factory) -> Path:
    """A tiny random Wav2Vec2ForSequenceClassification saved with save_pretrained."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    labels = ["low-neg", "low-pos", "high-neg", "high-pos"]
    cfg = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16, 16), conv_stride=(5, 4, 4), conv_kernel=(10, 8, 4),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer", do_stable_layer_norm=True, classifier_proj_size=16,
        num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={k: i for i, k in enumerate(labels)})
    model = Wav2Vec2ForSequenceClassification(cfg).eval()
    d = tmp_path_factory.mktemp("hf") / "tiny-w2v2-cls"
    model.save_pretrained(d)
    return d


@pytest.fixture
def infer_cli(monkeypatch, capsys):
    """Run an entry point in-process as its console script would: (exit code, stderr)."""
    from emotion2vec.bin._cli import run_main

    def run(args, module="infer"):
        import importlib
        mod = importlib.import_module(f"emotion2vec.bin.{module}")
        monkeypatch.setattr(sys, "argv", [module, *map(str, args)])
        try:
            run_main(mod.main, module)
        except SystemExit as e:
            code = e.code or 0
        captured = capsys.readouterr()
        return code, captured.err
    return run


def read_jsonl(path: Path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def jsonl():
    return read_jsonl
