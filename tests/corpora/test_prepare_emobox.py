"""emotion2vec.corpora.emobox on a look-alike EmoBox checkout (+ downloads/ audio)."""

from helpers.lookalike import read_dir, run_prep

U = {n: f"emodb-{s}-emodb-{n}" for n, s in [
    ("03a01Wa", "03"), ("03a02Nb", "03"), ("08a01Lb", "08"), ("08b01Na", "08"),
    ("10a04Wa", "10"), ("10b02Lc", "10"), ("11a01Na", "11"), ("11b09Wc", "11")]}


def test_emodb_label_map_defects_and_seeded_valid(emobox_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emobox", emobox_tree, "emodb", out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    utts = sorted(U.values())
    assert files["wav.scp"] == "".join(
        f"{u} {emobox_tree}/downloads/emodb/wav/{u.split('-emodb-')[1]}.wav\n" for u in utts)
    assert files["utt2spk"] == "".join(f"{u} {u[:8]}\n" for u in utts)
    label = {"W": "angry", "N": "neutral", "L": "boredom"}
    assert files["utt2emo"] == "".join(f"{u} {label[u[-2]]}\n" for u in utts)
    assert files["emotions.txt"] == "angry\nboredom\nneutral\n"
    assert "label key 'boredem' read as 'boredom'" in r.stdout
    assert "utt2gender" not in files and "spk2gender" not in files  # EmoBox has no gender
    # fold 1 tests speaker 11; its validation set is one whole training speaker
    assert files["cv/fold1/test"] == f"{U['11a01Na']}\n{U['11b09Wc']}\n"
    valid = files["cv/fold1/valid"].split()
    train = files["cv/fold1/train"].split()
    assert len(valid) == 2 and len({v[:8] for v in valid}) == 1
    assert sorted(valid + train) == sorted(u for u in utts if "-11-" not in u)
    assert files["cv/fold2/test"] == f"{U['03a01Wa']}\n{U['03a02Nb']}\n"
    assert "fold1: valid = speakers emodb-" in files["cv_info.txt"]
    assert "seed 42" in files["cv_info.txt"]
    assert "WARNING: EmoBox emodb: folds: found 2, published 5" in r.stderr
    # same seed, same split
    r2 = run_prep("emobox", emobox_tree, "emodb", tmp_path / "d2")
    assert r2.returncode == 0 and read_dir(tmp_path / "d2") == files


def test_segments_and_official_valid(emobox_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emobox", emobox_tree, "pavoque", out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    # no STM: each utterance is its own speaker, with a warning
    assert "every utterance is its own speaker" in r.stderr
    assert files["segments"].splitlines()[:2] == [
        "pavoque-angry-0 pavoque-downloads_pavoque_obadiah-angry 0.000 0.200",
        "pavoque-angry-1 pavoque-downloads_pavoque_obadiah-angry 0.250 0.450"]
    # 44.1 kHz audio goes through a resampling pipe
    assert files["wav.scp"] == "".join(
        f"pavoque-downloads_pavoque_obadiah-{e} sox {emobox_tree}/downloads/pavoque/"
        f"obadiah-{e}.wav -t wav -r 16000 -c 1 -b 16 - |\n" for e in ("angry", "sad"))
    assert files["cv/fold1/valid"] == "pavoque-angry-2\n"
    assert files["cv/fold1/test"] == "pavoque-sad-2\n"
    assert files["cv/fold1/train"] == "pavoque-angry-0\npavoque-angry-1\npavoque-sad-0\n" \
                                      "pavoque-sad-1\n"
    assert "fold1: official valid set" in files["cv_info.txt"]


def test_unmapped_label_is_an_error(emobox_tree, tmp_path):
    f = emobox_tree / "data/emodb/emodb.jsonl"
    f.write_text(f.read_text().replace('"emo": "anger"', '"emo": "rage"', 1))
    r = run_prep("emobox", emobox_tree, "emodb", tmp_path / "d")
    assert r.returncode == 1
    assert f"{f}:1: label 'rage' of 'emodb-03a01Wa' is not in" in r.stderr
    assert "(covers: anger boredom neutral)" in r.stderr


def test_missing_audio_and_unknown_dataset(emobox_tree, tmp_path):
    r = run_prep("emobox", emobox_tree, "nosuch", tmp_path / "d")
    assert r.returncode == 1 and "no such dataset (known: emodb pavoque track2)" in r.stderr
    (emobox_tree / "downloads/emodb/wav/08a01Lb.wav").unlink()
    r = run_prep("emobox", emobox_tree, "emodb", tmp_path / "d")
    assert r.returncode == 1
    assert "1 audio file(s) missing" in r.stderr and "08a01Lb.wav" in r.stderr
    r = run_prep("emobox", tmp_path, "emodb", tmp_path / "d")
    assert r.returncode == 1 and "it must contain data/<dataset>/" in r.stderr


def test_track2(emobox_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emobox", "--audio-root", emobox_tree.parent / "track2_audio",
                 emobox_tree, "track2:IEMOCAP", out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    # speakers are prefixed track2-<set>- so they never clash with an EmoBox dataset's own
    assert files["utt2emo"] == ("track2-iemocap-01M-Ses01M_script01_1_M002 sad\n"
                                "track2-iemocap-02F-Ses02F_impro03_F019 happy\n")
    assert files["emotions.txt"] == "angry\nhappy\nneutral\nsad\n"
    assert "WARNING: EmoBox track2 IEMOCAP: utterances per class 'angry': found 0, " \
           "published 60" in r.stderr


def test_cross_corpus_track(emobox_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("emobox", "--cross-test", "IEMOCAP", "--track2-audio-root",
                 emobox_tree.parent / "track2_audio", emobox_tree, "emodb", out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    assert files["emotions.txt"] == "angry\nhappy\nneutral\nsad\n"
    # EmoDB's boredom is outside the four cross-corpus classes
    assert "outside the classes (boredom 2)" in r.stdout
    assert files["cv/fold1/test"] == ("track2-iemocap-01M-Ses01M_script01_1_M002\n"
                                      "track2-iemocap-02F-Ses02F_impro03_F019\n")
    train = files["cv/fold1/train"].split() + files["cv/fold1/valid"].split()
    assert sorted(train) == sorted(u for n, u in U.items() if n[5] != "L")
    assert "test on track2 IEMOCAP" in files["cv_info.txt"]
