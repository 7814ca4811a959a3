"""subset_data_dir.sh, copy_data_dir.sh, combine_data.sh: every file carried, loud errors."""
import pytest


def _kv(path):
    return dict(ln.split(None, 1) for ln in path.read_text().splitlines())


CARRIED = ("utt2spk", "spk2utt", "wav.scp", "utt2emo", "utt2dur", "utt2gender", "utt2session",
           "utt2avd", "text", "emotions.txt")


# ---------------------------------------------------------------- subset

def test_subset_utt_list(data, tool, tmp_path):
    lst = tmp_path / "list"
    lst.write_text("spk2-u3\nspk1-u1\n")
    out = tmp_path / "sub"
    r = tool("subset_data_dir.sh", "--utt-list", lst, data, out)
    assert r.returncode == 0, r.stderr
    assert list(_kv(out / "utt2spk")) == ["spk1-u1", "spk2-u3"]
    for f in CARRIED:
        assert (out / f).is_file(), f
    assert set(_kv(out / "wav.scp")) == {"spk1-u1", "spk2-u3"}
    assert _kv(out / "spk2utt") == {"spk1": "spk1-u1", "spk2": "spk2-u3"}
    assert tool("validate_data_dir.sh", out).returncode == 0


def test_subset_missing_ids_are_an_error_unless_allowed(data, tool, tmp_path):
    lst = tmp_path / "list"
    lst.write_text("spk1-u1\nnope-1\nnope-2\n")
    out = tmp_path / "sub"
    r = tool("subset_data_dir.sh", "--utt-list", lst, data, out)
    assert r.returncode == 1
    assert f"{lst}: 2 utterance(s) not in {data}: 'nope-1', 'nope-2'" in r.stderr
    assert "--allow-missing true" in r.stderr and not out.exists()
    r = tool("subset_data_dir.sh", "--utt-list", lst, "--allow-missing", "true", data, out)
    assert r.returncode == 0 and "skipping" in r.stderr and "nope-1" in r.stderr
    assert list(_kv(out / "utt2spk")) == ["spk1-u1"]


def test_subset_duplicate_in_list(data, tool, tmp_path):
    lst = tmp_path / "list"
    lst.write_text("spk1-u1\nspk1-u1\n")
    r = tool("subset_data_dir.sh", "--utt-list", lst, data, tmp_path / "sub")
    assert r.returncode == 1 and f"{lst}:2: 'spk1-u1' listed twice" in r.stderr


def test_subset_spk_list_with_segments_and_cv(segdata, tool, tmp_path):
    lst = tmp_path / "spk"
    lst.write_text("spk3\n")
    out = tmp_path / "sub"
    r = tool("subset_data_dir.sh", "--spk-list", lst, segdata, out)
    assert r.returncode == 0, r.stderr
    assert set(_kv(out / "utt2spk").values()) == {"spk3"}
    assert set(_kv(out / "wav.scp")) == {"spk3-rec1", "spk3-rec2"}
    assert (out / "cv" / "fold3" / "test").read_text() == "spk3-u1\nspk3-u2\nspk3-u3\n"
    assert (out / "cv" / "fold3" / "train").read_text() == ""
    assert "cv/fold3/train is empty" in r.stderr
    assert tool("validate_data_dir.sh", out).returncode == 0


def test_subset_first_last_random(data, tool, tmp_path):
    utts = list(_kv(data / "utt2spk"))
    r = tool("subset_data_dir.sh", "--first", "2", data, tmp_path / "f")
    assert r.returncode == 0 and list(_kv(tmp_path / "f" / "utt2spk")) == utts[:2]
    r = tool("subset_data_dir.sh", "--last", "2", data, tmp_path / "l")
    assert r.returncode == 0 and list(_kv(tmp_path / "l" / "utt2spk")) == utts[-2:]
    picks = []
    for name, seed in (("r1", "7"), ("r2", "7"), ("r3", "8")):
        r = tool("subset_data_dir.sh", "--random", "4", "--seed", seed, data, tmp_path / name)
        assert r.returncode == 0 and f"seed {seed}" in r.stderr
        picks.append(list(_kv(tmp_path / name / "utt2spk")))
    assert picks[0] == picks[1] and len(picks[0]) == 4 and picks[0] != picks[2]
    r = tool("subset_data_dir.sh", "--first", "10", data, tmp_path / "x")
    assert r.returncode == 1 and "has 9 utterances; cannot select 10" in r.stderr


