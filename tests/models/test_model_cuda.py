"""The model on a CUDA GPU (skipped where there is none; run on a lent GPU machine)."""
import numpy as np
import pytest
import torch

from emotion2vec.models.encoder import Emotion2vec, EncoderConfig
from emotion2vec.models.model import Emotion2vecModel
from emotion2vec.testing.tiny import random_state_dict

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def _base(device, precision="fp32"):
    cfg = EncoderConfig(num_classes=9)
    net = Emotion2vec(cfg)
    net.load_state_dict(random_state_dict(cfg, seed=11))
    return Emotion2vecModel(net, labels=[str(i) for i in range(9)], device=device,
                            precision=precision)


def _cos(a, b):
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def test_fp32_on_gpu_equals_cpu_and_batches_exactly(speech):
    wavs = [speech(n, seed=n) for n in (160000, 401, 23456, 65666)]
    cpu = _base("cpu").extract(wavs)
    gpu = _base("cuda")
    batched = gpu.extract(wavs)
    single = [gpu.extract([w])[0] for w in wavs]
    for c, b, s in zip(cpu, batched, single):
        assert c.shape == b.shape == s.shape
        assert np.abs(c - s).max() < 1e-4  # fp32 is fp32 on the GPU too (no TF32)
        assert np.abs(b - s).max() < 1e-4
    post_b = gpu.classify(wavs)
    post_s = np.concatenate([gpu.classify([w]) for w in wavs])
    np.testing.assert_allclose(post_b, post_s, atol=1e-5)
    np.testing.assert_allclose(post_b.sum(1), 1.0, atol=1e-5)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_stays_close(precision, speech):
    wavs = [speech(n, seed=n) for n in (48000, 16000)]
    ref = _base("cuda").extract(wavs)
    got = _base("cuda", precision).extract(wavs)
    for a, b in zip(ref, got):
        assert b.dtype == np.float32 and np.isfinite(b).all()
        assert _cos(a, b) > 0.99


def test_long_recording_windows_on_gpu(speech):
    m = _base("cuda")
    wav = speech(16000 * 75, seed=3)
    out = m.extract_long(wav, chunk_seconds=30, overlap_seconds=5)
    assert out.shape == (m.num_frames(len(wav)), m.embed_dim) and np.isfinite(out).all()
