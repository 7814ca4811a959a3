"""Ids Kaldi forbids (and invisible characters it lets through) are rejected, with
`file:line: 'key': reason` and exit 1, by utils/validate_data_dir.sh and by read_kv."""
import pytest

from emotion2vec import datadir as dd
from emotion2vec.errors import DataDirError, E2VError

# (name, character): control, DEL, C1 control, controls that Python's split() takes as
# whitespace but C's isspace() does not (so Kaldi keeps them inside the key), Unicode spaces,
# line separators, zero-width / format, private use.  (\v and \f are C whitespace: Kaldi
# splits there, and so do we.)
BAD_CHARS = [
    ("soh", "\x01"), ("del", "\x7f"), ("nel", "\x85"), ("unit_sep", "\x1f"),
    ("file_sep", "\x1c"), ("nbsp", "\u00a0"), ("em_space", "\u2003"), ("ideographic", "\u3000"),
    ("line_sep", "\u2028"), ("zwsp", "\u200b"), ("zwj", "\u200d"), ("bom", "\ufeff"),
    ("rtl_mark", "\u200f"), ("private", "\ue000"),
]


def _rename(d, old, new, files=("utt2spk", "spk2utt", "utt2emo", "wav.scp", "utt2dur",
                                  "utt2gender", "utt2session", "utt2avd", "text")):
    for f in files:
        p = d / f
        if p.is_file():
            p.write_bytes(p.read_text().replace(old, new).encode("utf-8"))


@pytest.mark.parametrize("name,ch", BAD_CHARS)
def test_bad_character_in_utterance_id_is_rejected(data, tool, name, ch):
    bad = f"spk1-u2{ch}x"
    _rename(data, "spk1-u2", bad)
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", data)
    assert r.returncode == 1, (r.stdout, r.stderr)
    # The key as Kaldi reads it (up to the first ASCII space), escaped so it can be seen.
    want = f"{data / 'utt2spk'}:2: {bad!r}: id contains "
    assert want in r.stderr, r.stderr
    assert f"U+{ord(ch):04X}" in r.stderr and "at character 8" in r.stderr
    assert "Traceback" not in r.stderr


def test_messages_name_the_kind_of_character(data):
    _rename(data, "spk1-u2", "spk1-u2\u00a0x")
    with pytest.raises(DataDirError) as e:
        dd.validate_data_dir(data, no_feats=True, check_paths=False)
    msg = str(e.value)
    assert ("utt2spk:2: 'spk1-u2\\xa0x': id contains a Unicode space (U+00A0 NO-BREAK SPACE) "
            "at character 8; ids must be printable, without whitespace") in msg
    # Every key file is checked, not only utt2spk.
    for f in ("utt2emo", "wav.scp", "utt2dur", "text"):
        assert f"{data / f}:2: 'spk1-u2\\xa0x'" in msg, f


def test_id_problem_rule():
    ok = ["spk1-u1", "é-utt", "日本-1", "a_b.c:d", "x" * 300]
    assert all(dd.id_problem(k) is None for k in ok)
    assert dd.id_problem("") == "empty id"
    assert "a space" in dd.id_problem("a b")
    assert "a control character (U+0009" in dd.id_problem("a\tb")
    assert "an invisible (format) character (U+200B ZERO WIDTH SPACE)" in dd.id_problem("a\u200b")
    assert "a line separator (U+2028" in dd.id_problem("\u2028")
    assert "a private-use character" in dd.id_problem("\ue000")
    assert "an undecodable byte" in dd.id_problem("a\udcff")   # surrogateescape'd stdin


def test_bad_speaker_id_and_recording_id(tmp_path, mkdata, tool):
    d = tmp_path / "d"
    mkdata(d, extra=False)
    u2s = (d / "utt2spk").read_text().replace("spk1-u2 spk1", "spk1-u2 spk1\x7f")
    (d / "utt2spk").write_text(u2s)
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", d)
    assert r.returncode == 1
    assert (f"{d / 'utt2spk'}:2: 'spk1-u2': speaker id 'spk1\\x7f': id contains a control "
            "character (U+007F)") in r.stderr
    s = tmp_path / "s"
    mkdata(s, segments=True, extra=False)
    seg = (s / "segments").read_text().replace("spk2-rec1 ", "spk2-rec1\u200b ", 1)
    (s / "segments").write_text(seg)
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", s)
    assert r.returncode == 1
    assert (f"{s / 'segments'}:4: 'spk2-u1': recording id 'spk2-rec1\\u200b': id contains an "
            "invisible (format) character (U+200B ZERO WIDTH SPACE)") in r.stderr
    # A speaker id with a Unicode space is one bad id (as Kaldi reads it), not two fields.
    (d / "utt2spk").write_text(u2s.replace("spk1\x7f", "spk1\u00a0b"))
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", d)
    assert "speaker id 'spk1\\xa0b': id contains a Unicode space" in r.stderr
    assert "want 1 value field" not in r.stderr


