"""steps/extract_feats.sh on truncated audio: the job stops naming the utterance, and with
--skip-bad true the utterance is listed in bad_utts (a cut file, a pipe whose stages all exit
0, a streamed pipe shorter than utt2dur)."""

import soundfile as sf

from helpers.featsteps import read_feats, run_step


def test_truncated_audio_stops_the_step_or_is_listed_as_bad(data_copy, tmp_path):
    data = data_copy("file")
    wav = dict(line.split(maxsplit=1) for line in (data / "wav.scp").read_text().splitlines())
    durs = {u: sf.info(path).duration for u, path in wav.items()}
    riff = open(wav["spk1-u01"], "rb").read()
    start = riff.index(b"data") + 8
    cut = tmp_path / "cut.wav"
    cut.write_bytes(riff[:start + (len(riff) - start) // 3])  # the header's sizes unchanged
    wav["spk1-u01"] = str(cut)
    wav["spk2-u02"] = f"head -c 5000 {wav['spk2-u02']} |"
    # sox to a pipe writes an unknown-size header: only utt2dur can tell
    wav["spk3-u03"] = f"sox {wav['spk3-u03']} -t wav - trim 0 0.5 |"
    (data / "wav.scp").write_text("".join(f"{u} {wav[u]}\n" for u in sorted(wav)))
    (data / "utt2dur").write_text("".join(f"{u} {durs[u]:.4f}\n" for u in sorted(durs)))

    p = run_step("--nj", 3, "--feat-type", "fbank", data, tmp_path / "feats", check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "utterance spk1-u01: truncated audio: header declares" in p.stderr
    assert f"file {cut} holds" in p.stderr
    assert "utterance spk2-u02: truncated audio: header declares" in p.stderr
    assert "the output of 'head -c 5000" in p.stderr
    assert "utterance spk3-u03: decoded audio is 0.500 s" in p.stderr
    assert not (tmp_path / "feats" / "feats.scp").exists()

    p = run_step("--nj", 3, "--skip-bad", "true", "--feat-type", "fbank", data, tmp_path / "feats")
    bad = dict(line.split(maxsplit=1)
               for line in (tmp_path / "feats" / "bad_utts").read_text().splitlines())
    assert sorted(bad) == ["spk1-u01", "spk2-u02", "spk3-u03"]
    assert "truncated audio" in bad["spk1-u01"] and "truncated audio" in bad["spk2-u02"]
    assert f"utt2dur says {durs['spk3-u03']:.3f} s" in bad["spk3-u03"]
    assert "9 utterances with features, 3 bad" in p.stderr
    assert sorted(read_feats(tmp_path / "feats")) == sorted(set(wav) - set(bad))
