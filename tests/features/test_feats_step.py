"""steps/extract_feats.sh end to end on the synthetic corpus."""

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers.featsteps import STEP, read_feats, run_step


def assert_same_feats(a, b, atol=0.0):
    assert sorted(a) == sorted(b)
    for utt in a:
        if atol:
            np.testing.assert_allclose(a[utt], b[utt], atol=atol, err_msg=utt)
        else:
            np.testing.assert_array_equal(a[utt], b[utt], err_msg=utt)


@pytest.fixture(scope="module")
def fbank_ref(corpus, tmp_path_factory):
    """fbank features of the file form with --nj 1 (the reference the other runs must equal)."""
    root = tmp_path_factory.mktemp("ref")
    data = root / "data"
    shutil.copytree(corpus["file"], data)
    run_step("--nj", 1, "--feat-type", "fbank", data, root / "feats")
    return root / "feats", data


def test_fbank_outputs_layout_and_kaldi_format(fbank_ref):
    feat_dir, data = fbank_ref
    feats = read_feats(feat_dir)
    assert len(feats) == 12
    scp = (feat_dir / "feats.scp").read_text().splitlines()
    keys = [line.split()[0] for line in scp]
    assert keys == sorted(keys, key=str.encode)
    assert all(Path(line.split()[1].rsplit(":", 1)[0]).is_absolute() for line in scp)
    assert (data / "feats.scp").read_text() == (feat_dir / "feats.scp").read_text()
    n = dict(line.split() for line in (feat_dir / "utt2num_frames").read_text().splitlines())
    assert {u: int(v) for u, v in n.items()} == {u: m.shape[0] for u, m in feats.items()}
    info = json.loads((feat_dir / "feat_info.json").read_text())
    assert info["feat_type"] == "fbank" and info["dim"] == 80 and info["frame_rate"] == 100
    assert info["num_utts"] == 12 and info["sample_rate"] == 16000
    assert info["options"]["num_mel_bins"] == 80 and "extract_feats.sh" in info["command"]
    # Kaldi binary matrix: "<key> \0BFM " then int32 rows/cols each after a size byte 4
    utt, loc = scp[0].split()
    path, offset = loc.rsplit(":", 1)
    raw = Path(path).read_bytes()
    assert raw[:len(utt) + 1] == f"{utt} ".encode() and int(offset) == len(utt) + 1
    o = int(offset)
    assert raw[o:o + 5] == b"\0BFM "
    assert raw[o + 5] == 4 and raw[o + 10] == 4
    rows, cols = struct.unpack("<i", raw[o + 6:o + 10])[0], struct.unpack("<i", raw[o + 11:o + 15])[0]
    data_ = np.frombuffer(raw[o + 15:o + 15 + 4 * rows * cols], dtype="<f4").reshape(rows, cols)
    np.testing.assert_array_equal(data_, feats[utt])
    # and by kaldiio (a test-only dependency), which ESPnet users read features with
    kaldiio = pytest.importorskip("kaldiio")
    for u, mat in kaldiio.load_scp_sequential(str(feat_dir / "feats.scp")):
        np.testing.assert_array_equal(mat, feats[u])


@pytest.mark.parametrize("form", ["pipe", "ark", "segments"])
def test_every_wav_scp_form_gives_the_same_features(fbank_ref, data_copy, tmp_path, form):
    data = data_copy(form)
    run_step("--nj", 2, "--feat-type", "fbank", data, tmp_path / "feats")
    assert_same_feats(read_feats(tmp_path / "feats"), read_feats(fbank_ref[0]))


def test_nj3_equals_nj1(fbank_ref, data_copy, tmp_path):
    data = data_copy("file")
    # $cmd may carry launcher options (word-split like Kaldi's "queue.pl --mem 2G")
    run_step("--cmd", "run.py --mem 1G", "--nj", 3, "--feat-type", "fbank", data, tmp_path / "f3")
    assert (data / "split3" / "3").is_dir()  # speaker-aware: 3 speakers
    assert_same_feats(read_feats(tmp_path / "f3"), read_feats(fbank_ref[0]))
    assert len(list((tmp_path / "f3" / "log").glob("extract.*.log"))) == 3
    # the same feat dir again with one job: redone, the outputs of jobs 2 and 3 removed
    p = run_step("--nj", 1, "--feat-type", "fbank", data, tmp_path / "f3")
    assert "to run: 1)" in p.stdout
    # (job lock files are kept: deleting a lock file races with a process about to take it)
    assert sorted(x.name for x in (tmp_path / "f3" / "data").iterdir()
                  if not x.name.startswith(".lock.")) == [
        ".done.1", "bad_utts.1", "feats.1.ark", "feats.1.scp", "utt2num_frames.1"]
    assert_same_feats(read_feats(tmp_path / "f3"), read_feats(fbank_ref[0]))


