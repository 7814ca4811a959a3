"""emotion2vec.corpora.emodb on a look-alike EmoDB tree."""

from helpers.lookalike import REPO, read_dir, run_prep, tone

CONF = REPO / "egs" / "emodb" / "conf"
UTTS = ["03-03a01Fa", "03-03a01Wa", "08-08a05Lc", "08-08b02Nb", "10-10a04Ed", "11-11b09Aa",
        "12-12b03Fd", "13-13a07Ta", "16-16b10Wb"]
EMO = ["hap", "ang", "bor", "neu", "dis", "fea", "hap", "sad", "ang"]


def test_seven_classes_speaker_pairs(emodb_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emodb", "--classes", CONF / "emotions.txt",
                 "--folds", "speaker-pairs", emodb_tree, out)
    assert r.returncode == 0, r.stderr
    spk = [u[:2] for u in UTTS]
    gender = {"03": "m", "08": "f", "10": "m", "11": "m", "12": "m", "13": "f", "16": "f"}
    fold = {"03": 1, "08": 1, "10": 2, "11": 3, "13": 3, "12": 4, "16": 5}
    assert read_dir(out) == {
        "wav.scp": "".join(f"{u} {emodb_tree}/wav/{u[3:]}.wav\n" for u in UTTS),
        "utt2spk": "".join(f"{u} {s}\n" for u, s in zip(UTTS, spk)),
        "spk2utt": ("03 03-03a01Fa 03-03a01Wa\n08 08-08a05Lc 08-08b02Nb\n10 10-10a04Ed\n"
                    "11 11-11b09Aa\n12 12-12b03Fd\n13 13-13a07Ta\n16 16-16b10Wb\n"),
        "utt2emo": "".join(f"{u} {e}\n" for u, e in zip(UTTS, EMO)),
        "utt2gender": "".join(f"{u} {gender[s]}\n" for u, s in zip(UTTS, spk)),
        "spk2gender": "".join(f"{s} {gender[s]}\n" for s in sorted(gender)),
        "utt2fold": "".join(f"{u} {fold[s]}\n" for u, s in zip(UTTS, spk)),
        "emotions.txt": "ang\nbor\ndis\nfea\nhap\nneu\nsad\n",
    }
    assert "WARNING: EmoDB: files: found 9, published 535" in r.stderr
    assert "WARNING: EmoDB: utterances per class 'ang': found 2, published 127 (and 6 more in this table)" in r.stderr
    assert "WARNING: EmoDB: utterances per speaker '03': found 2, published 49 (and 9 more in this table)" in r.stderr


def test_four_classes_and_recognition_filter(emodb_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emodb", "--classes", CONF / "emotions_4class.txt",
                 "--min-recognition", "80", emodb_tree, out)
    assert r.returncode == 0, r.stderr
    # 4 classes keep Fa Wa Nb Ta Wb Fd; >= 80 % drops 08b02Nb (55,5) and 16b10Wb (60)
    assert (out / "utt2emo").read_text() == \
        "03-03a01Fa hap\n03-03a01Wa ang\n12-12b03Fd hap\n13-13a07Ta sad\n"
    assert not (out / "utt2fold").exists()
    assert "outside the classes (bor 1 dis 1 fea 1); below 80% recognition: 2; kept 4" in r.stdout


def test_errors(emodb_tree, tmp_path):
    r = run_prep("emodb", "--classes", CONF / "emotions.txt", tmp_path, tmp_path / "d")
    assert r.returncode == 1 and "it must contain wav/" in r.stderr
    tone(emodb_tree / "wav" / "03x01Fa.wav")
    r = run_prep("emodb", "--classes", CONF / "emotions.txt", emodb_tree,
                 tmp_path / "d")
    assert r.returncode == 1
    assert "03x01Fa.wav: name does not follow SSTTTEV.wav" in r.stderr
    (emodb_tree / "wav" / "03x01Fa.wav").unlink()
    tone(emodb_tree / "wav" / "14a01Ab.wav")  # not in erkennung.txt
    r = run_prep("emodb", "--classes", CONF / "emotions.txt", "--min-recognition",
                 "50", emodb_tree, tmp_path / "d")
    assert r.returncode == 1
    assert "erkennung.txt: no recognition rate for 14a01Ab.wav" in r.stderr
    r = run_prep("emodb", "--strict", "--classes", CONF / "emotions.txt",
                 emodb_tree, tmp_path / "d")
    assert r.returncode == 1 and "found 10, published 535 (--strict)" in r.stderr
    assert not (tmp_path / "d").exists()
