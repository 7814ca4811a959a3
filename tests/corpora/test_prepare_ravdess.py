"""emotion2vec.corpora.ravdess on a look-alike RAVDESS tree."""

from helpers.lookalike import REPO, make_ravdess, read_dir, run_prep

CONF = REPO / "egs" / "ravdess" / "conf"


def test_ravdess_data_dir_folds_and_duplicates(tmp_path):
    top = make_ravdess(tmp_path / "c")
    out = tmp_path / "d"
    r = run_prep("ravdess", "--classes", CONF / "emotions.txt", "--folds", "6", top, out)
    assert r.returncode == 0, r.stderr
    d = read_dir(out)
    utts = d["utt2spk"].splitlines()
    # 8 actors x (neutral 2 + 7 emotions x 4) = 240 speech files, plus a byte-identical copy
    # (dropped) and a song file (not speech)
    assert len(utts) == 240 and "/03-02-" not in d["wav.scp"]
    assert "is byte-identical to" in r.stderr and "03-01-03-01-02-02-07.flac" in r.stderr
    assert "actor07-03-01-03-01-02-02-07" not in d["utt2spk"]
    assert d["utt2emo"].splitlines()[0] == "actor01-03-01-01-01-01-01-01 neu"
    folds = dict(ln.split() for ln in d["utt2fold"].splitlines())
    assert folds["actor04-03-01-05-02-01-01-04"] == "1" and folds["actor05-03-01-05-02-01-01-05"] == "2"
    assert d["spk2gender"].splitlines()[:2] == ["actor01 m", "actor02 f"]
    assert d["emotions.txt"] == (CONF / "emotions.txt").read_text()


def test_ravdess_classes_intensity_and_errors(tmp_path):
    top = make_ravdess(tmp_path / "c", actors=(1, 2))
    out = tmp_path / "d"
    r = run_prep("ravdess", "--classes", CONF / "emotions_4class.txt", "--intensity", "strong",
                 top, out)
    assert r.returncode == 0, r.stderr
    labels = {ln.split()[1] for ln in read_dir(out)["utt2emo"].splitlines()}
    assert labels == {"ang", "hap", "sad"}  # neutral has no strong intensity
    assert "utt2fold" not in read_dir(out)
    bad = tmp_path / "bad.txt"
    bad.write_text("angry\n")
    r = run_prep("ravdess", "--classes", bad, top, tmp_path / "x")
    assert r.returncode == 1 and "class 'angry' is not a RAVDESS label" in r.stderr
    r = run_prep("ravdess", "--classes", CONF / "emotions.txt", tmp_path, tmp_path / "x")
    assert r.returncode == 1 and "must contain Actor_01 .. Actor_24/" in r.stderr
    (top / "Actor_01" / "03-01-09-01-01-01-01.flac").write_bytes(b"")
    r = run_prep("ravdess", "--classes", CONF / "emotions.txt", top, tmp_path / "x")
    assert r.returncode == 1 and "name does not follow MM-VV-EE-II-SS-RR-AA" in r.stderr