def test_more_jobs_than_speakers_or_utterances(fbank_ref, corpus, tmp_path):
    from helpers.audio_synth import make_data_dir

    scp = dict(line.split(maxsplit=1) for line in (corpus["file"] / "wav.scp").read_text().splitlines())
    utts = ["spk1-u00", "spk1-u01", "spk2-u00"]
    data = make_data_dir(tmp_path / "data", {u: scp[u] for u in utts}, utts)
    p = run_step("--nj", 5, "--feat-type", "fbank", data, tmp_path / "f")
    assert "only 3 utterances: using 3 jobs instead of 5" in p.stdout
    assert (data / "split3utt" / "3").is_dir()  # more jobs than speakers: split by utterance
    ref = read_feats(fbank_ref[0])
    assert_same_feats(read_feats(tmp_path / "f"), {u: ref[u] for u in utts})


def test_resampled_and_stereo_inputs(corpus, tmp_path):
    wavs = sorted((corpus["file"].parent / "wav").glob("spk*-u*.wav"))
    d = tmp_path / "data"
    d.mkdir()
    scp, utts = {}, []
    for i, w in enumerate(wavs[:6]):
        utt = w.stem
        out = tmp_path / f"{utt}.{['wav', 'flac', 'wav'][i % 3]}"
        if i % 3 == 0:
            subprocess.run(["sox", "-R", str(w), "-r", "22050", str(out)], check=True)
        elif i % 3 == 1:
            subprocess.run(["sox", "-R", str(w), "-r", "44100", "-b", "24", str(out)], check=True)
        else:
            x, rate = sf.read(w, dtype="float32")
            sf.write(out, np.stack([x, x], axis=1), rate, subtype="PCM_16")
        scp[utt] = str(out)
        utts.append(utt)
    from helpers.audio_synth import make_data_dir

    make_data_dir(d, scp, utts)
    run_step("--nj", 2, "--feat-type", "fbank", d, tmp_path / "feats")
    feats = read_feats(tmp_path / "feats")
    ref = read_feats_of(corpus, utts)
    for i, utt in enumerate(utts):
        assert abs(feats[utt].shape[0] - ref[utt].shape[0]) <= 1
        if i % 3 == 2:  # identical stereo channels: exactly the mono features
            np.testing.assert_array_equal(feats[utt], ref[utt])
        else:  # resampled: close to the 16 kHz original in the speech bands
            n = min(len(feats[utt]), len(ref[utt]))
            assert np.corrcoef(feats[utt][:n].ravel(), ref[utt][:n].ravel())[0, 1] > 0.95


def read_feats_of(corpus, utts):
    from emotion2vec.audio import AudioReader
    from emotion2vec.features import make_extractor

    r, ex = AudioReader(corpus["file"]), make_extractor("fbank")
    return {u: ex.extract([r.read(u)])[0] for u in utts}


def break_utterances(data, entries):
    lines = dict(line.split(maxsplit=1) for line in (data / "wav.scp").read_text().splitlines())
    lines.update(entries)
    (data / "wav.scp").write_text("".join(f"{k} {lines[k]}\n" for k in sorted(lines, key=str.encode)))


