"""The Python side of emotion2vec.datadir (other parts import these functions)."""
import pytest

from emotion2vec import datadir as dd
from emotion2vec.errors import DataDirError


@pytest.mark.parametrize("text,msg", [
    ("a 1\nb\n", ":2: malformed line"),
    ("a 1\n\nb 2\n", ":2: malformed line"),
    ("a 1\na 2\n", ":2: duplicate key 'a' (first on line 1)"),
    ("b 1\na 2\n", ":2: not sorted (LC_ALL=C): 'a' comes after 'b'"),
    ("a 1\r\nb 2\r\n", ":1: line ends with a carriage return"),
    ("a 1\n b 2\n", ":2: line starts with whitespace"),
])
def test_read_kv_errors(tmp_path, text, msg):
    p = tmp_path / "f"
    p.write_text(text)
    with pytest.raises(DataDirError) as e:
        dd.read_kv(p)
    assert str(e.value).startswith(f"{p}{msg}")


def test_read_kv_ok_and_c_order(tmp_path):
    p = tmp_path / "f"
    # C order: upper case before lower, '-' (0x2d) before '_' (0x5f) and digits
    p.write_text("A x\nS1-a 1  2\nS1_a y\nb z   \n")
    assert dd.read_kv(p) == {"A": "x", "S1-a": "1  2", "S1_a": "y", "b": "z"}
    assert list(dd.read_kv(tmp_path / "f", check_sorted=False)) == ["A", "S1-a", "S1_a", "b"]
    with pytest.raises(DataDirError, match="want 1"):
        dd.read_kv(p, ncols=1)
    assert sorted(["b", "S1_a", "A", "S1-a", "é"], key=dd.c_sort_key) == \
        sorted(["b", "S1_a", "A", "S1-a", "é"])


def test_write_kv_sorts_and_rejects(tmp_path):
    p = tmp_path / "o"
    dd.write_kv(p, {"b": 1, "a": "x y"})
    assert p.read_text() == "a x y\nb 1\n"
    with pytest.raises(DataDirError, match="duplicate key 'a'"):
        dd.write_kv(p, [("a", 1), ("a", 2)])
    with pytest.raises(DataDirError, match="invalid key"):
        dd.write_kv(p, {"a b": 1})
    assert p.read_text() == "a x y\nb 1\n"


def test_spk2utt_conversions():
    u2s = {"b-1": "b", "a-2": "a", "a-1": "a"}
    s2u = dd.utt2spk_to_spk2utt(u2s)
    assert list(s2u.items()) == [("a", "a-1 a-2"), ("b", "b-1")]
    assert dd.spk2utt_to_utt2spk(s2u) == {"a-1": "a", "a-2": "a", "b-1": "b"}


def test_file_kinds(tmp_path, mkdata):
    assert dd.file_kind("utt2emo") == "utt" and dd.file_kind("utt2lang") == "utt"
    assert dd.file_kind("wav.scp") == "rec" and dd.file_kind("reco2dur") == "rec"
    assert dd.file_kind("spk2gender") == "spk" and dd.file_kind("emotions.txt") is None
    d = tmp_path / "d"
    mkdata(d)
    (d / "utt2lang.tmp").write_text("x")
    (d / ".utt2x").write_text("x")
    assert "utt2lang.tmp" not in dd.data_files(d) and ".utt2x" not in dd.data_files(d)


def test_validate_returns_warnings(data):
    (data / "emotions.txt").unlink()
    w = dd.validate_data_dir(data)
    assert len(w) == 1 and "labels not checked" in w[0]


def test_unknown_utt2_file_is_carried_and_checked(data, tmp_path):
    utts = list(dd.read_kv(data / "utt2spk"))
    dd.write_kv(data / "utt2lang", {u: "de" for u in utts})
    out = dd.subset_data_dir(data, tmp_path / "s", first=2)
    assert list(out.files["utt2lang"]) == utts[:2]
    assert (tmp_path / "s" / "utt2lang").read_text() == f"{utts[0]} de\n{utts[1]} de\n"
    parts = dd.split_data_dir(data, 3)
    assert (parts[0] / "utt2lang").is_file()
    dd.write_kv(data / "utt2lang", {u: "de" for u in utts[1:]})
    with pytest.raises(DataDirError, match=r"utt2lang: 1 utterance\(s\) of utt2spk missing"):
        dd.validate_data_dir(data)


def test_load_and_restrict(segdata):
    d = dd.load_data_dir(segdata)
    assert d.has_segments and d.reco_of("spk1-u3") == "spk1-rec2"
    sub = d.restrict(["spk1-u1", "spk2-u3"])
    assert list(sub.files["wav.scp"]) == ["spk1-rec1", "spk2-rec2"]
    assert sub.files["spk2utt"] == {"spk1": "spk1-u1", "spk2": "spk2-u3"}
    assert sub.cv["fold1/test"] == ["spk1-u1"]
    with pytest.raises(DataDirError, match="unknown utterance"):
        d.restrict(["nope"])
    assert dd.check_data_dir(sub).errors == []
