"""--feat-type opensmile through steps/extract_feats.sh on the synthetic corpus: the values are
opensmile's own (equal to a direct `opensmile.Smile(...).process_signal` on the same 16 kHz
samples), written, recorded, resumed and refused like every other feature type."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers.featsteps import read_feats, run_step

opensmile = pytest.importorskip("opensmile")

LEVELS = {"functionals": opensmile.FeatureLevel.Functionals,
          "lld": opensmile.FeatureLevel.LowLevelDescriptors}


def smile(feature_set, level):
    return opensmile.Smile(feature_set=opensmile.FeatureSet[feature_set],
                           feature_level=LEVELS[level])


def direct(corpus, feature_set, level):
    """{utt: DataFrame}: opensmile's API on the samples the toolkit reads (16 kHz float32)."""
    from emotion2vec.audio import AudioReader

    reader, s = AudioReader(corpus["file"]), smile(feature_set, level)
    return {u: s.process_signal(reader.read(u), 16000) for u in reader.keys}


def set_wav(data, utt, value):
    lines = dict(line.split(maxsplit=1) for line in (data / "wav.scp").read_text().splitlines())
    lines[utt] = value
    (data / "wav.scp").write_text("".join(f"{k} {lines[k]}\n" for k in sorted(lines, key=str.encode)))