def test_unicode_space_as_separator_is_not_silently_taken(data, tool):
    # Python's split() would read key 'spk1-u2', value 'spk1'; Kaldi's value is '\xa0spk1'.
    p = data / "utt2spk"
    p.write_text(p.read_text().replace("spk1-u2 spk1", "spk1-u2 \u00a0spk1"))
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", data)
    assert r.returncode == 1
    assert (f"{p}:2: 'spk1-u2': the value starts with a Unicode space (U+00A0 NO-BREAK SPACE), "
            "which Kaldi does not take as a separator") in r.stderr


def test_bad_id_in_a_fold_list(segdata, tool):
    p = segdata / "cv" / "fold1" / "test"
    lines = p.read_text().splitlines()
    lines[1] += "\u00a0"        # looks identical on screen; str.strip() would remove it
    p.write_text("\n".join(lines) + "\n")
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", segdata)
    assert r.returncode == 1
    assert f"{p}:2: '{lines[1].rstrip(chr(0xa0))}\\xa0': id contains a Unicode space" in r.stderr


def test_invalid_utf8_names_file_line_and_key(data, tool):
    p = data / "utt2emo"
    p.write_bytes(p.read_bytes().replace(b"spk2-u2", b"spk2-u\xff2"))
    (data / "cv").mkdir()
    (data / "cv" / "test").write_bytes(b"spk1-u1\nspk1-u\xc32\n")
    r = tool("validate_data_dir.sh", "--no-feats", "--check-paths", "false", data)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{p}:5: 'spk2-u\\xff2': not valid UTF-8 (byte 0xff at column 7)" in r.stderr
    # Reported together with the other file's problem, not instead of it.
    assert f"{data / 'cv' / 'test'}:2: 'spk1-u\\xc32': not valid UTF-8 (byte 0xc3" in r.stderr


def test_read_kv_gives_clean_errors(tmp_path):
    p = tmp_path / "wav.scp"
    p.write_bytes(b"a /x.wav\nb\xfe /y.wav\n")
    with pytest.raises(E2VError, match=r"wav.scp:2: 'b\\xfe': not valid UTF-8 \(byte 0xfe at "
                                       r"column 2\)"):
        dd.read_kv(p)
    p.write_text("a /x.wav\nb\x01 /y.wav\n")
    with pytest.raises(DataDirError, match=r"wav.scp:2: 'b\\x01': id contains a control"):
        dd.read_kv(p)
    # Values may hold anything (a transcript with a no-break space, a tab separator).
    p.write_text("a\tone\u00a0two\u200b\nb three\n")
    assert dd.read_kv(p) == {"a": "one\u00a0two\u200b", "b": "three"}


def test_read_kv_stream_invalid_utf8_is_clean():
    import io
    stream = io.TextIOWrapper(io.BytesIO(b"u1 s1\nu\xff2 s1\n"), encoding="utf-8")
    with pytest.raises(DataDirError, match="<stdin>: not valid UTF-8"):
        dd.read_kv_stream(stream, "<stdin>")
    stream = io.StringIO("u1 s1\nu\u00a02 s1\n")
    with pytest.raises(DataDirError, match=r"<stdin>:2: 'u\\xa02': id contains a Unicode space"):
        dd.read_kv_stream(stream, "<stdin>")


def test_other_tools_refuse_bad_ids_too(data, tool, tmp_path, mkdata):
    _rename(data, "spk3-u1", "spk3-u1\x01")
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 1 and "'spk3-u1\\x01': id contains a control character" in r.stderr
    good = tmp_path / "good"
    mkdata(good)
    ids = tmp_path / "ids"
    ids.write_text("spk1-u1\u2003\n")      # str.split() would read 'spk1-u1' and select it
    r = tool("subset_data_dir.sh", "--utt-list", ids, good, tmp_path / "sub")
    assert r.returncode == 1, r.stdout
    assert f"{ids}:1: 'spk1-u1\\u2003': id contains a Unicode space (U+2003 EM SPACE)" in r.stderr
