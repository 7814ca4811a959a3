"""Fixtures: look-alike corpus trees (built by lookalike.py) for the preparation tests."""

import pytest

from helpers.lookalike import make_emobox, make_emodb, make_iemocap, make_thai


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