def test_failing_pipe_and_corrupt_file_stop_the_step(data_copy, tmp_path):
    data = data_copy("file")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF" + b"\x00" * 100)
    break_utterances(data, {"spk1-u01": f"sox {tmp_path}/gone.wav -t wav - |",
                            "spk3-u02": str(corrupt)})
    p = run_step("--nj", 3, "--feat-type", "fbank", data, tmp_path / "feats", check=False)
    assert p.returncode == 1
    assert "utterance spk1-u01: command failed with exit status 2" in p.stderr
    assert "gone.wav" in p.stderr
    assert "utterance spk3-u02: cannot read audio" in p.stderr
    assert "feature extraction failed" in p.stderr
    assert not (tmp_path / "feats" / "feats.scp").exists()
    assert not (tmp_path / "feats" / "data" / "feats.1.ark").exists()
    # --skip-bad true: listed with the reason, counted, the rest extracted
    p = run_step("--nj", 3, "--skip-bad", "true", "--feat-type", "fbank", data, tmp_path / "feats")
    bad = dict(line.split(maxsplit=1) for line in (tmp_path / "feats" / "bad_utts").read_text().splitlines())
    assert sorted(bad) == ["spk1-u01", "spk3-u02"]
    assert "exit status 2" in bad["spk1-u01"] and "cannot read audio" in bad["spk3-u02"]
    assert "10 utterances with features, 2 bad" in p.stderr
    assert "fix_data_dir.sh" in p.stderr
    feats = read_feats(tmp_path / "feats")
    assert len(feats) == 10 and "spk1-u01" not in feats
    info = json.loads((tmp_path / "feats" / "feat_info.json").read_text())
    assert info["num_bad"] == 2 and info["num_utts"] == 10
    # the same feat dir without --skip-bad: the bad utterances are not silently accepted
    p = run_step("--nj", 3, "--feat-type", "fbank", data, tmp_path / "feats", check=False)
    assert p.returncode == 1 and "2 bad utterance(s) listed in" in p.stderr


def test_killed_job_is_resumed(fbank_ref, data_copy, tmp_path):
    """Job 2 is killed (SIGKILL) mid-way; the rerun redoes only job 2 and the result equals
    an uninterrupted run."""
    data = data_copy("file")
    flag = tmp_path / "flag"
    wav = Path((data / "wav.scp").read_text().split("spk2-u02 ")[1].split("\n")[0])
    # the pipe kills its parent (the job's python) until the flag exists
    break_utterances(data, {"spk2-u02": f"if [ ! -e {flag} ]; then kill -9 $PPID; sleep 5; fi; "
                                        f"cat {wav} |"})
    feats = tmp_path / "feats"
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats, check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    done = sorted(x.name for x in (feats / "data").glob(".done.*"))
    assert done == [".done.1", ".done.3"]
    assert not (feats / "data" / "feats.2.ark").exists() and not (feats / "data" / "feats.2.scp").exists()
    # the half-written archive, under a name of its own run
    assert len(list((feats / "data").glob("feats.2.ark.*.tmp"))) == 1
    assert not (feats / "feats.scp").exists()
    flag.touch()
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    assert "to run: 2)" in p.stdout
    assert "already done" in (feats / "log" / "extract.1.log").read_text()
    assert "already done" not in (feats / "log" / "extract.2.log").read_text()
    assert not list((feats / "data").glob("feats.2.ark*.tmp"))
    assert_same_feats(read_feats(feats), read_feats(fbank_ref[0]))
    assert "1 job(s) ran, 2 already done" in p.stderr
    # everything done: no job runs at all
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    assert "all 3 jobs already done" in p.stdout


def test_rerun_with_other_options_is_refused(fbank_ref, data_copy, tmp_path):
    data = data_copy("file")
    run_step("--nj", 1, "--feat-type", "fbank", data, tmp_path / "feats")
    p = run_step("--nj", 1, "--feat-type", "fbank", "--num-mel-bins", 40, data, tmp_path / "feats",
                 check=False)
    assert p.returncode == 1
    assert "holds features made with different options" in p.stderr
    assert "num_mel_bins: 80 there, 40 now" in p.stderr and "use a new feature directory" in p.stderr


def test_usage_errors(tmp_path, data_copy):
    for args, msg in [((), "expected 2 arguments"), (("--nj", "x", "a", "b"), "--nj must be"),
                      (("--bogus", "1", "a", "b"), "unknown option '--bogus'")]:
        p = run_step(*args, check=False)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
    p = run_step(tmp_path / "nodata", tmp_path / "f", check=False)
    assert p.returncode == 1 and "no such file" in p.stderr
    p = run_step("--feat-type", "fbank", "--layer", "3", data_copy("file"), tmp_path / "f", check=False)
    assert p.returncode == 1 and "--layer does not apply to --feat-type fbank" in p.stderr
    assert subprocess.run(["bash", str(STEP), "--help"], capture_output=True, text=True).stdout.count("--feat-type") >= 1


