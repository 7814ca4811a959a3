"""steps/infer.sh and steps/pack_model.sh: jobs through $cmd, merge, resume, usage errors."""

import os
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def sh(*args, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT)


def test_help_and_usage_errors(tmp_path):
    p = sh(ROOT / "steps/infer.sh", "--help")
    assert p.returncode == 0
    assert "--segment-length \"\"" in p.stdout and "'' = the toolkit default (false)" in p.stdout
    p = sh(ROOT / "steps/infer.sh", "--skip-bad", "yes", "--model", "x", "d", tmp_path / "o")
    assert p.returncode == 2 and "option '--skip-bad' expects true or false, got 'yes'" in p.stderr
    p = sh(ROOT / "steps/infer.sh", "--model", "x", "only-one-arg")
    assert p.returncode == 2 and "expected 2 arguments" in p.stderr
    p = sh(ROOT / "steps/infer.sh", "data", tmp_path / "o")
    assert p.returncode == 2 and "--model is required" in p.stderr
    p = sh(ROOT / "steps/infer.sh", "--model", "m", "--embeddings", "hdf5", "d", tmp_path / "o")
    assert p.returncode == 2 and "--embeddings must be none, ark or npy" in p.stderr
    p = sh(ROOT / "steps/pack_model.sh", "--help")
    assert p.returncode == 0 and "--include-encoder \"\"" in p.stdout
    p = sh(ROOT / "steps/pack_model.sh", "--include-encoder", "1", "e", tmp_path / "m.tar.gz")
    assert p.returncode == 2 and "option '--include-encoder' expects true or false" in p.stderr
    p = sh(ROOT / "steps/pack_model.sh", tmp_path / "noexp", tmp_path / "m.tar.gz")
    assert p.returncode == 1 and "no such experiment directory" in p.stderr


def test_parallel_jobs_merge_to_the_single_run_and_rerun_skips(tmp_path, audio_data, exp_dir,
                                                               jsonl):
    packed = tmp_path / "model.tar.gz"
    p = sh(ROOT / "steps/pack_model.sh", exp_dir, packed)
    assert p.returncode == 0, p.stderr
    wav_scp = tmp_path / "wav.scp"
    wav_scp.write_text((audio_data / "wav.scp").read_text())
    out = tmp_path / "out"
    args = [ROOT / "steps/infer.sh", "--nj", "2", "--model", packed, "--segment-length", "3",
            "--embeddings", "ark", wav_scp, out]
    p = sh(*args)
    assert p.returncode == 0, p.stdout + p.stderr
    single = tmp_path / "single"
    from emotion2vec.bin import infer
    assert infer.main(["--model", str(packed), "--segment-length", "3", "--no-progress",
                       str(wav_scp), str(single)]) == 0
    for f in ("scores.jsonl", "windows/scores.jsonl"):
        a, b = jsonl(out / f), jsonl(single / f)
        assert [r["utt"] for r in a] == [r["utt"] for r in b]
        for x, y in zip(a, b):
            assert np.allclose(list(x["scores"].values()), list(y["scores"].values()), atol=1e-6)
    for f in ("utt2emo", "timeline", "windows/segments"):
        assert (out / f).read_text() == (single / f).read_text()
    scp = (out / "embeddings.scp").read_text().splitlines()
    assert len(scp) == len((out / "windows/segments").read_text().splitlines())
    assert all(line.split()[1].startswith(str(out / "jobs")) for line in scp)
    assert (out / "cmd").read_text().startswith(str(ROOT / "steps/infer.sh"))
    # A rerun finds every job done and only merges again.
    p = sh(*args)
    assert p.returncode == 0, p.stderr
    logs = "".join((out / "log" / f"infer.{n}.log").read_text() for n in (1, 2))
    assert logs.count("already done") == 2


def test_failed_job_fails_the_step_with_its_message(tmp_path, audio_data, plus_model):
    import soundfile as sf

    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16000)
    wav_scp = tmp_path / "wav.scp"
    wav_scp.write_text((audio_data / "wav.scp").read_text() + f"spk9-x {tmp_path / 'empty.wav'}\n")
    p = sh(ROOT / "steps/infer.sh", "--nj", "2", "--model", plus_model, wav_scp, tmp_path / "o")
    assert p.returncode == 1
    assert "infer: error: utterance spk9-x: empty audio" in p.stderr
    assert "inference failed; see" in p.stderr


def test_heads_trained_by_train_cv_label_new_audio_and_pack(tmp_path, audio_data, feat_dir,
                                                            jsonl):
    """The real training step's exp dir (fold<k>/seed<n>/ heads) -> infer.sh, pack, score."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(audio_data, data, ignore=shutil.ignore_patterns("split*", "feats.scp",
                                                                    "utt2num_frames"))
    (data / "emotions.txt").write_text("ang\nhap\n")
    (data / "utt2fold").write_text("".join(  # two folds: spk1+spk3 | spk2
        f"{u} {2 if u.startswith('spk2') else 1}\n" for u in
        (line.split()[0] for line in (data / "utt2spk").read_text().splitlines())))
    (tmp_path / "head.yaml").write_text("epochs: 2\nbatch_size: 4\nhidden: 8\n")
    exp = tmp_path / "exp"
    p = sh(ROOT / "steps/train_cv.sh", "--head", "e2v", "--config", tmp_path / "head.yaml",
           "--valid", "none", "--cv", "utt2fold", data, feat_dir, exp)
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "out"
    p = sh(ROOT / "steps/infer.sh", "--nj", "1", "--model", exp, data, out)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = jsonl(out / "scores.jsonl")
    assert len(recs) == 7 and all(list(r["scores"]) == ["ang", "hap"] for r in recs)
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-4 for r in recs)
    packed = tmp_path / "m.tar.gz"
    assert sh(ROOT / "steps/pack_model.sh", exp, packed).returncode == 0
    from emotion2vec.bin import infer
    assert infer.main(["--model", str(packed), "--no-progress", str(data),
                       str(tmp_path / "out2")]) == 0
    assert (tmp_path / "out2/scores.jsonl").read_text() == (out / "scores.jsonl").read_text()
    p = sh(ROOT / "steps/score.sh", data / "utt2emo", out / "utt2emo")
    assert p.returncode == 0 and "(7 utterances, 0 missing)" in p.stdout + p.stderr
