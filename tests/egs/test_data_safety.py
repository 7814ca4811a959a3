"""No recipe or preparation step deletes or overwrites an input: the same path spelt otherwise
(`..`, a symlink), a directory that holds more than a data dir, the corpus itself; and errors
name the user's own files."""

import subprocess
import sys

import pytest

from helpers.recipetree import REPO, kaldi_asr_dir, run_recipe


def snapshot(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink"])
def test_custom_recipe_never_deletes_the_users_data_dir(recipe, tmp_path, spelling):
    src, labels, _ = kaldi_asr_dir(tmp_path)
    d = recipe("custom")
    # the user's data dir is (or is reached through) the recipe's own data/<name>
    (d / "data").mkdir()
    if spelling == "symlink":
        (d / "data" / "train").symlink_to(src)
        arg = src
    else:
        own = d / "data" / "train"
        src.rename(own)
        src = own
        arg = "data/train" if spelling == "same" else "data/../data/./train"
    before = snapshot(src)
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", arg, "--utt2emo", labels)
    assert r.returncode == 1, r.stdout
    assert "refusing to replace data/train: it is or holds the input" in r.stdout, r.stdout
    assert snapshot(src) == before


def test_custom_recipe_refuses_to_replace_a_dir_with_other_files(recipe, tmp_path):
    src, labels, _ = kaldi_asr_dir(tmp_path)
    d = recipe("custom")
    mine = d / "data" / "train"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes\n")
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels)
    assert r.returncode == 1
    assert "refusing to replace data/train: it holds 'notes.txt'" in r.stdout, r.stdout
    assert (mine / "notes.txt").read_text() == "my notes\n"
    # a data dir of an earlier run is replaced (what a rerun of stage 0 does)
    (mine / "notes.txt").unlink()
    assert run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels).returncode == 0
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels)
    assert r.returncode == 0, r.stdout
    assert (mine / "utt2emo").is_file() and (mine / "segments").is_file()


def test_custom_recipe_errors_name_the_users_own_files(recipe, tmp_path):
    src, labels, utts = kaldi_asr_dir(tmp_path)
    d = recipe("custom")
    lines = labels.read_text().splitlines()
    lines[2] = f"{lines[2].split()[0]}"  # a line without a label
    labels.write_text("\n".join(lines) + "\n")
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels)
    assert r.returncode == 1 and f"{labels}:3: want '<utterance> <label>'" in r.stdout, r.stdout
    labels.write_text("".join(f"{u} hap\n" for u in utts) + "nobody hap\n")
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels)
    assert r.returncode == 1
    assert f"{labels}:{len(utts) + 1}: utterance 'nobody' is not in {src}/utt2spk" in r.stdout
    (d / "classes").write_text("ang\nsad\n")
    labels.write_text("".join(f"{u} hap\n" for u in utts))
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels,
                   "--classes", "classes")
    assert r.returncode == 1 and f"{labels}:1: utterance '{utts[0]}' has label 'hap'" in r.stdout
    # the user's own data dir, malformed: the message names its file, not a copy
    (src / "utt2spk").write_text((src / "utt2spk").read_text() + "broken\n")
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", labels)
    assert r.returncode == 1 and f"{src}/utt2spk" in r.stdout, r.stdout
    assert not (d / "data" / "train").exists()


def test_corpus_preparation_never_replaces_the_corpus(tmp_path):
    from helpers.lookalike import make_emodb

    top = make_emodb(tmp_path / "c")
    before = snapshot(top)
    prep = [sys.executable, "-m", "emotion2vec.corpora.emodb", "--classes",
            str(REPO / "egs" / "emodb" / "conf" / "emotions.txt"), str(top)]
    for out in (top, tmp_path / "c"):  # the corpus itself, and a folder that holds it
        r = subprocess.run(prep + [str(out)], capture_output=True, text=True)
        assert r.returncode == 1 and "it is or holds the input" in r.stderr, r.stderr
        assert snapshot(top) == before


def test_mini_corpus_generator_never_replaces_a_real_corpus(tmp_path):
    from helpers.lookalike import make_iemocap

    top = make_iemocap(tmp_path / "c")  # e.g. --corpus-dir pointed at the real IEMOCAP's parent
    assert top.name == "IEMOCAP_full_release"
    before = snapshot(top)
    r = subprocess.run([sys.executable, "-m", "emotion2vec.corpora.mini",
                        "--sentences-per-emotion", "1", str(top.parent)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "it is not a corpus emotion2vec.corpora.mini generated" in \
        r.stderr, r.stderr
    assert snapshot(top) == before


def test_extraction_keeps_every_earlier_feats_scp(tmp_path):
    """The data dir's own feats.scp (e.g. an ASR recipe's MFCCs) is moved to .backup, and a
    later run's backup never overwrites it."""
    from helpers.lookalike import tone

    data = tmp_path / "data"
    data.mkdir()
    tone(tmp_path / "a.wav", seconds=1.0)
    (data / "wav.scp").write_text(f"spk1-a {tmp_path}/a.wav\n")
    (data / "utt2spk").write_text("spk1-a spk1\n")
    (data / "spk2utt").write_text("spk1 spk1-a\n")
    (data / "feats.scp").write_text("spk1-a /asr/mfcc/raw_mfcc.1.ark:7\n")
    step = [str(REPO / "steps" / "extract_feats.sh"), "--nj", "1", "--feat-type", "fbank",
            str(data)]
    for k in (1, 2):
        r = subprocess.run(step + [str(tmp_path / f"f{k}")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    backups = sorted((data / ".backup").glob("feats.scp*"))
    texts = [p.read_text() for p in backups]
    assert "spk1-a /asr/mfcc/raw_mfcc.1.ark:7\n" in texts and len(texts) == 2, texts