def test_logspec_utterance_granularity_and_npy_export(data_copy, tmp_path):
    data = data_copy("segments", name="train")
    run_step("--nj", 2, "--feat-type", "logspec", data, tmp_path / "frames")
    run_step("--nj", 2, "--feat-type", "logspec", "--granularity", "utterance",
             "--export-npy", tmp_path / "npy", data, tmp_path / "utt")
    frames, utt = read_feats(tmp_path / "frames"), read_feats(tmp_path / "utt")
    for u in frames:
        assert frames[u].shape[1] == 200 and utt[u].shape == (1, 200)
        np.testing.assert_allclose(utt[u][0], frames[u].mean(axis=0), rtol=1e-5, atol=1e-5)
    assert json.loads((tmp_path / "utt" / "feat_info.json").read_text())["frame_rate"] is None
    # the original emotion2vec downstream layout
    arr = np.load(tmp_path / "npy" / "train.npy")
    lengths = [int(x) for x in (tmp_path / "npy" / "train.lengths").read_text().split()]
    emo = [line.split("\t") for line in (tmp_path / "npy" / "train.emo").read_text().splitlines()]
    assert arr.shape == (12, 200) and lengths == [1] * 12
    keys = sorted(utt, key=str.encode)
    assert [e[0] for e in emo] == keys
    labels = dict(line.split() for line in (data / "utt2emo").read_text().splitlines())
    assert [e[1] for e in emo] == [labels[k] for k in keys]
    np.testing.assert_array_equal(arr, np.concatenate([utt[k] for k in keys]))


def test_emotion2vec_step_all_layers_and_forms(tiny_e2v, data_copy, tmp_path):
    file_dir, seg_dir = data_copy("file"), data_copy("segments")
    run_step("--nj", 2, "--model", tiny_e2v, "--batch-seconds", 4, "--layer", "all",
             "--export-npy", tmp_path / "npy", file_dir, tmp_path / "all")
    info = json.loads((tmp_path / "all" / "feat_info.json").read_text())
    L = info["num_layers"]
    assert info["feat_type"] == "emotion2vec" and info["layer"] == "all" and L >= 2
    layers = [read_feats(tmp_path / "all" / f"layer{k}") for k in range(1, L + 1)]
    top = read_feats(tmp_path / "all")
    assert_same_feats(top, layers[-1])
    assert str(tmp_path / "all" / f"layer{L}" / "data") in (tmp_path / "all" / "feats.scp").read_text()
    for k in range(1, L + 1):
        li = json.loads((tmp_path / "all" / f"layer{k}" / "feat_info.json").read_text())
        assert li["layer"] == str(k) and li["dim"] == info["dim"]
    # frame rate 50 Hz: 20 ms hop, 400-sample receptive field
    n = dict(line.split() for line in (tmp_path / "all" / "utt2num_frames").read_text().splitlines())
    from emotion2vec.audio import AudioReader

    r = AudioReader(file_dir)
    for u in list(top)[:3]:
        assert int(n[u]) == top[u].shape[0] == (len(r.read(u)) - 400) // 320 + 1
    # segments form, one job, batch budget of one utterance: same last-layer features
    run_step("--nj", 1, "--model", tiny_e2v, "--batch-seconds", 0.1, seg_dir, tmp_path / "seg")
    assert_same_feats(read_feats(tmp_path / "seg"), top, atol=1e-4)
    assert np.load(tmp_path / "npy" / "data_file.npy").shape == (sum(int(v) for v in n.values()), info["dim"])


def test_hf_step(tiny_hf, data_copy, tmp_path):
    data = data_copy("file")
    run_step("--nj", 1, "--feat-type", "hf", "--model", tiny_hf["wav2vec2"], "--layer", 1,
             data, tmp_path / "hf")
    feats = read_feats(tmp_path / "hf")
    info = json.loads((tmp_path / "hf" / "feat_info.json").read_text())
    assert len(feats) == 12 and info["dim"] == 32 and info["layer"] == "1"
    assert all(m.shape[1] == 32 for m in feats.values())
