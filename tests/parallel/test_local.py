"""utils/parallel/run.py (local launcher) through its command line."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = str(ROOT / "utils" / "parallel" / "run.py")

pytestmark = pytest.mark.timeout(60)


def run(*args, cwd, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([RUN, *args], capture_output=True, text=True, cwd=cwd, env=e,
                          timeout=timeout)


def spans(tmp_path, pattern, ids):
    out = []
    for n in ids:
        nums = [float(l) for l in (tmp_path / pattern.format(n)).read_text().splitlines()
                if re.match(r"^\d+\.\d+$", l)]
        out.append(tuple(nums))
    return sorted(out)


def test_success_log_format_and_job_substitution(tmp_path):
    r = run("JOB=1:3", "deep/log/x.JOB.log", "echo", "task", "JOB", "MYJOB", "JOB_ID",
            cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == ""
    for n in (1, 2, 3):
        lines = (tmp_path / f"deep/log/x.{n}.log").read_text().splitlines()
        assert lines[0] == f"# echo task {n} MYJOB JOB_ID"
        assert re.match(r"^# Started at .+ on \S+$", lines[1])
        assert lines[2] == f"task {n} MYJOB JOB_ID"
        assert re.match(r"^# Accounting: time=\d+ threads=1$", lines[3])
        assert re.match(r"^# Ended \(code 0\) at .+, elapsed time \d+ seconds$", lines[4])
        assert len(lines) == 5


def test_failures_counted_named_and_shown(tmp_path):
    r = run("JOB=1:4", "log/x.JOB.log",
            "echo start JOB; if [ JOB -ge 3 ]; then echo bad thing JOB >&2; exit JOB; fi",
            cwd=tmp_path)
    assert r.returncode == 1
    assert "run.py: 2 of 4 tasks failed (JOB=3,4)" in r.stderr
    assert "JOB=3: exit code 3; log: log/x.3.log" in r.stderr
    assert "JOB=4: exit code 4; log: log/x.4.log" in r.stderr
    assert "bad thing 3" in r.stderr and "bad thing 4" in r.stderr
    assert "# Ended (code 3)" in (tmp_path / "log/x.3.log").read_text()
    assert "# Ended (code 0)" in (tmp_path / "log/x.1.log").read_text()


def test_single_task_failure_wording(tmp_path):
    r = run("log/one.log", "exit 5", cwd=tmp_path)
    assert r.returncode == 1
    assert "run.py: 1 of 1 task failed" in r.stderr and "the task: exit code 5" in r.stderr


def test_failing_pipe_stage_fails_the_task(tmp_path):
    # Kaldi's run.pl returns 0 here (no pipefail).
    r = run("JOB=1:2", "log/p.JOB.log", "false", "|", "cat", cwd=tmp_path)
    assert r.returncode == 1 and "2 of 2 tasks failed" in r.stderr


def test_kaldi_words_quoting_and_escaped_pipe(tmp_path):
    r = run("JOB=1:2", "log/k.JOB.log", "printf", "'%s\\n'", "a b", "JOB", "|", "tr", "a-z", "A-Z",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "log/k.2.log").read_text().splitlines()
    assert lines[0] == '''# printf '%s\\n' "a b" 2 | tr a-z A-Z'''
    assert lines[2:4] == ["A B", "2"]


def test_output_without_final_newline_keeps_trailer_parseable(tmp_path):
    r = run("log/n.log", "printf", "no-newline", cwd=tmp_path)
    assert r.returncode == 0
    lines = (tmp_path / "log/n.log").read_text().splitlines()
    assert lines[2] == "no-newline" and lines[-1].startswith("# Ended (code 0)")


def test_rerun_replaces_old_log(tmp_path):
    run("log/r.log", "echo first", cwd=tmp_path)
    run("log/r.log", "echo second", cwd=tmp_path)
    text = (tmp_path / "log/r.log").read_text()
    assert "second" in text and "first" not in text


def test_max_jobs_run_1_serialises(tmp_path):
    r = run("--max-jobs-run", "1", "JOB=1:3", "log/s.JOB.log",
            "date +%s.%N; sleep 0.3; date +%s.%N", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = spans(tmp_path, "log/s.{}.log", (1, 2, 3))
    for (_, end1), (start2, _) in zip(s, s[1:]):
        assert start2 >= end1, s


def test_max_jobs_run_3_overlaps(tmp_path):
    r = run("--max-jobs-run", "3", "JOB=1:3", "log/o.JOB.log",
            "date +%s.%N; sleep 0.5; date +%s.%N", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = spans(tmp_path, "log/o.{}.log", (1, 2, 3))
    assert s[2][0] < s[0][1]  # the last started before the first ended


def test_num_threads_exported(tmp_path):
    r = run("--num-threads", "3", "log/t.log", "echo omp=$OMP_NUM_THREADS mkl=$MKL_NUM_THREADS",
            cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0
    text = (tmp_path / "log/t.log").read_text()
    assert "omp=3 mkl=3" in text and "threads=3" in text


def test_gpu_ids_distinct_per_running_task(tmp_path):
    r = run("--gpu", "1", "JOB=1:4", "log/g.JOB.log",
            "echo gpu=$CUDA_VISIBLE_DEVICES; date +%s.%N; sleep 0.4; date +%s.%N",
            cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": "3,5"})
    assert r.returncode == 0, r.stderr
    tasks = []
    for n in range(1, 5):
        text = (tmp_path / f"log/g.{n}.log").read_text()
        gpu = re.search(r"^gpu=(\S*)$", text, re.M).group(1)
        t = [float(l) for l in text.splitlines() if re.match(r"^\d+\.\d+$", l)]
        tasks.append((gpu, t[0], t[1]))
    assert {g for g, _, _ in tasks} == {"3", "5"}
    for i, (g1, s1, e1) in enumerate(tasks):  # overlapping tasks never share a GPU
        for g2, s2, e2 in tasks[i + 1:]:
            if s1 < e2 and s2 < e1:
                assert g1 != g2


def test_gpu_two_per_task(tmp_path):
    r = run("--gpu", "2", "log/g2.log", "echo gpu=$CUDA_VISIBLE_DEVICES", cwd=tmp_path,
            env={"CUDA_VISIBLE_DEVICES": "0,1,2"})
    assert r.returncode == 0
    assert "gpu=0,1" in (tmp_path / "log/g2.log").read_text()


def test_gpu_errors(tmp_path):
    r = run("--gpu", "1", "log/x.log", "true", cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 1 and "--gpu 1 but this machine has no GPU" in r.stderr
    r = run("--gpu", "3", "log/x.log", "true", cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": "0,1"})
    assert r.returncode == 1 and "--gpu 3 but only 2 GPU(s) here (0,1)" in r.stderr


def test_killed_task_detected(tmp_path):
    # As the kernel's OOM killer does: SIGKILL, no chance to clean up.
    r = run("JOB=1:2", "log/k.JOB.log", "if [ JOB = 2 ]; then kill -9 $$; fi; echo ok",
            cwd=tmp_path)
    assert r.returncode == 1
    assert "1 of 2 tasks failed (JOB=2)" in r.stderr
    assert "killed by SIGKILL (exit code 137)" in r.stderr


@pytest.mark.parametrize("argv,message", [
    (["--bogus", "1", "l", "true"], "unknown option '--bogus'"),
    (["--mem"], "option '--mem' needs a value"),
    (["JOB=1:2", "l.JOB.log"], "missing the command"),
    (["JOB=2:1", "l.JOB.log", "true"], "bad job range"),
    (["JOB=1:2", "l.log", "true"], "2 tasks would share one log file 'l.log'"),
    (["--num-threads", "0", "l", "true"], "--num-threads expects an integer >= 1, got '0'"),
    (["--max-jobs-run", "x", "l", "true"], "--max-jobs-run expects an integer >= 1, got 'x'"),
    ([], "missing the log file"),
])
def test_usage_errors_exit_2(tmp_path, argv, message):
    r = run(*argv, cwd=tmp_path)
    assert r.returncode == 2
    assert f"run.py: error: {message}" in r.stderr
    assert "usage: run.py" in r.stderr


def test_help(tmp_path):
    r = run("--help", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("usage: run.py") and "--max-jobs-run" in r.stdout


def test_accepts_cluster_options_locally(tmp_path):
    r = run("--mem", "4G", "--time", "1:00:00", "--config", "conf/slurm.conf", "log/x.log", "true",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_scheduler_switches_ignored_with_a_note(tmp_path):
    r = run("-q", "all.q", "-tc", "1", "log/x.log", "true", cwd=tmp_path)
    assert r.returncode == 0
    assert "run.py: note: ignoring scheduler switches: -q all.q" in r.stderr


def test_unwritable_log_is_a_failure(tmp_path):
    (tmp_path / "file").write_text("")
    r = run("log/ok.log", "true", cwd=tmp_path)
    assert r.returncode == 0
    r = run("file/x.log", "true", cwd=tmp_path)
    assert r.returncode == 1 and "could not start" in r.stderr


def test_ctrl_c_kills_running_tasks(tmp_path):
    p = subprocess.Popen([RUN, "--max-jobs-run", "2", "JOB=1:3", "log/i.JOB.log",
                          "echo $$ > pid.JOB; sleep 30"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.time() + 20
    while time.time() < end and not ((tmp_path / "pid.1").exists() and (tmp_path / "pid.2").exists()):
        time.sleep(0.05)
    pids = [int((tmp_path / f"pid.{n}").read_text()) for n in (1, 2)]
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=20)
    assert p.returncode == 130
    assert "run.py: interrupted: stopped 2 running task(s); 1 not started" in err
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "# Ended (code 130)" in (tmp_path / "log/i.1.log").read_text()
    assert not (tmp_path / "log/i.3.log").exists()


def test_runs_without_the_venv(tmp_path):
    # The wrapper puts the repository on sys.path: any python3 will do, from any directory.
    r = subprocess.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "python3", RUN, "log/v.log",
                        "echo ok"], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "ok" in (tmp_path / "log/v.log").read_text()
