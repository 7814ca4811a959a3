"""Fixtures of the model tests: tiny checkpoints in each real container format."""

import numpy as np
import pytest
import torch


from emotion2vec.testing.tiny import make_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """{fmt: path} for fairseq (.pt with OmegaConf cfg), plus (directory), state_dict (.pt)."""
    d = tmp_path_factory.mktemp("tiny")
    return {
        "fairseq": make_tiny_checkpoint(d / "emotion2vec_base.pt", fmt="fairseq", seed=7),
        "plus": make_tiny_checkpoint(d / "plus", fmt="plus", seed=7),
        "state_dict": make_tiny_checkpoint(d / "sd.pt", fmt="state_dict", seed=7),
    }


@pytest.fixture(scope="session")
def tiny_plus(tiny_dir):
    from emotion2vec.models import load_model

    return load_model(tiny_dir["plus"])


def _speechlike(n, seed=0):
    """A waveform with some structure (sines + noise), float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000.0
    f0 = 120 + 40 * rng.random()
    x = 0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.sin(2 * np.pi * 3 * t)))
    x += 0.1 * np.sin(2 * np.pi * 3 * f0 * t) + 0.05 * rng.standard_normal(n)
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def speech():
    """speech(n, seed=0): a structured float32 test waveform of n samples."""
    return _speechlike


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(old)
