"""emotion2vec.corpora.thai_ser on a look-alike THAI SER tree."""

import pytest

from helpers.lookalike import REPO, read_dir, run_prep

CONF = REPO / "egs" / "thai_ser" / "conf"


def sox(path):
    return f"sox {path} -t wav -r 16000 -c 1 -b 16 - |"


def test_five_classes_condenser(thai_tree, tmp_path):
    out = tmp_path / "data" / "thai"
    r = run_prep("thai_ser", "--classes", CONF / "emotions.txt", thai_tree, out)
    assert r.returncode == 0, r.stderr
    t = thai_tree
    u1 = "actor001-s001_con_actor001_impro1_1"
    u2 = "actor001-s076_con_actor001_impro3_9"
    u3 = "actor002-s071_con_actor002_script1_1"
    u4 = "actor002-s076_con_actor002_impro3_7"
    files = read_dir(out)
    everyone = f"{u1}\n{u2}\n{u3}\n{u4}\n"
    folds = {}
    for k in range(8):  # only studios 1, 71 and 76 exist: most folds train on everything
        folds.update({f"cv/fold{k}/train": everyone, f"cv/fold{k}/valid": "",
                      f"cv/fold{k}/test": ""})
    folds.update({"cv/fold0/train": f"{u1}\n", "cv/fold0/valid": f"{u3}\n",
                  "cv/fold0/test": f"{u2}\n{u4}\n",
                  # fold 7 tests studios 6-10 and validates on 1-5
                  "cv/fold7/train": f"{u2}\n{u3}\n{u4}\n", "cv/fold7/valid": f"{u1}\n"})
    assert files.pop("cv_info.txt").startswith("fold0: test studios 76-80, valid 71-75")
    assert files == {
        "wav.scp": (f"{u1} {sox(t / 'studio1-10/studio001/con' / (u1[9:] + '.flac'))}\n"
                    f"{u2} {sox(t / 'studio71-80/studio076/con' / (u2[9:] + '.flac'))}\n"
                    f"{u3} {sox(t / 'studio071/con' / (u3[9:] + '.flac'))}\n"
                    f"{u4} {sox(t / 'studio71-80/studio076/con' / (u4[9:] + '.flac'))}\n"),
        "utt2spk": f"{u1} actor001\n{u2} actor001\n{u3} actor002\n{u4} actor002\n",
        "spk2utt": f"actor001 {u1} {u2}\nactor002 {u3} {u4}\n",
        "utt2emo": f"{u1} neu\n{u2} fru\n{u3} ang\n{u4} sad\n",
        "utt2gender": f"{u1} m\n{u2} m\n{u3} f\n{u4} f\n",
        "spk2gender": "actor001 m\nactor002 f\n",
        "utt2session": f"{u1} s001\n{u2} s076\n{u3} s071\n{u4} s076\n",
        "emotions.txt": "neu\nang\nhap\nsad\nfru\n",
        **folds,
    }
    zoom = read_dir(tmp_path / "data" / "thai_zoom")
    uz = "actor003-z001_mic_actor003_script1_1"
    assert zoom["utt2emo"] == f"{uz} hap\n"
    assert zoom["utt2session"] == f"{uz} z001\n"
    assert zoom["spk2gender"] == "actor003 f\n"
    zt = read_dir(tmp_path / "data" / "thai_zoomtest")
    assert zt["utt2emo"] == files["utt2emo"].replace(f"{u4} sad\n", f"{u4} sad\n{uz} hap\n")
    assert zt["cv/fold0/train"] == f"{u1}\n" and zt["cv/fold0/valid"] == f"{u3}\n"
    assert all(zt[f"cv/fold{k}/test"] == f"{uz}\n" for k in range(8))
    # the tie, the low agreement and the Other majority are counted, not silently lost
    assert "class oth 1, kept 5, low agreement 1, tie 1" in r.stdout
    assert "WARNING: THAI SER: actors: found 3, published 200" in r.stderr


def test_four_classes_clip_mic(thai_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("thai_ser", "--classes", CONF / "emotions_4class.txt", "--mic",
                 "clip", "--resample", "none", "--zoom-data-dir", "", "--zoom-test-dir", "",
                 thai_tree, out)
    assert r.returncode == 0, r.stderr
    assert (out / "wav.scp").read_text() == (
        f"actor001-s001_clip_actor001_impro1_1 "
        f"{thai_tree}/studio1-10/studio001/clip/s001_clip_actor001_impro1_1.flac\n")
    assert not (tmp_path / "d_zoom").exists() and not (tmp_path / "d_zoomtest").exists()


def test_hard_label_rules():
    from emotion2vec.corpora import thai_ser as m
    assert m.hard_label(thai_vote([["Sad"], ["Happy"], ["Sad"], ["Sad"]]), "x", 0.71) == \
        ("sad", "ok")  # 0.75
    assert m.hard_label(thai_vote([["Sad", "Happy"], ["Sad"], ["Sad", "Happy"]]), "x", 0.71) \
        == (None, "low agreement")  # 2/3
    assert m.hard_label(thai_vote([["Sad", "Happy"]]), "x", 0.71) == (None, "tie")
    assert m.hard_label(thai_vote([[None], []]), "x", 0.71) == (None, "no votes")
    with pytest.raises(m.E2VError, match="x: unknown vote 'Joy'"):
        m.hard_label(thai_vote([["Joy"]]), "x", 0.71)


def thai_vote(v):
    return [{"annotated": v}]


def test_errors(thai_tree, tmp_path):
    r = run_prep("thai_ser", "--classes", CONF / "emotions.txt", tmp_path,
                 tmp_path / "d")
    assert r.returncode == 1 and "it must contain emotion_label.json" in r.stderr
    missing = thai_tree / "studio071/con/s071_con_actor002_script1_1.flac"
    missing.unlink()
    r = run_prep("thai_ser", "--classes", CONF / "emotions.txt", thai_tree,
                 tmp_path / "d")
    assert r.returncode == 1
    assert "1 labelled file(s) have no audio" in r.stderr
    assert "s071_con_actor002_script1_1.flac" in r.stderr
