"""Fixtures: look-alike corpus trees (built by lookalike.py) for the preparation tests."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lookalike import (LOCAL, REPO, make_emobox, make_emodb, make_iemocap,  # noqa: E402,F401
                       make_thai, read_dir, run_prep, tone)


@pytest.fixture
def iemocap_tree(tmp_path):
    return make_iemocap(tmp_path / "corpus")


@pytest.fixture
def emodb_tree(tmp_path):
    return make_emodb(tmp_path / "corpus")


@pytest.fixture
def thai_tree(tmp_path):
    return make_thai(tmp_path / "corpus")


@pytest.fixture
def emobox_tree(tmp_path):
    return make_emobox(tmp_path / "corpus")
