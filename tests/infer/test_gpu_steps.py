"""The extraction and inference steps on a CUDA GPU equal their CPU runs (skipped without one)."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
from helpers.featsteps import read_feats

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _step(name, *args):
    p = subprocess.run([str(ROOT / "steps" / name), *map(str, args)], capture_output=True,
                       text=True, env=dict(os.environ, OMP_NUM_THREADS="2"), timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def _scores(d):
    recs = [json.loads(line) for line in (d / "scores.jsonl").read_text().splitlines()]
    return {r["utt"]: np.array(list(r["scores"].values())) for r in recs}


def test_extract_and_infer_on_gpu_equal_cpu(audio_data, plus_model, tmp_path):
    for dev in ("cpu", "cuda"):
        _step("extract_feats.sh", "--nj", 2, "--device", dev, "--feat-type", "emotion2vec",
              "--model", plus_model, audio_data, tmp_path / f"feats_{dev}")
        _step("infer.sh", "--nj", 1, "--device", dev, "--model", plus_model, audio_data,
              tmp_path / f"infer_{dev}")
    # the GPU job really ran on the GPU (its log says which device the model was on)
    logs = "".join(p.read_text() for p in (tmp_path / "feats_cuda" / "log").glob("*.log"))
    assert "cuda" in logs
    cpu, gpu = read_feats(tmp_path / "feats_cpu"), read_feats(tmp_path / "feats_cuda")
    assert sorted(cpu) == sorted(gpu) and len(cpu) >= 6
    for u in cpu:
        np.testing.assert_allclose(gpu[u], cpu[u], atol=1e-4, err_msg=u)
    s_cpu, s_gpu = _scores(tmp_path / "infer_cpu"), _scores(tmp_path / "infer_cuda")
    assert sorted(s_cpu) == sorted(s_gpu)
    for u in s_cpu:
        np.testing.assert_allclose(s_gpu[u], s_cpu[u], atol=1e-5, err_msg=u)
