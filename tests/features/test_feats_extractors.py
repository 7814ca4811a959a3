"""Extractors behind the registry: values, shapes, layers, batching equal to one at a time."""

import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.features import EXTRACTORS, make_extractor, parse_layer
from emotion2vec.features.batching import bucketed, plan_batches
from emotion2vec.features.spectral import mel_filterbank


def tone(freq, seconds=1.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(n, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def test_registry_lists_every_type_and_rejects_unknown():
    assert set(EXTRACTORS) == {"emotion2vec", "hf", "fbank", "logspec", "logmel", "opensmile"}
    with pytest.raises(E2VError, match="unknown feature type 'mfcc'"):
        make_extractor("mfcc")


def test_layer_spelling():
    assert parse_layer("last") is None and parse_layer("all") == "all" and parse_layer("3") == 3
    with pytest.raises(E2VError, match="want last, all or a layer number"):
        parse_layer("top")
    with pytest.raises(E2VError, match="has no layers"):
        make_extractor("fbank", layer=3)


def test_fbank_equals_kaldi_native_fbank_on_int16_scale():
    import kaldi_native_fbank as knf

    x = noise(16000 + 123)
    (f,) = make_extractor("fbank").extract([x])
    assert f.shape == (1 + (len(x) - 400) // 160, 80) and f.dtype == np.float32
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0
    opts.mel_opts.num_bins = 80
    ref = knf.OnlineFbank(opts)
    ref.accept_waveform(16000, (x * 32768).tolist())
    ref.input_finished()
    np.testing.assert_allclose(f, np.stack([ref.get_frame(i) for i in range(ref.num_frames_ready)]),
                               rtol=1e-5)
    assert make_extractor("fbank", num_mel_bins=40).extract([x])[0].shape[1] == 40
    assert make_extractor("fbank").extract([x[:399]])[0].shape == (0, 80)  # too short: no frame


def test_logspec_matches_an_independent_stft():
    librosa = pytest.importorskip("librosa")
    x = noise(16000, seed=1)
    (f,) = make_extractor("logspec").extract([x])
    assert f.shape == (1 + (16000 - 640) // 160, 200)
    pre = np.append(x[0], x[1:] - 0.97 * x[:-1])
    # librosa centres the 640-sample window inside each 800-sample frame: pad by 80 to align
    mag = np.abs(librosa.stft(np.pad(pre, 80), n_fft=800, hop_length=160, win_length=640,
                              window=np.hamming(640), center=False))
    np.testing.assert_allclose(f, np.log(mag[:200].T), rtol=1e-4, atol=1e-4)


def test_logmel_peaks_at_the_tone_band():
    ex = make_extractor("logmel", num_mel_bins=40)
    assert ex.dim == 40 and make_extractor("logmel", num_mel_bins=80).dim == 80
    fb = mel_filterbank(40, 800, 16000)
    for freq in (300.0, 1000.0, 3000.0):
        (f,) = ex.extract([tone(freq)])
        assert f.shape == (97, 40)
        band = int(np.argmax(fb[:, int(round(freq * 800 / 16000))]))
        assert abs(int(np.argmax(f.mean(axis=0))) - band) <= 1, freq


def test_plan_batches_respects_budget_and_covers_everything():
    lengths = [5, 50, 7, 48, 100, 3, 49, 300]
    batches = plan_batches(lengths, budget=100)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 100
    assert [7] in batches  # longer than the budget: alone
    assert sorted(lengths[i] for i in batches[0]) == [300]


def test_bucketed_keeps_input_order_and_bounds_the_window():
    wavs = [(f"u{i}", np.full(n, i, np.float32)) for i, n in enumerate([30, 10, 20, 40, 5, 25])]
    calls = []

    def fake(batch):
        calls.append([len(w) for w in batch])
        return [w[:, None] * 2 for w in batch]

    out = list(bucketed(iter(wavs), fake, budget_samples=60, window_samples=70))
    assert [u for u, _, _ in out] == [u for u, _ in wavs]
    for (u, w, f), (_, ref) in zip(out, wavs):
        np.testing.assert_array_equal(f[:, 0], ref * 2)
    # windows: u0..u3 (100 samples >= 70) then u4, u5; sorted by length inside each
    assert calls == [[40], [30, 20], [10], [25, 5]]


def test_emotion2vec_extractor_layers_and_batching(tiny_e2v):
    ex = make_extractor("emotion2vec", model=tiny_e2v)
    assert ex.frame_rate == 50 and ex.num_layers >= 2
    wavs = [noise(16000, 2), noise(9000, 3), noise(4000, 4)]
    batch = ex.extract(wavs)
    for w, f in zip(wavs, batch):
        (one,) = ex.extract([w])
        assert f.shape == (ex._m.num_frames(len(w)), ex.dim)
        np.testing.assert_allclose(f, one, atol=1e-4)
    every = make_extractor("emotion2vec", model=tiny_e2v, layer="all").extract(wavs[:1])[0]
    assert every.shape == (ex.num_layers, batch[0].shape[0], ex.dim)
    np.testing.assert_allclose(every[-1], batch[0], atol=1e-5)
    first = make_extractor("emotion2vec", model=tiny_e2v, layer=1).extract(wavs[:1])[0]
    np.testing.assert_allclose(first, every[0], atol=1e-5)
    with pytest.raises(E2VError, match="layer"):
        make_extractor("emotion2vec", model=tiny_e2v, layer=ex.num_layers + 1)


def test_hf_layers_and_masked_batching(tiny_hf):
    import torch
    import transformers

    wavs = [noise(16000, 5), noise(7000, 6)]
    ex = make_extractor("hf", model=tiny_hf["wav2vec2"])
    assert ex.dim == 32 and ex.num_layers == 2 and ex.frame_rate == 50 and ex._masked
    batch = ex.extract(wavs)
    assert [f.shape for f in batch] == [(49, 32), (21, 32)]
    for w, f in zip(wavs, batch):
        np.testing.assert_allclose(f, ex.extract([w])[0], atol=1e-4)
    # layer k = hidden_states[k] of the model itself
    net = transformers.AutoModel.from_pretrained(tiny_hf["wav2vec2"]).eval()
    x = torch.from_numpy((wavs[0] - wavs[0].mean()) / np.sqrt(wavs[0].var() + 1e-7))[None]
    with torch.no_grad():
        out = net(x, output_hidden_states=True)
    np.testing.assert_allclose(batch[0], out.last_hidden_state[0].numpy(), atol=1e-4)
    got = make_extractor("hf", model=tiny_hf["wav2vec2"], layer=1).extract(wavs[:1])[0]
    np.testing.assert_allclose(got, out.hidden_states[1][0].numpy(), atol=1e-4)
    every = make_extractor("hf", model=tiny_hf["wav2vec2"], layer="all").extract(wavs[:1])[0]
    assert every.shape == (2, 49, 32)
    for k in (1, 2):  # layer k = hidden_states[k] (before a final norm a model may apply)
        np.testing.assert_allclose(every[k - 1], out.hidden_states[k][0].numpy(), atol=1e-4)


def test_hf_group_norm_model_runs_one_at_a_time(tiny_hf):
    ex = make_extractor("hf", model=tiny_hf["hubert"], layer=2)
    assert not ex._masked
    wavs = [noise(16000, 7), noise(5000, 8)]
    got = ex.extract(wavs)
    assert [f.shape for f in got] == [(49, 32), (15, 32)]
    np.testing.assert_array_equal(got[1], ex.extract([wavs[1]])[0])


def test_hf_missing_model_is_a_clear_error(tmp_path):
    pytest.importorskip("transformers")
    with pytest.raises(E2VError, match="cannot load Hugging Face model"):
        make_extractor("hf", model=str(tmp_path / "nothing"))


CUSTOM_CONFIG = '''from transformers import Wav2Vec2Config


class TinyEncConfig(Wav2Vec2Config):
    model_type = "tinyenc"
'''
CUSTOM_MODEL = '''from transformers import Wav2Vec2Model

from .configuration_tinyenc import TinyEncConfig


class TinyEncModel(Wav2Vec2Model):
    config_class = TinyEncConfig
'''


def test_hf_model_with_its_own_code_needs_trust_remote_code(tmp_path, monkeypatch):
    """Like ExHuBERT: config.json maps the auto classes to code inside the model directory."""
    transformers = pytest.importorskip("transformers")
    d = tmp_path / "custom"
    d.mkdir()
    (d / "configuration_tinyenc.py").write_text(CUSTOM_CONFIG)
    (d / "modeling_tinyenc.py").write_text(CUSTOM_MODEL)
    monkeypatch.syspath_prepend(str(d))
    from configuration_tinyenc import TinyEncConfig

    cfg = TinyEncConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                        num_conv_pos_embedding_groups=2, feat_extract_norm="layer", vocab_size=10)
    cfg.auto_map = {"AutoConfig": "configuration_tinyenc.TinyEncConfig",
                    "AutoModel": "modeling_tinyenc.TinyEncModel"}
    transformers.Wav2Vec2Model(cfg).save_pretrained(d)
    transformers.Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(d)
    with pytest.raises(E2VError, match="cannot load Hugging Face model .*trust_remote_code"):
        make_extractor("hf", model=str(d))
    ex = make_extractor("hf", model=str(d), trust_remote_code=True)
    assert type(ex._net).__name__ == "TinyEncModel"
    assert ex.extract([noise(16000, 9)])[0].shape == (49, 32)


def test_emotion2vec_plus_directory(tmp_path):
    """The plus models' layout (model.pt + config.yaml + tokens.txt) gives embeddings too."""
    from emotion2vec.testing.tiny import make_tiny_checkpoint

    d = make_tiny_checkpoint(tmp_path / "plus", fmt="plus", seed=5)
    ex = make_extractor("emotion2vec", model=str(d))
    (f,) = ex.extract([noise(8000, 10)])
    assert f.shape == ((8000 - 400) // 320 + 1, ex.dim) and np.isfinite(f).all()
