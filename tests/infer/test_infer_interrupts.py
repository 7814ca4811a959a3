"""steps/infer.sh under kills, concurrent runs and changed inputs, and never writing over its
input: one run per output dir, jobs die with the step, a rerun after kills equals a clean run,
a replaced wav redoes its job."""

import os
import random
import shutil
import signal
import subprocess
from pathlib import Path

from helpers.killing import kill_at_random, start_in_session, wait_for

ROOT = Path(__file__).resolve().parents[2]
STEP = ROOT / "steps" / "infer.sh"
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def slow_data(audio_data: Path, dest: Path) -> Path:
    """A private copy of the test audio (wavs included) with every entry a pipe that sleeps
    first (a run takes seconds)."""
    shutil.copytree(audio_data, dest)
    (dest / "wavs").mkdir()
    lines = []
    for u, w in (ln.split(maxsplit=1) for ln in (dest / "wav.scp").read_text().splitlines()):
        shutil.copy(w, dest / "wavs" / Path(w).name)
        lines.append(f"{u} sleep 0.3; cat {dest / 'wavs' / Path(w).name} |\n")
    (dest / "wav.scp").write_text("".join(lines))
    return dest


def files(d: Path):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def infer(model, data, out, *extra):
    return subprocess.run(["bash", str(STEP), "--nj", "3", "--embeddings", "ark", *extra,
                           "--model", str(model), str(data), str(out)],
                          capture_output=True, text=True, env=ENV, timeout=600)


def outputs(out: Path):
    return {f: (out / f).read_text() for f in ("utt2emo", "scores.jsonl")}


def test_kills_concurrency_and_a_replaced_wav(tmp_path, audio_data, plus_model):
    data = slow_data(audio_data, tmp_path / "data")
    clean = tmp_path / "clean"
    r = infer(plus_model, data, clean)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    argv = ["bash", STEP, "--nj", "3", "--embeddings", "ark", "--model", plus_model, data, out]
    first = start_in_session(argv, env=ENV)
    assert wait_for(lambda: (out / "log").is_dir())
    second = infer(plus_model, data, out)
    assert second.returncode == 1
    assert f"{out} is in use by another run (pid {first.pid} on host" in second.stderr
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    kill_at_random(lambda: start_in_session(argv, env=ENV), random.Random(3), 4, 5.0,
                   f"emotion2vec.bin.infer .* {data}")
    r = infer(plus_model, data, out)
    assert r.returncode == 0, r.stderr
    assert outputs(out) == outputs(clean)
    assert not list(out.rglob("*.tmp")), "temporary files left behind"
    # a wav replaced at the same path: its job is redone, the others are kept
    (data / "wavs" / "spk2-c.wav").write_bytes((data / "wavs" / "spk3-long.wav").read_bytes())
    r = infer(plus_model, data, out)
    assert r.returncode == 0, r.stderr
    logs = [(out / "log" / f"infer.{n}.log").read_text() for n in (1, 2, 3)]
    assert sum("already done" in log for log in logs) == 2, logs
    assert outputs(out)["scores.jsonl"] != outputs(clean)["scores.jsonl"]


def test_output_dir_may_not_be_the_input(tmp_path, audio_data, plus_model):
    data = tmp_path / "data"
    shutil.copytree(audio_data, data)
    before = files(data)
    r = infer(plus_model, data, data)
    assert r.returncode == 1 and "<out-dir> is the input" in r.stderr
    r = infer(plus_model, data, tmp_path / "x" / ".." / "data")  # the same dir, spelt otherwise
    assert r.returncode == 1 and "<out-dir> is the input" in r.stderr
    assert files(data) == before  # utt2emo untouched