def test_subset_kaldi_num_utt_form_and_per_spk(data, tool, tmp_path):
    r = tool("subset_data_dir.sh", data, 3, tmp_path / "s")
    assert r.returncode == 0, r.stderr
    assert list(_kv(tmp_path / "s" / "utt2spk")) == ["spk1-u1", "spk2-u1", "spk3-u1"]
    r = tool("subset_data_dir.sh", "--per-spk", "2", data, tmp_path / "p")
    assert r.returncode == 0, r.stderr
    assert list(_kv(tmp_path / "p" / "utt2spk")) == [
        "spk1-u1", "spk1-u2", "spk2-u1", "spk2-u2", "spk3-u1", "spk3-u2"]


def test_subset_usage_errors(data, tool, tmp_path):
    r = tool("subset_data_dir.sh", "--first", "2", "--last", "2", data, tmp_path / "x")
    assert r.returncode == 2 and "exactly one" in r.stderr
    r = tool("subset_data_dir.sh", data, tmp_path / "x")
    assert r.returncode == 2 and "exactly one" in r.stderr
    r = tool("subset_data_dir.sh", "--first", "2", data, data)
    assert r.returncode == 1 and "same directory" in r.stderr


def test_subset_removes_stale_files_in_dest(data, tool, tmp_path):
    out = tmp_path / "sub"
    out.mkdir()
    (out / "utt2fold").write_text("old-u1 1\n")
    r = tool("subset_data_dir.sh", "--first", "2", data, out)
    assert r.returncode == 0 and not (out / "utt2fold").exists()
    assert "removed stale" in r.stderr


# ---------------------------------------------------------------- copy

def test_copy_with_prefixes_and_segments(segdata, tool, tmp_path):
    (segdata / "cv_info.txt").write_text("folds by speaker\n")
    out = tmp_path / "copy"
    r = tool("copy_data_dir.sh", "--utt-prefix", "c1-", "--spk-prefix", "c1-", segdata, out)
    assert r.returncode == 0, r.stderr
    u2s = _kv(out / "utt2spk")
    assert all(u.startswith("c1-spk") and s.startswith("c1-spk") for u, s in u2s.items())
    assert _kv(out / "segments")["c1-spk1-u1"] == "c1-spk1-rec1 0.00 0.75"
    assert set(_kv(out / "wav.scp")) == {f"c1-spk{s}-rec{r}" for s in (1, 2, 3) for r in (1, 2)}
    for f in CARRIED + ("segments",):
        assert (out / f).is_file(), f
    assert _kv(out / "utt2emo")["c1-spk2-u1"] == _kv(segdata / "utt2emo")["spk2-u1"]
    assert (out / "cv" / "fold1" / "test").read_text() == "c1-spk1-u1\nc1-spk1-u2\nc1-spk1-u3\n"
    assert (out / "cv_info.txt").read_text() == "folds by speaker\n"
    assert tool("validate_data_dir.sh", out).returncode == 0


def test_copy_suffix_keeps_files_sorted(data, tool, tmp_path, lines):
    # Suffixes can reorder ids ('a-1x' vs 'a-10'): the copy must still be sorted and valid.
    out = tmp_path / "copy"
    r = tool("copy_data_dir.sh", "--utt-suffix", "-x", "--spk-suffix", "", data, out)
    assert r.returncode == 0, r.stderr
    assert list(_kv(out / "utt2spk"))[0] == "spk1-u1-x"
    assert tool("validate_data_dir.sh", out).returncode == 0


def test_copy_warns_when_the_speaker_prefix_convention_breaks(data, tool, tmp_path):
    r = tool("copy_data_dir.sh", "--spk-prefix", "x-", data, tmp_path / "c")
    assert r.returncode == 0
    assert "no longer start with their speaker id" in r.stderr


def test_copy_rejects_invalid_source(data, tool, tmp_path):
    p = data / "utt2gender"
    p.write_text(p.read_text() + "zzz-u1 f\n")
    r = tool("copy_data_dir.sh", data, tmp_path / "c")
    assert r.returncode == 1
    assert f"{data}/utt2gender:10: 'zzz-u1': utterance not in utt2spk" in r.stderr
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- combine

