"""utils/fix_data_dir.sh: sort, keep the intersection, report removals, back up; duplicates fail."""


def test_fix_sorts_intersects_and_reports(data, tool):
    # utt2emo unsorted; utt2session lacks spk3-u1; wav.scp has an extra recording; a stale
    # spk2utt.  Expected: spk3-u1 removed everywhere, everything sorted, spk2utt regenerated.
    emo = (data / "utt2emo").read_text().splitlines()
    orig_emo = "\n".join(emo) + "\n"
    (data / "utt2emo").write_text("\n".join(reversed(emo)) + "\n")
    ses = data / "utt2session"
    ses.write_text(ses.read_text().replace("spk3-u1 ses1\n", ""))
    wav = data / "wav.scp"
    wav.write_text(wav.read_text() + "spk9-u9 /nonexistent.wav\n")
    (data / "spk2utt").write_text("spk1 spk1-u1\n")
    before = {f: (data / f).read_text() for f in ("utt2emo", "utt2session", "wav.scp", "spk2utt")}

    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 0, r.stderr
    assert "utt2emo: removed 1 of 9 utterance(s)" in r.stderr
    assert "utt2spk: removed 1 of 9 utterance(s)" in r.stderr
    assert "wav.scp: removed 2 of 10 recording(s)" in r.stderr
    assert "utt2session" not in r.stderr   # nothing removed there: it defined the intersection
    assert "kept 8 of 9 utterances" in r.stderr
    assert "spk2utt: regenerated" in r.stderr

    utts = (data / "utt2spk").read_text().split()[::2]
    assert "spk3-u1" not in utts and len(utts) == 8
    assert (data / "utt2emo").read_text() == orig_emo.replace("spk3-u1 ang\n", "")
    assert "spk9-u9" not in (data / "wav.scp").read_text()
    assert (data / "spk2utt").read_text().splitlines()[2] == "spk3 spk3-u2 spk3-u3"
    for f, text in before.items():
        if f == "utt2session":   # unchanged by the fix: no backup
            assert not (data / ".backup" / f).exists()
        else:
            assert (data / ".backup" / f).read_text() == text
    r = tool("validate_data_dir.sh", data)
    assert r.returncode == 0, r.stderr


def test_fix_on_a_clean_dir_changes_nothing(data, tool):
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 0 and "nothing changed" in r.stderr
    assert not (data / ".backup").exists()


def test_fix_duplicates_still_fail_and_nothing_is_written(data, tool):
    p = data / "utt2emo"
    p.write_text(p.read_text() + "spk1-u1 sad\n")
    spk = (data / "utt2spk").read_text()
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2emo:10: duplicate key 'spk1-u1' (first on line 1)" in r.stderr
    assert (data / "utt2spk").read_text() == spk and not (data / ".backup").exists()


def test_fix_malformed_line_fails(data, tool):
    p = data / "utt2dur"
    p.write_text(p.read_text().replace("spk2-u2 1.50", "spk2-u2 abc"))
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 1
    assert f"{data}/utt2dur:5: 'spk2-u2': want one positive duration" in r.stderr


def test_fix_segments_drops_unused_recordings_and_filters_cv(segdata, tool):
    # Remove both utterances of recording spk2-rec1 from utt2emo: the recording goes unused.
    p = segdata / "utt2emo"
    p.write_text("".join(ln + "\n" for ln in p.read_text().splitlines()
                         if not ln.startswith(("spk2-u1 ", "spk2-u2 "))))
    r = tool("fix_data_dir.sh", segdata)
    assert r.returncode == 0, r.stderr
    assert "wav.scp: removed 1 of 6 recording(s)" in r.stderr
    assert "segments: removed 2 of 9 utterance(s)" in r.stderr
    assert "cv/fold2/test: removed 2 of 3 utterance(s)" in r.stderr
    assert "spk2-rec1 " not in (segdata / "wav.scp").read_text()
    assert (segdata / "cv" / "fold2" / "test").read_text() == "spk2-u3\n"
    assert (segdata / ".backup" / "cv" / "fold2" / "test").read_text().count("\n") == 3
    assert tool("validate_data_dir.sh", segdata).returncode == 0


def test_fix_drops_segments_of_unknown_recordings(segdata, tool):
    p = segdata / "wav.scp"
    p.write_text("".join(ln + "\n" for ln in p.read_text().splitlines()
                         if not ln.startswith("spk3-rec2 ")))
    r = tool("fix_data_dir.sh", segdata)
    assert r.returncode == 0, r.stderr
    assert "kept 8 of 9 utterances" in r.stderr
    assert "spk3-u3" not in (segdata / "utt2spk").read_text()


def test_fix_nothing_left_is_an_error(data, tool):
    (data / "utt2emo").write_text("other-u1 neu\n")
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 1 and "no utterance is in every file" in r.stderr
    assert (data / "utt2spk").read_text().count("\n") == 9


def test_fix_needs_utt2spk(data, tool):
    (data / "utt2spk").unlink()
    r = tool("fix_data_dir.sh", data)
    assert r.returncode == 1 and f"{data}/utt2spk: no such file" in r.stderr
