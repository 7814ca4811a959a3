"""utils/validate_data_dir.sh: exit 0 on a good dir; exit 1 naming file, line and key."""
import pytest


def _sub(path, old, new):
    path.write_text(path.read_text().replace(old, new, 1))


def test_valid_dir_passes(data, tool):
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 0, r.stderr
    assert "Successfully validated" in r.stdout
    assert r.stderr == ""


def test_valid_segments_dir_passes(segdata, tool):
    r = tool("validate_data_dir.sh", "--require", "utt2emo,segments", segdata)
    assert r.returncode == 0, r.stderr


def test_malformed_utt2spk_line(data, tool):
    _sub(data / "utt2spk", "spk2-u2 spk2\n", "spk2-u2\n")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2spk:5: malformed line" in r.stderr and "spk2-u2" in r.stderr


def test_unsorted_file(data, tool):
    p = data / "utt2emo"
    ls = p.read_text().splitlines()
    ls[3], ls[4] = ls[4], ls[3]
    p.write_text("\n".join(ls) + "\n")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2emo:5: not sorted" in r.stderr and "'spk2-u1'" in r.stderr


def test_duplicate_key(data, tool):
    p = data / "wav.scp"
    ls = p.read_text().splitlines()
    ls.insert(2, ls[1])
    p.write_text("\n".join(ls) + "\n")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/wav.scp:3: duplicate key 'spk1-u2' (first on line 2)" in r.stderr


def test_utterance_missing_from_a_file(data, tool):
    _sub(data / "utt2session", "spk3-u1 ses1\n", "")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2session: 1 utterance(s) of utt2spk missing: 'spk3-u1'" in r.stderr


def test_many_missing_are_counted(data, tool):
    (data / "utt2avd").write_text("spk1-u1 1 2 3\n")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert "8 utterance(s) of utt2spk missing: 'spk1-u2', 'spk1-u3', 'spk2-u1' (and 5 more)" \
        in r.stderr


def test_extra_utterance_in_a_file(data, tool):
    (data / "utt2emo").write_text((data / "utt2emo").read_text() + "spk9-u1 neu\n")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2emo:10: 'spk9-u1': utterance not in utt2spk" in r.stderr


def test_label_not_in_inventory(data, tool):
    _sub(data / "utt2emo", "spk2-u1 sad", "spk2-u1 xxx")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert (f"{data}/utt2emo:4: 'spk2-u1': label 'xxx' is not in the class inventory "
            "(neu hap ang sad)") in r.stderr


def test_classes_option_overrides_inventory(data, tool, tmp_path):
    inv = tmp_path / "four.txt"
    inv.write_text("neu\nhap\nang\n")
    r = tool("validate_data_dir.sh", "--classes", inv, data)
    assert r.returncode == 1
    assert "label 'sad' is not in the class inventory (neu hap ang)" in r.stderr
    r = tool("validate_data_dir.sh", "--classes", tmp_path / "nope.txt", data)
    assert r.returncode == 1 and "nope.txt: no such class inventory file" in r.stderr


def test_no_inventory_is_a_warning(data, tool):
    (data / "emotions.txt").unlink()
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 0
    assert "warning" in r.stderr and "labels not checked" in r.stderr


def test_spk2utt_inconsistent(data, tool):
    _sub(data / "spk2utt", "spk2 spk2-u1 spk2-u2 spk2-u3", "spk2 spk2-u1 spk2-u2")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/spk2utt:2: 'spk2': utterances differ from utt2spk" in r.stderr
    assert "regenerate it with utils/fix_data_dir.sh" in r.stderr


def test_spk2utt_missing(data, tool):
    (data / "spk2utt").unlink()
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1 and f"{data}/spk2utt: missing" in r.stderr


def test_utt2spk_missing(data, tool):
    (data / "utt2spk").unlink()
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1 and f"{data}/utt2spk: missing" in r.stderr


