"""utils/split_data.sh and the split functions: deterministic, speaker-aware, never stale."""
import pytest

from emotion2vec import datadir as dd
from emotion2vec.errors import DataDirError


def _kv(path):
    return dict(ln.split(None, 1) for ln in path.read_text().splitlines())


def test_split_by_speaker(tmp_path, mkdata, tool):
    d = tmp_path / "d"
    u2s = mkdata(d, spks=("a", "b", "c", "d", "e"), n=4, segments=True, cv=True)
    (d / "cv_info.txt").write_text("folds by speaker\n")
    r = tool("split_data.sh", d, 3)
    assert r.returncode == 0, r.stderr
    parts = [d / "split3" / str(k) for k in (1, 2, 3)]
    seen = {}
    for p in parts:
        assert tool("validate_data_dir.sh", p).returncode == 0
        pu2s = _kv(p / "utt2spk")
        for u, s in pu2s.items():
            assert u not in seen
            seen[u] = s
        # every file carried, restricted to the part
        for f in ("utt2emo", "utt2dur", "utt2gender", "utt2session", "utt2avd", "text",
                  "segments", "emotions.txt", "spk2utt", "wav.scp"):
            assert (p / f).is_file(), f
        assert set(_kv(p / "utt2emo")) == set(pu2s)
        recs = {v.split()[0] for v in _kv(p / "segments").values()}
        assert set(_kv(p / "wav.scp")) == recs
        assert not (p / "cv").exists() and not (p / "cv_info.txt").exists()
    assert seen == u2s
    # each speaker in exactly one part
    owner = {}
    for k, p in enumerate(parts):
        for s in _kv(p / "spk2utt"):
            assert s not in owner
            owner[s] = k
    assert sorted(len(_kv(p / "utt2spk")) for p in parts) == [4, 8, 8]


def test_split_is_deterministic_and_reused_only_when_fresh(data, tool):
    assert tool("split_data.sh", data, 2).returncode == 0
    first = (data / "split2" / "1" / "utt2emo").read_text()
    r = tool("split_data.sh", data, 2)
    assert r.returncode == 0 and "up to date" in r.stderr
    assert (data / "split2" / "1" / "utt2emo").read_text() == first
    # Change a label: the split must be rebuilt, not reused.
    p = data / "utt2emo"
    p.write_text(p.read_text().replace("spk1-u1 neu", "spk1-u1 sad"))
    r = tool("split_data.sh", data, 2)
    assert r.returncode == 0 and "up to date" not in r.stderr
    assert (data / "split2" / "1" / "utt2emo").read_text().startswith("spk1-u1 sad\n")
    # Drop a file: the stale copy must disappear from the parts.
    (data / "utt2avd").unlink()
    assert tool("split_data.sh", data, 2).returncode == 0
    assert not (data / "split2" / "1" / "utt2avd").exists()


def test_split_rebuilds_a_damaged_split(data, tool):
    assert tool("split_data.sh", data, 3).returncode == 0
    import shutil
    shutil.rmtree(data / "split3" / "2")
    r = tool("split_data.sh", data, 3)
    assert r.returncode == 0 and (data / "split3" / "2" / "utt2spk").is_file()


def test_split_more_parts_than_speakers(data, tool):
    r = tool("split_data.sh", data, 4)
    assert r.returncode == 1
    assert "cannot split by speaker into 4 parts: only 3 speaker(s)" in r.stderr
    assert "--per-utt" in r.stderr
    assert not (data / "split4").exists()


def test_split_per_utt(data, tool):
    r = tool("split_data.sh", "--per-utt", data, 4)
    assert r.returncode == 0, r.stderr
    sizes = [len(_kv(data / "split4utt" / str(k) / "utt2spk")) for k in (1, 2, 3, 4)]
    assert sizes == [3, 2, 2, 2]
    assert _kv(data / "split4utt" / "1" / "utt2spk") == {
        "spk1-u1": "spk1", "spk1-u2": "spk1", "spk1-u3": "spk1"}
    r = tool("split_data.sh", "--per-utt", data, 10)
    assert r.returncode == 1 and "more parts than lines" in r.stderr


def test_split_invalid_input_fails(data, tool):
    p = data / "utt2emo"
    p.write_text(p.read_text().replace("spk2-u2 neu\n", ""))
    r = tool("split_data.sh", data, 2)
    assert r.returncode == 1 and "utt2emo: 1 utterance(s) of utt2spk missing" in r.stderr


def test_split_usage(data, tool):
    assert tool("split_data.sh", data).returncode == 2
    r = tool("split_data.sh", data, "zero")
    assert r.returncode == 2 and "positive integer" in r.stderr


def test_split_by_speaker_balance_and_errors():
    u2s = {}
    for s, n in (("a", 10), ("b", 1), ("c", 1), ("d", 1), ("e", 10)):
        for i in range(n):
            u2s[f"{s}-{i:02d}"] = s
    parts = dd.split_by_speaker(u2s, 3)
    assert [sorted({u2s[u] for u in p}) for p in parts] == [["a"], ["b", "c", "d"], ["e"]]
    assert dd.split_by_speaker(u2s, 5) == [[u for u in u2s if u2s[u] == s] for s in "abcde"]
    with pytest.raises(DataDirError, match="only 5 speaker"):
        dd.split_by_speaker(u2s, 6)


def test_split_contiguous():
    assert dd.split_contiguous(7, 3) == [(0, 3), (3, 5), (5, 7)]
    with pytest.raises(DataDirError, match="more parts than lines"):
        dd.split_contiguous(2, 3)
