"""slurm.py against the real single-node cluster of the `slurm_cluster` fixture."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLURM = str(ROOT / "utils" / "parallel" / "slurm.py")

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(120)]


def launch(cluster, *args, cwd, timeout=90):
    return subprocess.run([SLURM, *args], capture_output=True, text=True, cwd=cwd,
                          env=cluster.env, timeout=timeout)


def scontrol_tasks(cluster, job_id):
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True,
                         text=True, env=cluster.env).stdout
    return [dict(re.findall(r"(ArrayTaskId|JobState|ExitCode)=(\S+)", l)) for l in out.splitlines()]


def wait_running(cluster, jobid_file, n_running, timeout=30):
    """Wait until the launcher has submitted and n tasks run; return the job id."""
    end = time.time() + timeout
    while time.time() < end:
        if jobid_file.exists():
            job_id = jobid_file.read_text().strip()
            states = [t.get("JobState") for t in scontrol_tasks(cluster, job_id)]
            if states.count("RUNNING") >= n_running:
                return job_id
        time.sleep(0.2)
    raise AssertionError(f"tasks did not start within {timeout}s")


def test_array_with_failing_task(slurm_cluster, tmp_path):
    r = launch(slurm_cluster, "JOB=1:3", "log/x.JOB.log",
               "echo task JOB MYJOB JOB_ID; if [ JOB -eq 2 ]; then echo boom >&2; exit 3; fi",
               cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "1 of 3 tasks failed (JOB=2)" in r.stderr
    assert "JOB=2: exit code 3" in r.stderr and "log/x.2.log" in r.stderr
    assert "boom" in r.stderr  # the end of the failed log is shown
    # One array job: all three logs name the same array job id in its spec, one submission.
    job_id = (tmp_path / "log/q/x.jobid").read_text().strip()
    tasks = scontrol_tasks(slurm_cluster, job_id)
    assert sorted(t["ArrayTaskId"] for t in tasks) == ["1", "2", "3"]
    assert {t["ArrayTaskId"]: t["ExitCode"] for t in tasks}["2"] == "3:0"
    for n in (1, 3):
        text = (tmp_path / f"log/x.{n}.log").read_text()
        lines = text.splitlines()
        assert lines[0].startswith(f"# echo task {n} MYJOB JOB_ID;")
        assert lines[1].startswith("# Started at ") and " on " in lines[1]
        assert f"task {n} MYJOB JOB_ID" in lines
        assert lines[-2].startswith("# Accounting: time=")
        assert re.match(r"# Ended \(code 0\) at .*, elapsed time \d+ seconds$", lines[-1])
    assert "# Ended (code 3)" in (tmp_path / "log/x.2.log").read_text()


def test_all_succeed_kaldi_style_words_and_escaped_pipe(slurm_cluster, tmp_path):
    # As a Kaldi step writes it: $cmd JOB=1:3 log/x.JOB.log cmd args \| cmd
    r = launch(slurm_cluster, "--mem", "200M", "--num-threads", "2", "JOB=1:2",
               "exp/log/x.JOB.log", "echo", "JOB", "threads=$OMP_NUM_THREADS", "|",
               "tr", "a-z", "A-Z", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "--mem 200M --cpus-per-task 2" in (tmp_path / "exp/log/q/x.submit").read_text()
    for n in (1, 2):
        assert f"{n} THREADS=2" in (tmp_path / f"exp/log/x.{n}.log").read_text()
    script = (tmp_path / "exp/log/q/x.sh").read_text()
    assert script.startswith("#!/bin/bash")


def test_failing_pipe_stage_fails_the_task(slurm_cluster, tmp_path):
    r = launch(slurm_cluster, "log/p.log", "false | cat", cwd=tmp_path)
    assert r.returncode == 1
    assert "1 of 1 task failed" in r.stderr and "exit code 1" in r.stderr


def test_out_of_memory_kill_is_detected(slurm_cluster, tmp_path):
    t0 = time.time()
    r = launch(slurm_cluster, "--mem", "60M", "JOB=1:2", "log/m.JOB.log",
               f"if [ JOB = 2 ]; then {sys.executable} -c 'x = bytearray(400 << 20); import time; "
               "time.sleep(30)'; fi", cwd=tmp_path)
    assert time.time() - t0 < 25  # detected, not waited on until the sleep ends
    assert r.returncode == 1
    assert "1 of 2 tasks failed (JOB=2)" in r.stderr
    assert "killed by the scheduler: out of memory (--mem 60M)" in r.stderr
    # The scheduler SIGKILLs the step; the task's shell may write Kaldi's trailer with the
    # kill's code before slurmstepd kills it too (a race; seen once in a full suite run), but
    # never one saying success.
    log = (tmp_path / "log/m.2.log").read_text()
    assert "Ended (code 0)" not in log
    assert "Ended (code" not in log or "Ended (code 137)" in log


def test_task_cancelled_by_scheduler_is_detected(slurm_cluster, tmp_path):
    p = subprocess.Popen([SLURM, "JOB=1:2", "log/c.JOB.log", "sleep 60"], cwd=tmp_path,
                         env=slurm_cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        job_id = wait_running(slurm_cluster, tmp_path / "log/q/c.jobid", 2)
        subprocess.run(["scancel", f"{job_id}_2"], check=True, env=slurm_cluster.env)
        time.sleep(1)
        subprocess.run(["scancel", f"{job_id}_1"], check=True, env=slurm_cluster.env)
        _, err = p.communicate(timeout=40)
    finally:
        p.kill()
    assert p.returncode == 1
    assert "2 of 2 tasks failed (JOB=1,2)" in err
    assert "cancelled (scancel, or the scheduler/administrator)" in err
    assert "CANCELLED" in err


def test_ctrl_c_cancels_the_array_job(slurm_cluster, tmp_path):
    p = subprocess.Popen([SLURM, "JOB=1:4", "log/i.JOB.log", "sleep 60"], cwd=tmp_path,
                         env=slurm_cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        job_id = wait_running(slurm_cluster, tmp_path / "log/q/i.jobid", 1)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 130
    assert f"interrupted: cancelled job {job_id} (scancel {job_id})" in err
    end = time.time() + 20
    while time.time() < end:
        states = {t["JobState"] for t in scontrol_tasks(slurm_cluster, job_id)}
        if states <= {"CANCELLED"}:
            break
        time.sleep(0.3)
    assert states == {"CANCELLED"}


def test_max_jobs_run_serialises_tasks(slurm_cluster, tmp_path):
    r = launch(slurm_cluster, "--max-jobs-run", "1", "JOB=1:2", "log/s.JOB.log",
               "date +%s.%N; sleep 1; date +%s.%N", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "--array=1-2%1" in (tmp_path / "log/q/s.submit").read_text()
    spans = []
    for n in (1, 2):
        nums = [float(l) for l in (tmp_path / f"log/s.{n}.log").read_text().splitlines()
                if re.match(r"^\d+\.\d+$", l)]
        spans.append(tuple(nums))
    spans.sort()
    for (_, end1), (start2, _) in zip(spans, spans[1:]):
        assert start2 >= end1, f"tasks overlap: {spans}"


def test_unknown_option_and_undescribed_option(slurm_cluster, tmp_path):
    r = launch(slurm_cluster, "--memory", "2G", "log/x.log", "true", cwd=tmp_path)
    assert r.returncode == 2 and "unknown option '--memory'" in r.stderr
    conf = tmp_path / "s.conf"
    conf.write_text("command sbatch --export=PATH\noption mem=* --mem $0\n")
    r = launch(slurm_cluster, "--config", str(conf), "--gpu", "1", "log/x.log", "true", cwd=tmp_path)
    assert r.returncode == 2
    assert "option --gpu 1 is not described in" in r.stderr and str(conf) in r.stderr


def test_submission_rejected_by_slurm_is_reported(slurm_cluster, tmp_path):
    r = launch(slurm_cluster, "--mem", "100000G", "log/x.log", "true", cwd=tmp_path)
    assert r.returncode == 1
    assert "submission failed" in r.stderr and "sbatch" in r.stderr