def test_segments_recording_not_in_wav_scp(segdata, tool):
    _sub(segdata / "wav.scp", "spk2-rec1 ", "spk2-rec1a ")
    r = tool("validate_data_dir.sh", segdata)
    assert r.returncode == 1
    assert f"{segdata}/segments:4: 'spk2-u1': recording 'spk2-rec1' is not in wav.scp" in r.stderr


@pytest.mark.parametrize("times", ["0.75 0.50", "-0.10 0.50", "0.5 abc"])
def test_segments_bad_times(segdata, tool, times):
    _sub(segdata / "segments", "spk1-u3 spk1-rec2 0.00 0.75", f"spk1-u3 spk1-rec2 {times}")
    r = tool("validate_data_dir.sh", segdata)
    assert r.returncode == 1
    assert f"{segdata}/segments:3: 'spk1-u3':" in r.stderr
    assert ("bad times" in r.stderr) or ("not numbers" in r.stderr)


@pytest.mark.parametrize("fname,line,bad,msg", [
    ("utt2dur", "spk1-u2 1.50", "spk1-u2 long", "positive duration"),
    ("utt2dur", "spk1-u2 1.50", "spk1-u2 0", "positive duration"),
    ("utt2avd", "spk1-u2 2.5 3.0 1.5", "spk1-u2 2.5 3.0", "3 numbers"),
    ("utt2avd", "spk1-u2 2.5 3.0 1.5", "spk1-u2 2.5 nan 1", "3 numbers"),
])
def test_numeric_files(data, tool, fname, line, bad, msg):
    _sub(data / fname, line, bad)
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/{fname}:2: 'spk1-u2': want" in r.stderr and msg in r.stderr


def test_utt2num_frames(data, tool, lines):
    utts = (data / "utt2spk").read_text().split()[::2]
    lines(data / "utt2num_frames", (f"{u} {'12.5' if u == 'spk3-u3' else 100}" for u in utts))
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2num_frames:9: 'spk3-u3': want one positive integer frame count" in r.stderr


def test_needs_wav_or_feats(data, tool):
    (data / "wav.scp").unlink()
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1 and "wav.scp: missing, and no feats.scp either" in r.stderr
    r = tool("validate_data_dir.sh", "--no-wav", data)
    assert r.returncode == 1 and "feats.scp: missing" in r.stderr
    r = tool("validate_data_dir.sh", "--no-wav", "--no-feats", data)   # Kaldi's bare flags
    assert r.returncode == 0, r.stderr
    r = tool("validate_data_dir.sh", "--no-wav", "true", "--no-feats=true", data)
    assert r.returncode == 0, r.stderr


def test_no_wav_skips_a_broken_wav_scp(data, tool):
    _sub(data / "wav.scp", "spk1-u1 ", "spk1-uX ")
    assert tool("validate_data_dir.sh", data).returncode == 1
    r = tool("validate_data_dir.sh", "--no-wav", "--no-feats", data)
    assert r.returncode == 0, r.stderr


def test_require(data, tool):
    r = tool("validate_data_dir.sh", "--require", "utt2emo", "--require", "utt2fold", data)
    assert r.returncode == 1 and f"{data}/utt2fold: missing (required by --require)" in r.stderr
    r = tool("validate_data_dir.sh", "--require=utt2emo,utt2group", data)
    assert r.returncode == 1 and f"{data}/utt2group: missing" in r.stderr
    r = tool("validate_data_dir.sh", "--require", "utt2emo,utt2gender", data)
    assert r.returncode == 0, r.stderr


def test_missing_audio_file(data, tool):
    (data / "audio" / "spk2-u2.wav").unlink()
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/wav.scp:5: 'spk2-u2': no such file {data}/audio/spk2-u2.wav" in r.stderr
    assert tool("validate_data_dir.sh", "--check-paths", "false", data).returncode == 0


def test_pipe_entries_are_not_path_checked(data, tool):
    _sub(data / "wav.scp", f"spk1-u1 {data}/audio/spk1-u1.wav", "spk1-u1 sox /x.wav -t wav - |")
    assert tool("validate_data_dir.sh", data).returncode == 0
    _sub(data / "wav.scp", "sox /x.wav -t wav - |", "sox /x.wav -t wav -")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1 and "no trailing '|'" in r.stderr