def tag(*args):
    r = subprocess.run([sys.executable, "-m", "emotion2vec.bin.feat_dir", "tag", *args],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else r.stderr


@pytest.mark.parametrize("feature_set,level", [("eGeMAPSv02", "functionals"), ("eGeMAPSv02", "lld"),
                                               ("ComParE_2016", "functionals"), ("ComParE_2016", "lld")])
def test_step_equals_the_opensmile_api(corpus, data_copy, tmp_path, feature_set, level):
    data, out = data_copy("file"), tmp_path / "feats"
    run_step("--nj", 2, "--feat-type", "opensmile", "--opensmile-set", feature_set,
             "--opensmile-level", level, data, out)
    feats, ref = read_feats(out), direct(corpus, feature_set, level)
    assert sorted(feats) == sorted(ref) and len(feats) == 12
    dim = len(smile(feature_set, level).feature_names)
    for utt, df in ref.items():
        np.testing.assert_array_equal(feats[utt], df.to_numpy(np.float32), err_msg=utt)
        assert feats[utt].shape == ((1, dim) if level == "functionals" else (len(df), dim))
    info = json.loads((out / "feat_info.json").read_text())
    assert (info["feat_type"], info["opensmile_set"], info["opensmile_level"]) == (
        "opensmile", feature_set, level)
    assert info["dim"] == dim and info["opensmile_version"] == opensmile.__version__
    assert info["options"]["opensmile_set"] == feature_set
    if level == "functionals":  # an utterance-level feature: no frame rate
        assert info["granularity"] == "utterance" and info["frame_rate"] is None
    else:  # the rate opensmile's own frame times give (10 ms hop)
        starts = next(iter(ref.values())).index.get_level_values("start").total_seconds()
        assert info["granularity"] == "frame"
        assert info["frame_rate"] == pytest.approx(1 / np.median(np.diff(starts))) == 100


def test_frame_heads_refuse_functionals(data_copy, tmp_path):
    data = data_copy("file")
    (data / "emotions.txt").write_text("ang\nhap\nneu\nsad\n")
    run_step("--nj", 1, "--feat-type", "opensmile", "--opensmile-set", "eGeMAPSv02", data,
             tmp_path / "feats")
    r = subprocess.run([sys.executable, "-m", "emotion2vec.bin.train_cv_prepare", "--head", "e2v",
                        data, tmp_path / "feats", tmp_path / "exp"], capture_output=True, text=True)
    assert r.returncode == 1 and "head 'e2v' needs frame-level features" in r.stderr
    assert "--opensmile-level lld" in r.stderr, r.stderr


def test_killed_job_is_redone_and_done_jobs_skipped(corpus, data_copy, tmp_path):
    data, feats, flag = data_copy("file"), tmp_path / "feats", tmp_path / "flag"
    wav = Path((data / "wav.scp").read_text().split("spk2-u02 ")[1].split("\n")[0])
    # the pipe kills its parent (job 2's python) until the flag exists
    set_wav(data, "spk2-u02", f"if [ ! -e {flag} ]; then kill -9 $PPID; sleep 5; fi; cat {wav} |")
    args = ("--nj", 3, "--feat-type", "opensmile", "--opensmile-set", "eGeMAPSv02", data, feats)
    p = run_step(*args, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert sorted(x.name for x in (feats / "data").glob(".done.*")) == [".done.1", ".done.3"]
    assert not (feats / "feats.scp").exists()
    flag.touch()
    p = run_step(*args)
    assert "to run: 2)" in p.stdout and "1 job(s) ran, 2 already done" in p.stderr
    assert "already done" in (feats / "log" / "extract.1.log").read_text()
    assert "already done" not in (feats / "log" / "extract.2.log").read_text()
    ref = direct(corpus, "eGeMAPSv02", "functionals")
    got = read_feats(feats)
    assert sorted(got) == sorted(ref)
    for utt, df in ref.items():
        np.testing.assert_array_equal(got[utt], df.to_numpy(np.float32), err_msg=utt)
    assert "all 3 jobs already done" in run_step(*args).stdout


def test_rerun_with_another_set_or_level_is_refused(data_copy, tmp_path):
    data, feats = data_copy("file"), tmp_path / "feats"
    run_step("--nj", 1, "--feat-type", "opensmile", data, feats)  # ComParE_2016 functionals
    for extra, said in [(("--opensmile-set", "eGeMAPSv02"),
                         "opensmile_set: 'ComParE_2016' there, 'eGeMAPSv02' now"),
                        (("--opensmile-level", "lld"),
                         "opensmile_level: 'functionals' there, 'lld' now")]:
        p = run_step("--nj", 1, "--feat-type", "opensmile", *extra, data, feats, check=False)
        assert p.returncode == 1 and "holds features made with different options" in p.stderr
        assert said in p.stderr, p.stderr


def test_tags_and_option_errors():
    assert tag("--feat-type", "opensmile") == "opensmile_ComParE_2016"
    assert tag("--feat-type", "opensmile", "--opensmile-set", "eGeMAPSv02",
               "--opensmile-level", "lld") == "opensmile_eGeMAPSv02_lld"
    assert tag("--feat-type", "opensmile", "--layer", "last", "--opensmile-set", "emobase",
               "--opensmile-level", "functionals") == "opensmile_emobase"
    assert tag("--feat-type", "fbank") == "fbank"  # other types' tags unchanged
    assert "--opensmile-set does not apply to --feat-type fbank" in tag(
        "--feat-type", "fbank", "--opensmile-set", "emobase")
    assert "opensmile functionals are one vector per utterance" in tag(
        "--feat-type", "opensmile", "--granularity", "frame")
    assert "--model does not apply to --feat-type opensmile" in tag(
        "--feat-type", "opensmile", "--model", "x")
    assert "invalid choice: 'IS09'" in tag("--feat-type", "opensmile", "--opensmile-set", "IS09")


def test_other_feature_types_record_what_they_did():
    """Feat dirs of other types keep their options record (their done jobs stay valid)."""
    from emotion2vec.features.featdir import feature_options

    assert feature_options("fbank") == {"feat_type": "fbank", "model": None, "layer": "last",
                                        "granularity": "frame", "num_mel_bins": 80,
                                        "trust_remote_code": False}


def test_too_short_audio_names_the_utterance(data_copy, tmp_path):
    data = data_copy("file")
    short = tmp_path / "short.wav"
    sf.write(short, (0.1 * np.sin(np.arange(480) / 5)).astype(np.float32), 16000, subtype="PCM_16")
    set_wav(data, "spk3-u01", str(short))  # 30 ms: under one GeMAPS analysis window
    args = ("--nj", 3, "--feat-type", "opensmile", "--opensmile-set", "eGeMAPSv02", data)
    p = run_step(*args, tmp_path / "feats", check=False)
    assert p.returncode == 1
    assert "utterance spk3-u01: too short for opensmile features (480 samples give no frame)" in p.stderr
    p = run_step("--skip-bad", "true", *args, tmp_path / "feats")
    assert "spk3-u01 too short" in (tmp_path / "feats" / "bad_utts").read_text()
    feats = read_feats(tmp_path / "feats")
    assert len(feats) == 11 and all(np.isfinite(m).all() for m in feats.values())


def test_full_scale_samples_are_clipped_not_wrapped():
    """opensmile casts samples * 32768 to int16: +1.0 and beyond would wrap to -32768."""
    from emotion2vec.features import make_extractor

    t = np.arange(16000) / 16000
    x = (1.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    ex = make_extractor("opensmile", opensmile_set="eGeMAPSv02")
    assert ex.dim == 88 and ex.frame_rate is None
    (got,) = ex.extract([x])
    clipped = smile("eGeMAPSv02", "functionals").process_signal(
        np.clip(x, -1.0, 32767 / 32768), 16000).to_numpy(np.float32)
    np.testing.assert_array_equal(got, clipped)
