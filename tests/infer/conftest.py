"""Fixtures for the inference tests: tiny random models in their real formats, tiny audio."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def run_infer(*args, check=True, **kw):
    """Run `python -m emotion2vec.bin.infer ...`; returns the CompletedProcess."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    p = subprocess.run([PY, "-m", "emotion2vec.bin.infer", "--no-progress", *map(str, args)],
                       capture_output=True, text=True, env=env, cwd=kw.pop("cwd", ROOT), **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"infer failed ({p.returncode}):\n{p.stderr}")
    return p


def write_wav(path: Path, seconds: float, seed: int, sr: int = 16000) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 40 * rng.random()
    x = 0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t)))
    x += 0.02 * rng.standard_normal(len(t))
    sf.write(path, x.astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory) -> Path:
    """A Kaldi data dir of 4 short utterances (0.8-2.4 s) and one 7 s recording."""
    d = tmp_path_factory.mktemp("audio")
    wavs = d / "wavs"
    wavs.mkdir()
    lens = {"spk1-a": 0.8, "spk1-b": 1.5, "spk2-c": 2.4, "spk2-d": 1.1, "spk3-long": 7.0}
    data = d / "data"
    data.mkdir()
    with open(data / "wav.scp", "w") as f, open(data / "utt2spk", "w") as g:
        for i, (utt, sec) in enumerate(sorted(lens.items())):
            f.write(f"{utt} {write_wav(wavs / f'{utt}.wav', sec, i)}\n")
            g.write(f"{utt} {utt.split('-')[0]}\n")
    return d


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