def test_cv_list_with_unknown_utterance(segdata, tool):
    p = segdata / "cv" / "fold2" / "test"
    p.write_text(p.read_text() + "spk7-u1\n")
    r = tool("validate_data_dir.sh", segdata)
    assert r.returncode == 1
    assert f"{segdata}/cv/fold2/test:4: 'spk7-u1': utterance not in utt2spk" in r.stderr


def test_speaker_prefix_is_only_a_warning(tmp_path, mkdata, tool):
    d = tmp_path / "d"
    mkdata(d)
    for f in ("utt2spk", "spk2utt"):
        p = d / f
        # speakers renamed so that utterance ids no longer start with them
        p.write_text(p.read_text().replace("spk1 ", "A ", 1) if f == "spk2utt"
                     else p.read_text().replace(" spk1\n", " A\n"))
    r = tool("validate_data_dir.sh", d)
    assert r.returncode == 0, r.stderr
    assert "3 utterance id(s) do not start with their speaker id" in r.stderr
    r = tool("validate_data_dir.sh", "--no-spk-sort", d)   # Kaldi's flag: no such warning
    assert r.returncode == 0 and r.stderr == ""


def test_several_problems_reported_together(data, tool):
    _sub(data / "utt2emo", "spk2-u1 sad", "spk2-u1 xxx")
    _sub(data / "utt2session", "spk3-u1 ses1\n", "")
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert "label 'xxx'" in r.stderr and "utt2session: 1 utterance(s)" in r.stderr


def test_usage_errors_exit_2(data, tool):
    r = tool("validate_data_dir.sh")
    assert r.returncode == 2 and "Usage" in r.stderr
    r = tool("validate_data_dir.sh", "--bogus", "1", data)
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = tool("validate_data_dir.sh", "--require")
    assert r.returncode == 2 and "needs a value" in r.stderr


def test_no_such_dir(tmp_path, tool):
    r = tool("validate_data_dir.sh", tmp_path / "nope")
    assert r.returncode == 1 and "no such data directory" in r.stderr


def test_recording_and_speaker_files(segdata, tool, lines):
    lines(segdata / "reco2file_and_channel",
          [f"spk{s}-rec{r} spk{s}-rec{r} A" for s in (1, 2, 3) for r in (1, 2)][:-1])
    lines(segdata / "spk2gender", ["spk1 f", "spk2 m", "spk3 f", "spk4 m"])
    r = tool("validate_data_dir.sh", segdata)
    assert r.returncode == 1
    assert f"{segdata}/reco2file_and_channel: 1 recording(s) missing: 'spk3-rec2'" in r.stderr
    assert f"{segdata}/spk2gender:4: 'spk4': speaker not in utt2spk" in r.stderr


def test_feats_scp_checked_when_present(data, tool, lines, tmp_path):
    ark = tmp_path / "feats.ark"
    ark.write_bytes(b"x")
    utts = (data / "utt2spk").read_text().split()[::2]
    lines(data / "feats.scp", (f"{u} {ark if u != 'spk2-u3' else tmp_path / 'gone.ark'}:{9 * i}"
                               for i, u in enumerate(utts)))
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/feats.scp:6: 'spk2-u3': no such file {tmp_path}/gone.ark" in r.stderr
    assert tool("validate_data_dir.sh", "--no-feats", data).returncode == 0


def test_unreadable_segments_gives_no_flood(segdata, tool):
    p = segdata / "segments"
    p.write_text(p.read_text().replace("spk2-u2 spk2-rec1 1.00 1.75", "spk2-u2"))
    r = tool("validate_data_dir.sh", segdata)
    assert r.returncode == 1
    assert f"{segdata}/segments:5: malformed line" in r.stderr
    assert "wav.scp" not in r.stderr   # no follow-on errors from recording ids
