"""emotion2vec.corpora.iemocap on a look-alike IEMOCAP_full_release tree."""

from pathlib import Path

import pytest

from helpers.lookalike import REPO, read_dir, run_prep

CONF = REPO / "egs" / "iemocap" / "conf"
STD = ["--classes", CONF / "emotions.txt", "--label-map", CONF / "label_map"]

UTT2SPK = """\
Ses01F-Ses01F_impro01_F000 Ses01F
Ses01F-Ses01M_impro05a_F010 Ses01F
Ses01M-Ses01F_impro01_M013 Ses01M
Ses01M-Ses01F_script01_1b_M000 Ses01M
Ses01M-Ses01M_impro05a_M003 Ses01M
Ses02F-Ses02M_impro08b_F000 Ses02F
Ses02M-Ses02M_impro08b_M001 Ses02M
Ses03F-Ses03F_script02_2_F000 Ses03F
Ses04M-Ses04M_impro03_M000 Ses04M
Ses05F-Ses05F_impro05b_F000 Ses05F
"""
UTT2EMO = """\
Ses01F-Ses01F_impro01_F000 neu
Ses01F-Ses01M_impro05a_F010 sad
Ses01M-Ses01F_impro01_M013 hap
Ses01M-Ses01F_script01_1b_M000 ang
Ses01M-Ses01M_impro05a_M003 hap
Ses02F-Ses02M_impro08b_F000 hap
Ses02M-Ses02M_impro08b_M001 neu
Ses03F-Ses03F_script02_2_F000 sad
Ses04M-Ses04M_impro03_M000 ang
Ses05F-Ses05F_impro05b_F000 neu
"""


def wav_of(top, utt):
    orig = utt.split("-", 1)[1]
    return f"{top}/Session{orig[4]}/sentences/wav/{orig.rsplit('_', 1)[0]}/{orig}.wav"


