"""emotion2vec.features.featdir through its Python API (no shell): edge cases of jobs/merge."""

import json

import numpy as np
import pytest
import soundfile as sf

from emotion2vec.errors import E2VError
from emotion2vec.features.featdir import feature_options, init_feat_dir, merge_feat_dir, run_job


def tiny_data(tmp_path, lengths):
    d = tmp_path / "data"
    d.mkdir()
    scp, spk = [], []
    for i, n in enumerate(lengths):
        p = tmp_path / f"a{i}.wav"
        sf.write(p, (0.1 * np.sin(np.arange(n) / 5)).astype(np.float32), 16000)
        scp.append(f"s1-a{i} {p}\n")
        spk.append(f"s1-a{i} s1\n")
    (d / "wav.scp").write_text("".join(scp))
    (d / "utt2spk").write_text("".join(spk))
    (d / "spk2utt").write_text("s1 " + " ".join(f"s1-a{i}" for i in range(len(lengths))) + "\n")
    return d


def test_too_short_utterance(tmp_path):
    d = tiny_data(tmp_path, [300, 8000])
    opts = feature_options("fbank")
    init_feat_dir(tmp_path / "f", opts)
    with pytest.raises(E2VError, match="utterance s1-a0: too short for fbank features "
                                       r"\(300 samples give no frame\)"):
        run_job(d, tmp_path / "f", 1, 1, opts)
    assert not list((tmp_path / "f" / "data").glob("feats.1.*"))  # temporaries removed
    stats = run_job(d, tmp_path / "f", 1, 1, opts, skip_bad=True)
    assert stats["num_utts"] == 1 and stats["num_bad"] == 1
    assert (tmp_path / "f" / "data" / "bad_utts.1").read_text().startswith("s1-a0 too short")
    t = merge_feat_dir(d, tmp_path / "f", 1, skip_bad=True)
    assert t["num_utts"] == 1 and t["num_bad"] == 1


def test_all_bad_is_an_error(tmp_path):
    d = tiny_data(tmp_path, [100, 200])
    opts = feature_options("fbank")
    init_feat_dir(tmp_path / "f", opts)
    run_job(d, tmp_path / "f", 1, 1, opts, skip_bad=True)
    with pytest.raises(E2VError, match="no utterance of .* has features \\(2 bad"):
        merge_feat_dir(d, tmp_path / "f", 1, skip_bad=True)


def test_job_refuses_options_other_than_recorded(tmp_path):
    d = tiny_data(tmp_path, [8000])
    init_feat_dir(tmp_path / "f", feature_options("fbank"))
    with pytest.raises(E2VError, match="job 1: options differ .*num_mel_bins: 80 there, 23 now"):
        run_job(d, tmp_path / "f", 1, 1, feature_options("fbank", num_mel_bins=23))


def test_merge_names_unfinished_jobs(tmp_path):
    d = tiny_data(tmp_path, [8000])
    init_feat_dir(tmp_path / "f", feature_options("logspec"))
    with pytest.raises(E2VError, match=r"job 1 of 1 did not finish .*log/extract.1.log"):
        merge_feat_dir(d, tmp_path / "f", 1)


@pytest.mark.parametrize("kw, msg", [
    (dict(feat_type="hf"), "--feat-type hf needs --model"),
    (dict(feat_type="logspec", num_mel_bins=40), "--num-mel-bins does not apply"),
    (dict(feat_type="fbank", model="x"), "--model does not apply"),
    (dict(feat_type="emotion2vec", granularity="word"), "--granularity: want frame or utterance"),
    (dict(feat_type="emotion2vec", layer="top"), "want last, all or a layer number"),
])
def test_option_errors(kw, msg):
    with pytest.raises(E2VError, match=msg):
        feature_options(**kw)


def test_defaults_are_recorded(tmp_path, monkeypatch):
    assert feature_options("emotion2vec")["model"] == "emotion2vec_base"
    assert feature_options("logmel")["num_mel_bins"] == 40
    (tmp_path / "m.pt").write_bytes(b"")
    monkeypatch.chdir(tmp_path)  # a local model given relative is recorded absolute
    assert feature_options("emotion2vec", model="m.pt")["model"] == str(tmp_path / "m.pt")
    init_feat_dir(tmp_path / "f", feature_options("fbank"))
    assert json.loads((tmp_path / "f" / "options.json").read_text())["num_mel_bins"] == 80


def test_feat_dir_with_whitespace_is_refused(tmp_path):
    with pytest.raises(E2VError, match="may not contain whitespace"):
        init_feat_dir(tmp_path / "my feats", feature_options("fbank"))
