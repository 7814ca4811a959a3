"""Batched inference equals one-at-a-time inference."""

import numpy as np
import pytest

from emotion2vec.models.encoder import EncoderConfig, Emotion2vec
from emotion2vec.models.model import Emotion2vecModel
from emotion2vec.testing.tiny import random_state_dict


def _assert_same(batched, single, tol=1e-4):
    assert len(batched) == len(single)
    for a, b in zip(batched, single):
        assert a.shape == b.shape
        assert np.abs(a - b).max() < tol


def test_tiny_batch_of_very_different_lengths(tiny_plus, speech):
    m = tiny_plus
    wavs = [speech(n, seed=n) for n in (20000, 400, 3217, 9000, 401)]
    _assert_same(m.extract(wavs), [m.extract([w])[0] for w in wavs])
    _assert_same(m.extract(wavs, layer="all"), [m.extract([w], layer="all")[0] for w in wavs])
    _assert_same(m.extract(wavs, layer=2), [m.extract([w], layer=2)[0] for w in wavs])
    np.testing.assert_allclose(m.embed(wavs), np.concatenate([m.embed([w]) for w in wavs]),
                               atol=1e-5)
    np.testing.assert_allclose(m.classify(wavs),
                               np.concatenate([m.classify([w]) for w in wavs]), atol=1e-6)
    assert [f.shape[0] for f in m.extract(wavs)] == [m.num_frames(len(w)) for w in wavs]


def test_utterance_feature_is_mean_of_valid_frames(tiny_plus, speech):
    wavs = [speech(n, seed=1) for n in (30000, 5000)]
    frames = tiny_plus.extract(wavs)
    out = tiny_plus.extract_all(wavs)
    for i, f in enumerate(frames):
        np.testing.assert_allclose(out["utterance"][i], f.mean(0), atol=1e-5)
        np.testing.assert_allclose(out["frames"][i], f, atol=1e-6)
    assert out["posteriors"].shape == (2, 9)
    np.testing.assert_allclose(out["posteriors"].sum(1), 1.0, atol=1e-5)


def test_base_size_batch_equals_single(speech):
    """At the released size (random weights): padding must not leak into valid frames."""
    cfg = EncoderConfig(num_classes=9)
    net = Emotion2vec(cfg)
    net.load_state_dict(random_state_dict(cfg, seed=3))
    m = Emotion2vecModel(net, labels=[str(i) for i in range(9)])
    wavs = [speech(n, seed=n) for n in (24000, 401, 6000)]
    _assert_same(m.extract(wavs), [m.extract([w])[0] for w in wavs])
    np.testing.assert_allclose(m.classify(wavs),
                               np.concatenate([m.classify([w]) for w in wavs]), atol=1e-5)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1)])
def test_batch_order_does_not_matter(tiny_plus, order, speech):
    wavs = [speech(n, seed=n) for n in (7000, 12000, 900)]
    ref = tiny_plus.extract(wavs)
    got = tiny_plus.extract([wavs[i] for i in order])
    _assert_same(got, [ref[i] for i in order], tol=1e-5)


def test_front_end_blocks_equal_one_pass(tiny_plus, speech):
    """The conv front end runs in blocks of frames for bounded memory: same frames."""
    import torch

    le = tiny_plus.net.modality_encoders["AUDIO"].local_encoder
    wav = torch.from_numpy(np.stack([speech(33333, seed=1), speech(33333, seed=2)]))
    with torch.inference_mode():
        whole = le(wav, block_samples=10**9)
        blocked = le(wav, block_samples=9000)  # 14 frames a block per utterance -> 16
    assert whole.shape == blocked.shape == (2, tiny_plus.num_frames(33333), 32)
    assert torch.abs(whole - blocked).max() < 1e-5


def test_onednn_and_plain_matmul_paths_agree(monkeypatch, speech):
    """The CPU fast path (oneDNN matmuls, fused GELU, conv front end as GEMMs) and plain
    F.linear give the same features; on x86-64 the fast path must be the one in use."""
    import platform

    from emotion2vec.models import fastpath

    if platform.machine() in ("x86_64", "AMD64"):
        assert fastpath._ONEDNN_LINEAR is not None, "oneDNN matmul missing: CPU speed halves"
        assert fastpath._PACKING is not None, "oneDNN weight packing missing: 2-8 % slower"
    cfg = EncoderConfig(num_classes=9)
    net = Emotion2vec(cfg)
    net.load_state_dict(random_state_dict(cfg, seed=5))
    m = Emotion2vecModel(net, labels=[str(i) for i in range(9)])
    wavs = [speech(n, seed=n) for n in (70001, 1234)]
    fast = m.extract(wavs)
    monkeypatch.setattr(fastpath, "use_onednn", False)
    plain = m.extract(wavs)
    _assert_same(fast, plain)


def test_prepacked_weights_follow_the_parameters(speech):
    """Pre-packed / folded matrices are derived from the parameters once and kept: a model whose
    weights are replaced afterwards (load_state_dict, in-place edits) must compute with the new
    ones, and a deep copy must derive its own."""
    import copy

    import torch

    cfg = EncoderConfig(embed_dim=64, num_heads=4, depth=2, prenet_depth=1, mlp_dim=128,
                        conv_spec=((32, 10, 5),) + ((32, 3, 2),) * 4 + ((32, 2, 2),) * 2,
                        pos_conv_groups=4)

    def model(seed):
        net = Emotion2vec(cfg)
        net.load_state_dict(random_state_dict(cfg, seed=seed))
        return Emotion2vecModel(net)

    wav = [speech(9000, seed=4)]
    a, b = model(1), model(2)
    first = a.extract(wav)[0]
    copied = copy.deepcopy(a)
    a.net.load_state_dict(b.net.state_dict())  # in-place copy_: same tensors, new versions
    _assert_same(a.extract(wav), b.extract(wav), tol=1e-6)
    assert np.abs(a.extract(wav)[0] - first).max() > 1e-2
    _assert_same(copied.extract(wav), [first], tol=1e-6)
    with torch.no_grad():  # a single edited tensor: the first conv layer's norm gain
        for m in (a, b):
            m.net.modality_encoders["AUDIO"].local_encoder.conv_layers[0].norm.weight.mul_(0.5)
    _assert_same(a.extract(wav), b.extract(wav), tol=1e-6)


