"""egs/<corpus>/run.sh: options, corpus-location errors, stage 0 on look-alike trees."""

import pytest

from helpers.recipetree import REPO, kaldi_asr_dir, run_recipe
from helpers.lookalike import make_emobox, make_emodb, make_iemocap, make_thai

RECIPES = ("iemocap", "emodb", "thai_ser", "emobox", "ravdess", "mini", "custom")
# recipe -> (db.sh variable, what the error says the folder must contain)
LOCATIONS = {
    "iemocap": ("IEMOCAP", "must contain Session1..Session5/"),
    "emodb": ("EMODB", "must contain wav/ with the 535 EmoDB files"),
    "thai_ser": ("THAI_SER", "must contain emotion_label.json, actor_demography.json"),
    "emobox": ("EMOBOX", "must contain data/<dataset>/"),
    "ravdess": ("RAVDESS", "must contain Actor_01 .. Actor_24/"),
}


def test_layout_of_the_repository_recipes():
    """ESPnet's shape: one shared recipe (egs/TEMPLATE/ser1/ser.sh), a thin run.sh per corpus,
    the corpus's own local/data.sh (stage 0) and conf/."""
    total = 0
    for name in RECIPES:
        d = REPO / "egs" / name
        assert (d / "run.sh").stat().st_mode & 0o111, name
        assert (d / "local" / "data.sh").stat().st_mode & 0o111, name
        assert not (d / "local").is_symlink()
        assert (d / "conf" / "references").is_file(), name
        assert (d / "RESULTS.md").read_text().count("| date | features | model | head |") == 1
        assert str((d / "ser.sh").readlink()) == "../TEMPLATE/ser1/ser.sh"
        for link in ("steps", "utils", "path.sh", "cmd.sh"):
            assert (d / link).is_symlink() and str((d / link).readlink()) == f"../../{link}"
        run_sh = (d / "run.sh").read_text()
        assert "exec ./ser.sh" in run_sh and "Begin configuration" not in run_sh
        total += len(run_sh.splitlines())
    assert total < 200, total


@pytest.mark.parametrize("name", RECIPES)
def test_help_lists_stages_and_options(recipe, name):
    r = run_recipe(recipe(name), "--help")
    assert r.returncode == 0, r.stdout
    for s in ("Stages", "  0  ", "  1  features", "  2  training", "  3  report",
              "--stage", "--stop-stage", "--nj", "--feat-type", "--model", "--head", "--cv"):
        assert s in r.stdout, (s, r.stdout)
    if name not in ("mini", "custom"):
        assert "--corpus-dir" in r.stdout


@pytest.mark.parametrize("name", RECIPES)
def test_unknown_option_is_a_usage_error(recipe, name):
    r = run_recipe(recipe(name), "--no-such-option", "1", "--data-dir", "x")
    assert r.returncode == 2 and "no-such-option" in r.stdout


@pytest.mark.parametrize("name", sorted(LOCATIONS))
@pytest.mark.parametrize("where", ["unset", "wrong"])
def test_corpus_location_errors(recipe, tmp_path, name, where):
    var, must = LOCATIONS[name]
    env = {} if where == "unset" else {var: str(tmp_path)}
    r = run_recipe(recipe(name), "--stop-stage", "0", env=env)
    assert r.returncode == 1, r.stdout
    assert f"set {var} in db.sh or the environment, or pass --corpus-dir" in r.stdout
    assert must in r.stdout
    assert not (tmp_path / "egs" / name / "data").exists()


def test_iemocap_stage0_from_the_environment(recipe, tmp_path):
    top = make_iemocap(tmp_path / "c")
    d = recipe("iemocap")
    r = run_recipe(d, "--stop-stage", "0", env={"IEMOCAP": str(top)})
    assert r.returncode == 0, r.stdout
    assert "Stage 0: data preparation" in r.stdout and "Stage 1" not in r.stdout
    emo = (d / "data/iemocap/utt2emo").read_text().split()
    assert len(emo) == 20 and emo[:2] == ["Ses01F-Ses01F_impro01_F000", "neu"]
    assert (d / "data/iemocap/utt2session").is_file() and (d / "data/iemocap/utt2avd").is_file()
    # --strict turns the published-count mismatch into an error
    r = run_recipe(d, "--stop-stage", "0", "--strict", "true", "--corpus-dir", top)
    assert r.returncode == 1 and "(--strict)" in r.stdout


