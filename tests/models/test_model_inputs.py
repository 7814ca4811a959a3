"""Defined behaviour for awkward inputs: short, silent, clipped, loud, non-finite, malformed."""

import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.models import load_model


def test_frame_count_formula(tiny_plus):
    m = tiny_plus
    assert m.min_samples == 400
    assert [m.num_frames(n) for n in (65666, 401, 400, 399, 0, 16000)] == [204, 1, 1, 0, 0, 49]
    assert m.sample_rate == 16000 and m.frame_rate == 50


def test_shorter_than_receptive_field_is_an_error(tiny_plus, speech):
    with pytest.raises(E2VError, match=r"utt-a: 399 samples is shorter than the model's "
                                       r"receptive field \(400 samples = 25 ms"):
        tiny_plus.extract([speech(1000), speech(399)], keys=["utt-b", "utt-a"])
    assert tiny_plus.extract([speech(400)])[0].shape == (1, 32)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_an_error(tiny_plus, bad, speech):
    w = speech(4000)
    w[123] = bad
    with pytest.raises(E2VError, match="waveform #1: waveform contains NaN or Inf"):
        tiny_plus.extract([speech(4000), w])


def test_silence_gives_finite_features(tiny_plus, speech):
    """All-zero input normalises to zeros (eps keeps it finite): a defined, finite output."""
    f = tiny_plus.extract([np.zeros(8000, np.float32)])[0]
    assert f.shape == (24, 32) and np.isfinite(f).all()
    assert np.isfinite(tiny_plus.classify([np.zeros(8000, np.float32)])).all()


def test_amplitude_and_clipping(tiny_plus, speech):
    """The waveform is normalised per utterance: gain does not change the features;
    clipped audio is processed as it is (finite, no error)."""
    w = speech(16000, seed=3)
    a = tiny_plus.extract([w])[0]
    b = tiny_plus.extract([w * 30.0])[0]  # far outside [-1, 1]
    assert np.abs(a - b).max() < 1e-3
    clipped = np.clip(w * 20, -1, 1)
    f = tiny_plus.extract([clipped])[0]
    assert np.isfinite(f).all() and np.abs(f - a).max() > 1e-3


def test_float64_is_accepted_int_is_refused(tiny_plus, speech):
    w = speech(8000)
    np.testing.assert_allclose(tiny_plus.extract([w.astype(np.float64)])[0],
                               tiny_plus.extract([w])[0], atol=1e-6)
    with pytest.raises(E2VError, match="expected float samples"):
        tiny_plus.extract([(w * 32767).astype(np.int16)])


def test_malformed_calls(tiny_plus, tiny_dir, speech):
    with pytest.raises(E2VError, match="1-D mono"):
        tiny_plus.extract([np.zeros((2, 8000), np.float32)])
    with pytest.raises(E2VError, match="a list of waveforms"):
        tiny_plus.extract(speech(8000))
    for bad in (0, 4, "first", -1):
        with pytest.raises(E2VError, match=r"layer must be 1\.\.3"):
            tiny_plus.extract([speech(8000)], layer=bad)
    assert tiny_plus.extract([]) == []
    base = load_model(tiny_dir["fairseq"])
    assert base.labels is None
    with pytest.raises(E2VError, match="no emotion class head"):
        base.classify([speech(8000)])


def test_precision_choices(tiny_dir, speech):
    with pytest.raises(E2VError, match="precision must be one of"):
        load_model(tiny_dir["plus"], precision="fp8")
    with pytest.raises(E2VError, match="far slower than fp32"):
        load_model(tiny_dir["plus"], precision="bf16")
    m = load_model(tiny_dir["plus"], precision="int8")
    ref = load_model(tiny_dir["plus"])
    w = [speech(16000)]
    a, b = ref.extract(w)[0], m.extract(w)[0]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.95
    if not __import__("torch").cuda.is_available():
        with pytest.raises(E2VError, match="CUDA is not available"):
            load_model(tiny_dir["plus"], device="cuda")