def test_first_conv_layer_folded_norm_equals_conv_layernorm_gelu(speech):
    """The first conv layer runs as one matmul with its LayerNorm folded in (oneDNN path);
    it must equal Conv1d -> LayerNorm -> GELU computed the plain way, silence included."""
    import torch
    import torch.nn.functional as F

    cfg = EncoderConfig(num_classes=9)
    net = Emotion2vec(cfg)
    net.load_state_dict(random_state_dict(cfg, seed=8))
    layer = net.modality_encoders["AUDIO"].local_encoder.conv_layers[0]
    wav = torch.from_numpy(np.stack([speech(8000, seed=1), np.zeros(8000, np.float32)]))
    wav = F.layer_norm(wav, (8000,))
    wav[1] = 0.0
    with torch.inference_mode():
        fast = layer(wav.unsqueeze(-1))
        y = F.conv1d(wav.unsqueeze(1), layer.conv.weight, stride=5).transpose(1, 2)
        plain = F.gelu(F.layer_norm(y, (512,), layer.norm.weight, layer.norm.bias, 1e-5))
    assert fast.shape == plain.shape == (2, 1599, 512)
    assert torch.abs(fast - plain).max() < 1e-5


def test_front_end_rounds_blocks_to_repeating_shapes(tiny_plus, speech, monkeypatch):
    """On CPU every front-end block computes a multiple of ROUND_FRAMES frames (zero samples
    appended, extra frames dropped), so utterances of all-different lengths reuse a few matrix
    shapes; the frames kept equal those of the unrounded computation."""
    import torch

    from emotion2vec.models import fastpath

    assert fastpath.ROUND_FRAMES > 1
    le = tiny_plus.net.modality_encoders["AUDIO"].local_encoder
    computed = []
    run, rounding = le._run, fastpath.ROUND_FRAMES

    def recording_run(w):
        y = run(w)
        computed.append(y.shape[1])
        return y

    monkeypatch.setattr(le, "_run", recording_run)
    with torch.inference_mode():
        for n in (401, 1999, 7777, 33333):
            wav = torch.from_numpy(speech(n, seed=n))[None]
            computed.clear()
            rounded = le(wav, block_samples=9000)
            assert all(f % rounding == 0 for f in computed), computed
            monkeypatch.setattr(fastpath, "ROUND_FRAMES", 1)
            plain = le(wav, block_samples=9000)
            monkeypatch.setattr(fastpath, "ROUND_FRAMES", rounding)
            assert rounded.shape == plain.shape == (1, tiny_plus.num_frames(n), 32)
            assert torch.abs(rounded - plain).max() < 1e-6


@pytest.mark.parametrize("heads,dh", [(12, 64), (3, 20)])
def test_onednn_attention_equals_sdpa(heads, dh):
    """Per-head oneDNN attention (CPU, long inputs) equals SDPA, padded keys masked with -inf
    per utterance, and a head size whose scale is not a power of two."""
    import torch
    import torch.nn.functional as F

    from emotion2vec.models import fastpath

    if fastpath._ONEDNN_LINEAR is None:
        pytest.skip("no oneDNN matmul in this torch build")
    g = torch.Generator().manual_seed(0)
    b, n = 2, 390
    qkv = torch.randn(b, n, 3, heads, dh, generator=g)
    bias = torch.randn(1, heads, n, n, generator=g).expand(b, -1, -1, -1).clone()
    bias[1, :, :, 300:] = float("-inf")  # the second utterance is 300 tokens long
    x = qkv.permute(2, 0, 3, 1, 4)
    want = F.scaled_dot_product_attention(x[0], x[1], x[2], attn_mask=bias)
    want = want.transpose(1, 2).reshape(b, n, heads * dh)
    got = fastpath.attention_onednn(qkv, bias)
    assert got.shape == want.shape
    assert torch.abs(got - want).max() < 1e-5
    one = fastpath.attention_onednn(qkv[:1], bias[:1])  # a bias shared by the batch ([1, H, ..])
    assert torch.abs(one - want[:1]).max() < 1e-5


def test_long_inputs_batched_and_attention_paths_agree(monkeypatch, speech):
    """At base size, an utterance long enough for the oneDNN attention path (>= 352 tokens)
    batched with a short one (padded keys) equals one-at-a-time inference and the SDPA path."""
    from emotion2vec.models import fastpath

    cfg = EncoderConfig(num_classes=9)
    net = Emotion2vec(cfg)
    net.load_state_dict(random_state_dict(cfg, seed=4))
    m = Emotion2vecModel(net, labels=[str(i) for i in range(9)])
    wavs = [speech(n, seed=n) for n in (120000, 20000)]
    assert m.num_frames(120000) + cfg.num_extra_tokens >= fastpath.ONEDNN_ATTENTION_MIN_TOKENS
    batched = m.extract(wavs)
    _assert_same(batched, [m.extract([w])[0] for w in wavs])
    monkeypatch.setattr(fastpath, "ONEDNN_ATTENTION_MIN_TOKENS", 10**9)
    _assert_same(batched, m.extract(wavs), tol=2e-5)
