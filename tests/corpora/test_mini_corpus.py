"""emotion2vec.corpora.mini (espeak-ng + sox) and emotion2vec.corpora.mini_mixed."""

import filecmp
from collections import Counter

import numpy as np
import pytest

from helpers.lookalike import read_dir, run_prep

IEMOCAP_CONF = ["--classes", "egs/iemocap/conf/emotions.txt",
                "--label-map", "egs/iemocap/conf/label_map"]


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """One generated corpus (1 sentence per speaker and emotion) and its two preparations."""
    from helpers.lookalike import REPO
    t = tmp_path_factory.mktemp("mini")
    r = run_prep("mini", "--sentences-per-emotion", "1", t / "c")
    assert r.returncode == 0, r.stderr
    top = t / "c" / "IEMOCAP_full_release"
    for audio, out in (("sentences", "sent"), ("dialog", "dial")):
        r = run_prep("iemocap", *IEMOCAP_CONF, "--audio", audio, top, t / out,
                     cwd=REPO)
        assert r.returncode == 0, r.stderr
    return t


def test_generated_corpus_in_iemocap_layout(mini):
    top = mini / "c" / "IEMOCAP_full_release"
    assert sorted(p.name for p in top.iterdir()) == [".done"] + [f"Session{n}" for n in range(1, 6)]
    ev = top / "Session1" / "dialog" / "EmoEvaluation"
    assert sorted(p.name for p in ev.iterdir()) == [
        "Categorical", "Ses01F_impro05a.txt", "Ses01M_script01_1b.txt"]
    files = read_dir(mini / "sent")
    emo = Counter(ln.split()[1] for ln in files["utt2emo"].splitlines())
    assert emo == {"neu": 10, "hap": 10, "ang": 10, "sad": 10}
    spk = Counter(ln.split()[1] for ln in files["utt2spk"].splitlines())
    assert spk == {f"Ses0{n}{g}": 4 for n in range(1, 6) for g in "FM"}
    labels = "".join(p.read_text() for p in top.glob("Session*/dialog/EmoEvaluation/*.txt"))
    assert "\texc\t" in labels and "\txxx\t" in labels and "\tfru\t" in labels


def test_generation_is_deterministic_and_resumable(mini, tmp_path):
    r = run_prep("mini", "--sentences-per-emotion", "1", tmp_path)
    assert r.returncode == 0, r.stderr
    cmp = filecmp.dircmp(mini / "c" / "IEMOCAP_full_release", tmp_path / "IEMOCAP_full_release")

    def same(c):
        return not (c.left_only or c.right_only or c.diff_files or c.funny_files) and \
            all(same(s) for s in c.subdirs.values())
    assert same(cmp)
    # shallow=False: compare bytes, not stat signatures
    a = sorted((mini / "c").rglob("*.wav"))
    assert all(filecmp.cmp(p, tmp_path / p.relative_to(mini / "c"), shallow=False) for p in a)
    r = run_prep("mini", "--sentences-per-emotion", "1", tmp_path)
    assert r.returncode == 0 and "is complete with these settings; kept" in r.stdout


def test_mixed_wav_scp_reads_the_same_audio(mini, tmp_path):
    from emotion2vec.audio import AudioReader
    out = tmp_path / "mixed"
    r = run_prep("mini_mixed", mini / "sent", mini / "dial", tmp_path / "ark", out)
    assert r.returncode == 0, r.stderr
    assert "dialog segments 16, files 8, pipes 8, ark 8" in r.stdout
    wav = (out / "wav.scp").read_text().splitlines()
    assert sum(ln.endswith("|") for ln in wav) == 8
    assert sum(".ark:" in ln for ln in wav) == 8
    assert sum("/dialog/wav/" in ln for ln in wav) == 4  # 2 dialogs x sessions 1-2
    assert len((out / "segments").read_text().splitlines()) == 40
    for f in ("utt2spk", "utt2emo", "utt2session", "utt2avd", "spk2gender", "emotions.txt"):
        assert (out / f).read_text() == (mini / "sent" / f).read_text()
    mixed, plain = AudioReader(out), AudioReader(mini / "sent")
    assert mixed.keys == plain.keys
    for utt in plain.keys:  # every form gives the sentence wav's samples exactly
        np.testing.assert_array_equal(mixed.read(utt), plain.read(utt), err_msg=utt)