def test_combine_duplicate_ids_is_an_error(data, tool, tmp_path):
    r = tool("combine_data.sh", tmp_path / "all", data, data)
    assert r.returncode == 1
    assert "utterance 'spk1-u1' is in both" in r.stderr
    assert "copy_data_dir.sh --utt-prefix" in r.stderr
    assert not (tmp_path / "all").exists()


def test_combine_prefixed_copies(tmp_path, mkdata, tool):
    a, b, seg = tmp_path / "a", tmp_path / "b", tmp_path / "seg"
    mkdata(a, prefix="A")
    mkdata(b, spks=("x", "y"), prefix="B")
    mkdata(seg, spks=("z",), prefix="S", segments=True)
    (a / "cv_info.txt").write_text("folds of a\n")
    (b / "cv_info.txt").write_text("folds of b\n")
    r = tool("combine_data.sh", tmp_path / "all", a, b)
    assert r.returncode == 0, r.stderr
    assert "not carried" in r.stderr and not (tmp_path / "all" / "cv_info.txt").exists()
    u2s = _kv(tmp_path / "all" / "utt2spk")
    assert len(u2s) == 15 and "Bx-u1" in u2s and "Aspk1-u1" in u2s
    for f in CARRIED:
        assert (tmp_path / "all" / f).is_file(), f
    assert tool("validate_data_dir.sh", tmp_path / "all").returncode == 0
    # A segments / no-segments mix is refused.
    r = tool("combine_data.sh", tmp_path / "all2", a, seg)
    assert r.returncode == 1 and f"segments is in some sources but not in {a}" in r.stderr


def test_combine_inventories_must_agree(tmp_path, mkdata, tool):
    a, b = tmp_path / "a", tmp_path / "b"
    mkdata(a, prefix="A")
    mkdata(b, prefix="B")
    (b / "emotions.txt").write_text("neu\nhap\nsad\nang\n")
    r = tool("combine_data.sh", tmp_path / "all", a, b)
    assert r.returncode == 1
    assert "class inventories differ" in r.stderr and "(neu hap ang sad)" in r.stderr


def test_combine_partial_files(tmp_path, mkdata, tool):
    a, b = tmp_path / "a", tmp_path / "b"
    mkdata(a, prefix="A")
    mkdata(b, prefix="B")
    (b / "utt2avd").unlink()
    r = tool("combine_data.sh", tmp_path / "all", a, b)
    assert r.returncode == 1
    assert f"utt2avd is in some sources but not in {b}" in r.stderr
    assert "--drop-partial-files true" in r.stderr
    r = tool("combine_data.sh", "--drop-partial-files", "true", tmp_path / "all", a, b)
    assert r.returncode == 0, r.stderr
    assert "utt2avd" in r.stderr and "not in the result" in r.stderr
    assert not (tmp_path / "all" / "utt2avd").exists()
    r = tool("combine_data.sh", "--extra-files", "utt2avd", tmp_path / "all2", a, b)
    assert r.returncode == 1 and f"{b}/utt2avd: no such file (named by --extra-files)" in r.stderr


def test_combine_shared_speaker_and_recording_conflicts(tmp_path, mkdata, tool, lines):
    # Two subsets of one corpus share speakers: fine; a conflicting recording entry is not.
    a, b = tmp_path / "a", tmp_path / "b"
    src = tmp_path / "src"
    mkdata(src)
    assert tool("subset_data_dir.sh", "--first", "4", src, a).returncode == 0
    assert tool("subset_data_dir.sh", "--last", "5", src, b).returncode == 0
    r = tool("combine_data.sh", tmp_path / "all", a, b)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "all" / "utt2spk").read_text() == (src / "utt2spk").read_text()
    lines(b / "spk2gender", ["spk2 m", "spk3 f"])
    lines(a / "spk2gender", ["spk1 f", "spk2 f"])
    r = tool("combine_data.sh", tmp_path / "all", a, b)
    assert r.returncode == 1
    assert "speaker 'spk2' has different spk2gender entries" in r.stderr


def test_combine_usage(tool, tmp_path):
    assert tool("combine_data.sh", tmp_path / "x").returncode == 2
