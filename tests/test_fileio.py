"""emotion2vec.fileio: atomic writes."""
import os
import stat

import pytest

from emotion2vec.fileio import atomic_open, atomic_write_text


def test_result_has_the_mode_a_plain_open_would_give(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "x\n")
    with open(tmp_path / "b.txt", "w") as f:
        f.write("x\n")
    mode_a = stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode)
    mode_b = stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode)
    assert mode_a == mode_b
    assert (tmp_path / "a.txt").read_text() == "x\n"


def test_failure_leaves_neither_result_nor_temporary(tmp_path):
    (tmp_path / "out").write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(tmp_path / "out") as f:
            f.write("half")
            raise RuntimeError("crash")
    assert (tmp_path / "out").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_binary_mode(tmp_path):
    with atomic_open(tmp_path / "sub" / "x.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "sub" / "x.bin").read_bytes() == b"\x00\x01"