def test_standard_four_class_set(iemocap_tree, tmp_path):
    out = tmp_path / "data" / "iemocap"
    r = run_prep("iemocap", *STD, iemocap_tree, out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    utts = [ln.split()[0] for ln in UTT2SPK.splitlines()]
    assert files == {
        "wav.scp": "".join(f"{u} {wav_of(iemocap_tree, u)}\n" for u in utts),
        "utt2spk": UTT2SPK,
        "spk2utt": ("Ses01F Ses01F-Ses01F_impro01_F000 Ses01F-Ses01M_impro05a_F010\n"
                    "Ses01M Ses01M-Ses01F_impro01_M013 Ses01M-Ses01F_script01_1b_M000 "
                    "Ses01M-Ses01M_impro05a_M003\n"
                    "Ses02F Ses02F-Ses02M_impro08b_F000\nSes02M Ses02M-Ses02M_impro08b_M001\n"
                    "Ses03F Ses03F-Ses03F_script02_2_F000\nSes04M Ses04M-Ses04M_impro03_M000\n"
                    "Ses05F Ses05F-Ses05F_impro05b_F000\n"),
        "utt2emo": UTT2EMO,
        "utt2gender": "".join(f"{u} {s[-1].lower()}\n" for u, s in
                              (ln.split() for ln in UTT2SPK.splitlines())),
        "spk2gender": ("Ses01F f\nSes01M m\nSes02F f\nSes02M m\nSes03F f\nSes04M m\n"
                       "Ses05F f\n"),
        "utt2session": "".join(f"{u} {u[:5]}\n" for u in utts),
        "utt2avd": "".join(f"{u} 3.0000 2.5000 3.5000\n" for u in utts),
        "emotions.txt": "neu\nhap\nang\nsad\n",
    }
    # fru, xxx and sur are outside the classes: counted, not silently lost
    assert "outside the classes (fru 1 sur 1 xxx 1); kept 10" in r.stdout
    # a look-alike tree differs from the published counts: a warning with both numbers
    assert "WARNING: IEMOCAP: utterances per class 'ang': found 2, published 1103 (and 3 more in this table)" in r.stderr
    assert "WARNING: IEMOCAP: utterances: found 10, published 5531" in r.stderr


def test_strict_makes_count_mismatch_an_error(iemocap_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("iemocap", "--strict", *STD, iemocap_tree, out)
    assert r.returncode == 1
    assert "corpora.iemocap: error: IEMOCAP: utterances per class 'ang': found 2, " \
           "published 1103 (and 3 more in this table) (--strict)" in r.stderr
    assert not out.exists()


def test_dialog_audio_gives_segments(iemocap_tree, tmp_path):
    out = tmp_path / "d"
    r = run_prep("iemocap", "--audio", "dialog", *STD, iemocap_tree, out)
    assert r.returncode == 0, r.stderr
    files = read_dir(out)
    seg = files["segments"].splitlines()
    assert seg[0] == "Ses01F-Ses01F_impro01_F000 Ses01F_impro01 0.5000 0.6000"
    assert seg[2] == "Ses01M-Ses01F_impro01_M013 Ses01F_impro01 0.7000 0.8000"
    assert len(seg) == 10
    assert files["wav.scp"].splitlines() == [
        f"{d} {iemocap_tree}/Session{d[4]}/dialog/wav/{d}.wav" for d in
        ["Ses01F_impro01", "Ses01F_script01_1b", "Ses01M_impro05a", "Ses02M_impro08b",
         "Ses03F_script02_2", "Ses04M_impro03", "Ses05F_impro05b"]]


@pytest.mark.parametrize("label_map,expect", [
    (True, ["Ses01F-Ses01F_impro01_F000", "Ses01F-Ses01M_impro05a_F010",
            "Ses01M-Ses01F_impro01_M013", "Ses01M-Ses01M_impro05a_M003",
            "Ses02F-Ses02M_impro08b_F000", "Ses02M-Ses02M_impro08b_M001",
            "Ses04M-Ses04M_impro03_M000", "Ses05F-Ses05F_impro05b_F000"]),
    # without the exc->hap merge (the 2280 variant) excited utterances are outside the classes
    (False, ["Ses01F-Ses01F_impro01_F000", "Ses01F-Ses01M_impro05a_F010",
             "Ses01M-Ses01M_impro05a_M003", "Ses02M-Ses02M_impro08b_M001",
             "Ses04M-Ses04M_impro03_M000", "Ses05F-Ses05F_impro05b_F000"]),
])
def test_improvised_subset(iemocap_tree, tmp_path, label_map, expect):
    out = tmp_path / "d"
    args = STD if label_map else STD[:2]
    r = run_prep("iemocap", "--subset", "improvised", *args, iemocap_tree, out)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[0] for ln in (out / "utt2emo").read_text().splitlines()] == expect
    total = 2943 if label_map else 2280
    assert f"WARNING: IEMOCAP: utterances: found {len(expect)}, published {total}" in r.stderr


def test_speaker_from_last_field():
    from emotion2vec.corpora import iemocap as m
    assert m.speaker_of("Ses01F_impro01_M013") == "Ses01M"
    assert m.speaker_of("Ses03M_script01_1b_F002") == "Ses03F"
    assert m.speaker_of("Ses05F_impro08a_F000") == "Ses05F"


def test_missing_wav_is_an_error(iemocap_tree, tmp_path):
    wav = iemocap_tree / "Session3/sentences/wav/Ses03F_script02_2/Ses03F_script02_2_F000.wav"
    wav.unlink()
    r = run_prep("iemocap", *STD, iemocap_tree, tmp_path / "d")
    assert r.returncode == 1
    assert "Ses03F_script02_2.txt:3: no audio for 'Ses03F_script02_2_F000'" in r.stderr
    assert str(wav) in r.stderr


def test_unknown_label_and_malformed_line(iemocap_tree, tmp_path):
    f = iemocap_tree / "Session4/dialog/EmoEvaluation/Ses04M_impro03.txt"
    f.write_text(f.read_text().replace("\tang\t", "\tangry\t"))
    r = run_prep("iemocap", *STD, iemocap_tree, tmp_path / "d")
    assert r.returncode == 1
    assert f"{f}:3: unknown label 'angry' for 'Ses04M_impro03_M000'" in r.stderr
    f.write_text(f.read_text().replace("\tangry\t", " angry "))
    r = run_prep("iemocap", *STD, iemocap_tree, tmp_path / "d")
    assert r.returncode == 1
    assert f"{f}:3: want 4 TAB-separated fields, got 2" in r.stderr


def test_duplicate_utterance_is_an_error(iemocap_tree, tmp_path):
    ev = iemocap_tree / "Session1/dialog/EmoEvaluation"
    (ev / "Ses01F_impro01_copy.txt").write_text((ev / "Ses01F_impro01.txt").read_text())
    r = run_prep("iemocap", *STD, iemocap_tree, tmp_path / "d")
    assert r.returncode == 1
    assert "utterance 'Ses01F_impro01_F000' also in" in r.stderr


def test_not_an_iemocap_folder(tmp_path):
    (tmp_path / "x" / "Session1").mkdir(parents=True)
    r = run_prep("iemocap", *STD, tmp_path / "x", tmp_path / "d")
    assert r.returncode == 1
    assert "it must contain Session1 .. Session5/" in r.stderr
