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
    assert "--segment-length 0 " in p.stdout and "--trust-remote-code false" in p.stdout
    p = sh(ROOT / "steps/infer.sh", "--model", "x", "only-one-arg")
    assert p.returncode == 2 and "expected 2 arguments" in p.stderr
    p = sh(ROOT / "steps/infer.sh", "data", tmp_path / "o")
    assert p.returncode == 2 and "--model is required" in p.stderr
    p = sh(ROOT / "steps/infer.sh", "--model", "m", "--embeddings", "hdf5", "d", tmp_path / "o")
    assert p.returncode == 2 and "--embeddings must be none, ark or npy" in p.stderr
    p = sh(ROOT / "steps/pack_model.sh", "--help")
    assert p.returncode == 0 and "--include-encoder false" in p.stdout
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