def test_iemocap_improvised_subset_dir(recipe, tmp_path):
    top = make_iemocap(tmp_path / "c")
    d = recipe("iemocap")
    r = run_recipe(d, "--stop-stage", "0", "--subset", "improvised", "--corpus-dir", top)
    assert r.returncode == 0, r.stdout
    assert len((d / "data/iemocap_improvised/utt2emo").read_text().splitlines()) == 8


def test_emodb_stage0_speaker_pairs_four_classes(recipe, tmp_path):
    top = make_emodb(tmp_path / "c")
    d = recipe("emodb")
    r = run_recipe(d, "--stop-stage", "0", "--folds", "speaker-pairs", "--classes",
                   "conf/emotions_4class.txt", "--corpus-dir", top)
    assert r.returncode == 0, r.stdout
    out = d / "data/emodb_pairs_emotions_4class"
    assert (out / "emotions.txt").read_text() == "ang\nhap\nneu\nsad\n"
    assert (out / "utt2fold").read_text().splitlines()[0] == "03-03a01Fa 1"


def test_thai_stage0(recipe, tmp_path):
    top = make_thai(tmp_path / "c")
    d = recipe("thai_ser")
    r = run_recipe(d, "--stop-stage", "0", env={"THAI_SER": str(top)})
    assert r.returncode == 0, r.stdout
    assert len((d / "data/thai_ser_con/utt2emo").read_text().splitlines()) == 4
    assert (d / "data/thai_ser_con/cv/fold7/valid").is_file()
    assert (d / "data/thai_ser_con_zoom/utt2emo").is_file()
    assert (d / "data/thai_ser_con_zoomtest/cv/fold0/test").read_text().startswith("actor003-z001")


def test_emobox_stage0(recipe, tmp_path):
    top = make_emobox(tmp_path / "c")
    d = recipe("emobox")
    r = run_recipe(d, "--stop-stage", "0", "--dataset", "emodb", env={"EMOBOX": str(top)})
    assert r.returncode == 0, r.stdout
    assert (d / "data/emobox_emodb/emotions.txt").read_text() == "angry\nboredom\nneutral\n"
    assert sorted(p.name for p in (d / "data/emobox_emodb/cv").iterdir()) == ["fold1", "fold2"]


def test_custom_stage0_and_features(recipe, tmp_path):
    src, labels, utts = kaldi_asr_dir(tmp_path)
    d = recipe("custom")
    r = run_recipe(d, "--stop-stage", "1", "--data-dir", src, "--utt2emo", labels,
                   "--feat-type", "fbank", "--nj", "2")
    assert r.returncode == 0, r.stdout
    out = d / "data" / "train"
    assert (out / "emotions.txt").read_text() == "ang\nsad\n"  # derived from the labels
    assert (out / "utt2emo").read_text().splitlines()[0] == f"{utts[0]} sad"
    assert (out / "segments").read_text() == (src / "segments").read_text()
    assert "classes: ang sad" in r.stdout
    feats = (d / "feats/train_fbank/feats.scp").read_text().splitlines()
    assert [ln.split()[0] for ln in feats] == sorted(utts)


def test_custom_inference_only_and_errors(recipe, tmp_path):
    src, _, _ = kaldi_asr_dir(tmp_path)
    d = recipe("custom")
    r = run_recipe(d, "--stop-stage", "1", "--data-dir", src, "--name", "calls")
    assert r.returncode == 0, r.stdout
    assert "no utt2emo: stage 2 runs inference only" in r.stdout
    assert "Stage 1: skipped" in r.stdout and not (d / "data/calls/utt2emo").exists()
    r = run_recipe(d, "--stop-stage", "0")
    assert r.returncode == 2 and "--data-dir is required" in r.stdout
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", tmp_path)
    assert r.returncode == 1 and "must be a Kaldi data dir with wav.scp and utt2spk" in r.stdout
    r = run_recipe(d, "--stop-stage", "0", "--data-dir", src, "--utt2emo", tmp_path / "nope")
    assert r.returncode == 1 and "no such file:" in r.stdout


def test_emobox_cross_corpus_stage0(recipe, tmp_path):
    top = make_emobox(tmp_path / "c")
    d = recipe("emobox")
    r = run_recipe(d, "--stop-stage", "0", "--dataset", "emodb", "--cross-test", "IEMOCAP",
                   "--track2-audio-root", tmp_path / "c" / "track2_audio",
                   env={"EMOBOX": str(top)})
    assert r.returncode == 0, r.stdout
    out = d / "data/emobox_emodb_to_IEMOCAP"
    assert (out / "cv/fold1/test").read_text().count("track2-iemocap-") == 2
