"""steps/extract_feats.sh under kills, concurrent runs, leftover jobs and changed inputs.

The step holds a lock on its feat dir (a second run is refused, naming the first), its jobs
die with it (however it is killed), every job holds a lock of its own while it writes, uses
temporary names of its own run and reads its outputs back before its `.done`; a rerun redoes
exactly what is not done for the current inputs, and the result equals a clean run.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers.featsteps import STEP, read_feats, run_step
from helpers.killing import (kill_at_random, processes_mentioning, start_in_session, wait_for,
                     wait_gone)

SLOW = 0.15  # seconds each utterance's pipe sleeps: kills land in every phase of a run


def slow_copy(corpus, dest: Path, sleep: float = SLOW) -> Path:
    """The file form with every entry a pipe that sleeps first (a run takes a few seconds)."""
    import shutil

    shutil.copytree(corpus["file"], dest)
    lines = [ln.split(maxsplit=1) for ln in (dest / "wav.scp").read_text().splitlines()]
    (dest / "wav.scp").write_text("".join(f"{u} sleep {sleep}; cat {w} |\n" for u, w in lines))
    return dest


def start_step(*args) -> subprocess.Popen:
    return start_in_session(["bash", STEP, *args])


def assert_equal_feats(a, b):
    assert sorted(a) == sorted(b)
    for u in a:
        np.testing.assert_array_equal(a[u], b[u], err_msg=u)


@pytest.fixture(scope="module")
def slow_ref(corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("slowref")
    data = slow_copy(corpus, root / "data")
    run_step("--nj", 2, "--feat-type", "fbank", data, root / "feats")
    return read_feats(root / "feats")


def test_second_run_into_the_same_feat_dir_is_refused(corpus, slow_ref, tmp_path):
    data = slow_copy(corpus, tmp_path / "data")
    feats = tmp_path / "feats"
    first = start_step("--nj", 2, "--feat-type", "fbank", data, feats)
    wait_for(lambda: (feats / "data").is_dir())
    second = run_step("--nj", 2, "--feat-type", "fbank", data, feats, check=False)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert second.returncode == 1
    assert f"{feats} is in use by another run (pid {first.pid} on host " in second.stderr
    assert "extract_feats.sh --nj 2" in second.stderr  # the holder's command
    assert_equal_feats(read_feats(feats), slow_ref)


@pytest.mark.parametrize("how", ["killpg", "kill-shell", "ctrl-c"])
def test_jobs_die_with_the_step(corpus, tmp_path, how):
    """SIGKILL of the whole step (timeout -s KILL), SIGKILL of its shell only, Ctrl-C: no job
    outlives the step (they run in sessions of their own, out of reach of a group kill)."""
    data = slow_copy(corpus, tmp_path / "data", sleep=2.0)  # a job would run for 8-16 s
    feats = tmp_path / "feats"
    p = start_step("--nj", 2, "--feat-type", "fbank", data, feats)
    deadline = time.time() + 30
    job = f"extract_feats --job [0-9].* {data}"  # a job (run.py's line says --job JOB)
    while not processes_mentioning(job) and time.time() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(job), "no job started"
    if how == "killpg":
        os.killpg(p.pid, signal.SIGKILL)
    elif how == "kill-shell":
        os.kill(p.pid, signal.SIGKILL)
    else:
        os.killpg(p.pid, signal.SIGINT)
    p.wait(timeout=60)  # the shell (not its output pipe, which a surviving job would hold)
    assert wait_gone(str(data), timeout=4) == [], "jobs outlived the step"
    p.communicate(timeout=60)
    assert not (feats / "feats.scp").exists()


def test_twenty_kills_at_random_points_then_equal_to_a_clean_run(corpus, slow_ref, tmp_path):
    """20 cycles: a run with a random number of jobs, SIGKILL of the whole step at a random
    moment (start-up, extraction, renames, merge), an immediate rerun; then two concurrent
    runs. The feat dir never breaks, and the final features equal a clean run's."""
    seed = int(os.environ.get("E2V_STRESS_SEED", "20261202"))
    rng = random.Random(seed)
    print(f"E2V_STRESS_SEED={seed}")  # shown on failure: rerun with it to reproduce
    data = slow_copy(corpus, tmp_path / "data")
    feats = tmp_path / "feats"
    outcomes = kill_at_random(
        lambda: start_step("--nj", rng.randint(1, 4), "--feat-type", "fbank", data, feats),
        rng, 20, 3.5, str(data))
    assert outcomes.count("killed") >= 6, outcomes  # (the others finished first: resumed runs)
    # two concurrent runs: one does the work, the other is refused (or finds it all done)
    runs = [start_step("--nj", 3, "--feat-type", "fbank", data, feats) for _ in range(2)]
    results = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 1]), results
    for code, err in results:
        assert code == 0 or "is in use by another run" in err, err
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    assert "all 3 jobs already done" in p.stdout
    assert_equal_feats(read_feats(feats), slow_ref)
    assert not list((feats / "data").glob("*.tmp")), "temporary files left behind"


