"""filter_scp, split_scp, utt2spk_to_spk2utt, spk2utt_to_utt2spk, data_dir_stats."""
import json

import numpy as np
import soundfile as sf


# ---------------------------------------------------------------- filter_scp

def test_filter_scp(tmp_path, tool):
    ids = tmp_path / "ids"
    ids.write_text("b\nd extra fields ignored\n")
    scp = tmp_path / "in.scp"
    scp.write_text("a 1\nb 2\nc 3\nd 4\n")
    r = tool("filter_scp", ids, scp)
    assert r.returncode == 0 and r.stdout == "b 2\nd 4\n"
    r = tool("filter_scp", "--exclude", ids, scp)
    assert r.returncode == 0 and r.stdout == "a 1\nc 3\n"
    r = tool("filter_scp.pl", "-f", "2", ids, stdin="x b\ny a\nz d\n")   # Kaldi name, stdin
    assert r.returncode == 0 and r.stdout == "x b\nz d\n"


def test_filter_scp_errors(tmp_path, tool):
    ids = tmp_path / "ids"
    ids.write_text("a\n")
    r = tool("filter_scp", "-f", "3", ids, stdin="a 1\n")
    assert r.returncode == 1 and "-:1: no field 3" in r.stderr
    r = tool("filter_scp", tmp_path / "nope", stdin="a 1\n")
    assert r.returncode == 1 and "nope: no such id list" in r.stderr
    r = tool("filter_scp", ids, tmp_path / "missing.scp")
    assert r.returncode == 1 and "missing.scp: cannot open" in r.stderr


# ---------------------------------------------------------------- split_scp

def test_split_scp(tmp_path, tool):
    scp = tmp_path / "in.scp"
    scp.write_text("".join(f"u{i} {i}\n" for i in range(7)))
    outs = [tmp_path / f"o{k}" for k in (1, 2, 3)]
    r = tool("split_scp", scp, *outs)
    assert r.returncode == 0, r.stderr
    assert [o.read_text().count("\n") for o in outs] == [3, 2, 2]
    assert "".join(o.read_text() for o in outs) == scp.read_text()
    r = tool("split_scp", scp, *[tmp_path / f"p{k}" for k in range(8)])
    assert r.returncode == 1 and "cannot split 7 lines into 8 parts" in r.stderr


def test_split_scp_utt2spk(tmp_path, tool):
    scp = tmp_path / "in.scp"
    u2s = tmp_path / "utt2spk"
    utts = [f"{s}-{i}" for s, n in (("a", 3), ("b", 1), ("c", 2)) for i in range(n)]
    scp.write_text("".join(f"{u} x\n" for u in utts))
    u2s.write_text("".join(f"{u} {u[0]}\n" for u in utts))
    outs = [tmp_path / "o1", tmp_path / "o2"]
    r = tool("split_scp", f"--utt2spk={u2s}", scp, *outs)
    assert r.returncode == 0, r.stderr
    assert outs[0].read_text().split()[::2] == ["a-0", "a-1", "a-2"]
    assert outs[1].read_text().split()[::2] == ["b-0", "c-0", "c-1"]
    r = tool("split_scp", "--utt2spk", u2s, scp, *[tmp_path / f"p{k}" for k in range(4)])
    assert r.returncode == 1 and "only 3 speaker(s)" in r.stderr
    scp.write_text("zz x\n")
    r = tool("split_scp", "--utt2spk", u2s, scp, tmp_path / "q")
    assert r.returncode == 1 and f"{scp}:1: 'zz' is not in {u2s}" in r.stderr


# ---------------------------------------------------------------- utt2spk <-> spk2utt

def test_utt2spk_spk2utt_round_trip(data, tool):
    r = tool("utt2spk_to_spk2utt", data / "utt2spk")
    assert r.returncode == 0 and r.stdout == (data / "spk2utt").read_text()
    r = tool("spk2utt_to_utt2spk.pl", stdin=(data / "spk2utt").read_text())
    assert r.returncode == 0 and r.stdout == (data / "utt2spk").read_text()


def test_conversion_errors(tmp_path, tool):
    r = tool("utt2spk_to_spk2utt", stdin="a-1 a\nb-1 b\na-1 a\n")
    assert r.returncode == 1 and "<stdin>:3: duplicate key 'a-1' (first on line 1)" in r.stderr
    r = tool("utt2spk_to_spk2utt", stdin="a-1 a b\n")
    assert r.returncode == 1 and "'a-1': want one speaker id" in r.stderr
    p = tmp_path / "spk2utt"
    p.write_text("a u1 u2\nb u3 u1\n")
    r = tool("spk2utt_to_utt2spk", p)
    assert r.returncode == 1
    assert f"{p}:2: utterance 'u1' of speaker 'b' is already listed under speaker 'a'" in r.stderr


# ---------------------------------------------------------------- data_dir_stats

def test_stats_table_and_json(data, tool):
    r = tool("data_dir_stats", data)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "9 utterances, 3 speakers, 9 recordings" in out
    assert "(13.5 s, from utt2dur)" in out
    lines = out.splitlines()
    i = lines.index(next(ln for ln in lines if ln.startswith("class ")))
    # inventory order (neu hap ang sad), counts of the fixture's round-robin labels
    assert [ln.split()[:2] for ln in lines[i + 2:i + 6]] == [
        ["neu", "3"], ["hap", "2"], ["ang", "2"], ["sad", "2"]]
    assert any(ln.startswith("session ") for ln in lines)
    assert any(ln.startswith("gender ") for ln in lines)
    r = tool("data_dir_stats", "--json", data)
    st = json.loads(r.stdout)
    assert st["num_utts"] == 9 and st["total_seconds"] == 13.5
    assert st["tables"]["speaker"]["spk2"] == {"utts": 3, "seconds": 4.5}
    assert st["tables"]["gender"]["f"]["utts"] == 6


def test_stats_duration_from_segments(segdata, tool):
    (segdata / "utt2dur").unlink()
    st = json.loads(tool("data_dir_stats", "--json", segdata).stdout)
    assert st["duration_source"] == "segments" and abs(st["total_seconds"] - 9 * 0.75) < 1e-9
    assert st["num_recordings"] == 6


def test_stats_duration_from_audio_headers(data, tool):
    (data / "utt2dur").unlink()
    for i, p in enumerate(sorted((data / "audio").iterdir())):
        sf.write(p, np.zeros(8000 * (i + 1), dtype=np.float32), 16000)
    st = json.loads(tool("data_dir_stats", "--json", data).stdout)
    assert st["duration_source"] == "audio headers"
    assert abs(st["total_seconds"] - sum(0.5 * (i + 1) for i in range(9))) < 1e-9


def test_stats_duration_unknown_for_pipes(data, tool):
    (data / "utt2dur").unlink()
    p = data / "wav.scp"
    p.write_text("".join(f"{ln.split()[0]} sox {ln.split()[1]} -t wav - |\n"
                         for ln in p.read_text().splitlines()))
    r = tool("data_dir_stats", data)
    assert r.returncode == 0, r.stderr
    assert "total duration: unknown (9 wav.scp entries are pipes or ark offsets" in r.stdout


def test_stats_unreadable_audio(data, tool):
    (data / "utt2dur").unlink()
    r = tool("data_dir_stats", data)   # the fixture's audio files are empty
    assert r.returncode == 1 and "'spk1-u1': cannot read audio header" in r.stderr
