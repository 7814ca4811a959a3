"""Parity with the FunASR reference port at base size (random weights), fp32, batch 1."""

import numpy as np
import pytest
import torch

from emotion2vec.models import load_model

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(reference model, our model loaded from a plus-format directory of the same weights)."""
    pytest.importorskip("funasr")
    from emotion2vec.testing.reference import build_reference, save_as_plus_model

    ref, sd = build_reference(num_classes=9, seed=11)
    return ref, load_model(save_as_plus_model(sd, tmp_path_factory.mktemp("plus_base")))


def test_sizes_come_from_the_checkpoint(pair):
    _, m = pair
    assert (m.embed_dim, m.config.num_heads, m.config.prenet_depth, m.config.depth,
            m.config.mlp_dim, m.num_layers) == (768, 12, 4, 8, 3072, 12)
    assert m.labels[0] == "angry" and len(m.labels) == 9


# 160,000 samples (10 s, 509 tokens): attention through per-head oneDNN matmuls on CPU
@pytest.mark.parametrize("n", [65666, 401, 160000])
def test_frame_features_match_reference(pair, n, speech):
    from emotion2vec.testing.reference import reference_features

    ref, m = pair
    wav = speech(n, seed=n)
    expect = reference_features(ref, torch.from_numpy(wav)).numpy()
    got = m.extract([wav])[0]
    assert got.shape == expect.shape == (m.num_frames(n), 768)
    if n == 65666:
        assert got.shape[0] == 204
    if n == 160000:
        from emotion2vec.models import fastpath

        assert got.shape[0] + m.config.num_extra_tokens >= fastpath.ONEDNN_ATTENTION_MIN_TOKENS
    assert np.abs(got - expect).max() < 1e-4


def test_posteriors_and_every_layer_match_reference(pair, speech):
    from emotion2vec.testing.reference import reference_posteriors

    ref, m = pair
    wav = speech(24000, seed=5)
    blocks = list(ref.modality_encoders["AUDIO"].context_encoder.blocks) + list(ref.blocks)
    seen = []
    hooks = [b.register_forward_hook(lambda mod, i, o: seen.append(o[0][0, 10:].clone()))
             for b in blocks]
    try:
        expect_post = reference_posteriors(ref, torch.from_numpy(wav)).numpy()
    finally:
        for h in hooks:
            h.remove()
    out = m.extract_all([wav], layer="all")
    layers = out["frames"][0]
    assert layers.shape == (12, m.num_frames(24000), 768)
    for k in range(12):
        assert np.abs(layers[k] - seen[k].numpy()).max() < 1e-4, f"layer {k + 1}"
    assert np.abs(m.extract([wav], layer=5)[0] - seen[4].numpy()).max() < 1e-4
    assert np.abs(out["posteriors"][0] - expect_post).max() < 1e-5
    assert np.abs(m.classify([wav])[0] - expect_post).max() < 1e-5


def test_int8_mode_stays_close(pair, speech):
    _, m = pair
    from emotion2vec.models.model import Emotion2vecModel
    import copy

    q = Emotion2vecModel(copy.deepcopy(m.net), labels=m.labels, precision="int8")
    wav = speech(32000, seed=2)
    a, b = m.extract([wav])[0], q.extract([wav])[0]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.mean() > 0.99
