"""Generated corpora and features with a known structure for the training tests."""

from __future__ import annotations

import pytest

from helpers.traincorpus import make_corpus


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # Two shared cores: torch's thread pool only adds overhead on these tiny problems.
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