def test_a_leftover_job_of_an_earlier_run_is_waited_for(corpus, slow_ref, tmp_path):
    """A job process of an earlier run (as Kaldi's run.pl leaves behind when only the step's
    shell is killed) still writes job 1: the new run's job 1 waits for it, never interleaves."""
    data = slow_copy(corpus, tmp_path / "data")
    feats = tmp_path / "feats"
    run_step("--nj", 1, "--feat-type", "fbank", data, feats)
    (feats / "data" / ".done.1").unlink()  # job 1 to be redone
    log = tmp_path / "leftover.log"
    with open(log, "w") as f:
        leftover = subprocess.Popen(
            [sys.executable, "-m", "emotion2vec.bin.extract_feats", "--job", "1", "--nj", "1",
             "--feat-type", "fbank", f"{data}/split1/1", str(feats)],
            stdout=f, stderr=subprocess.STDOUT)
    lock = feats / "data" / ".lock.1"
    wait_for(lambda: f'"pid": {leftover.pid}' in (lock.read_text() if lock.is_file() else ""))
    p = run_step("--nj", 1, "--feat-type", "fbank", data, feats)
    assert leftover.wait(timeout=60) == 0, log.read_text()
    job_log = (feats / "log" / "extract.1.log").read_text()
    assert f"waiting for pid {leftover.pid}" in job_log, job_log
    assert "already done" in job_log  # the leftover finished the job; nothing written twice
    assert p.returncode == 0
    assert_equal_feats(read_feats(feats), slow_ref)


def test_a_replaced_wav_or_changed_pipe_redoes_its_job(data_copy, tmp_path):
    data = data_copy("file")
    feats = tmp_path / "feats"
    run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    before = read_feats(feats)
    scp = dict(ln.split(maxsplit=1) for ln in (data / "wav.scp").read_text().splitlines())
    # the same path, other audio (a user re-recorded or re-converted the file); a private copy
    # (the corpus's wavs are shared by the session)
    target = tmp_path / "spk2-u01.wav"
    target.write_bytes(Path(scp["spk2-u01"]).read_bytes())
    (data / "wav.scp").write_text((data / "wav.scp").read_text().replace(scp["spk2-u01"],
                                                                         str(target)))
    run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    target.write_bytes(Path(scp["spk3-u03"]).read_bytes())
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    assert "(to run: 2)" in p.stdout, p.stdout
    after = read_feats(feats)
    np.testing.assert_array_equal(after["spk2-u01"], before["spk3-u03"])
    # a pipe's command text changes (same output): that job only is redone
    lines = (data / "wav.scp").read_text().replace(f"spk1-u00 {scp['spk1-u00']}",
                                                   f"spk1-u00 cat {scp['spk1-u00']} |")
    (data / "wav.scp").write_text(lines)
    p = run_step("--nj", 3, "--feat-type", "fbank", data, feats)
    assert "(to run: 1)" in p.stdout, p.stdout
    np.testing.assert_array_equal(read_feats(feats)["spk1-u00"], before["spk1-u00"])


def test_damaged_outputs_of_a_done_job_are_redone(data_copy, tmp_path):
    data = data_copy("file")
    feats = tmp_path / "feats"
    run_step("--nj", 2, "--feat-type", "fbank", data, feats)
    ref = read_feats(feats)
    ark = feats / "data" / "feats.2.ark"
    ark.write_bytes(ark.read_bytes()[: ark.stat().st_size // 2])  # e.g. a full disk, a bad copy
    p = run_step("--nj", 2, "--feat-type", "fbank", data, feats)
    assert "(to run: 2)" in p.stdout, p.stdout
    assert_equal_feats(read_feats(feats), ref)
