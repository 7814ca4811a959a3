"""queue.py against a live single-node Grid Engine (tools/sge/start.sh), with conf/queue.conf."""

import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUEUE = str(ROOT / "utils" / "parallel" / "queue.py")
CONF = str(ROOT / "conf" / "queue.conf")

pytestmark = pytest.mark.timeout(120)


def launch(cluster, *args, cwd, timeout=90):
    return subprocess.run([QUEUE, "--config", CONF, *args], capture_output=True, text=True,
                          cwd=cwd, env=cluster.env, timeout=timeout)


def test_array_with_failing_task_and_exact_qsub_line(sge_cluster, tmp_path):
    r = launch(sge_cluster, "--mem", "100M", "--num-threads", "2", "JOB=1:3", "log/x.JOB.log",
               "echo task JOB MYJOB threads=$OMP_NUM_THREADS; [ JOB != 2 ] || exit 4",
               cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "1 of 3 tasks failed (JOB=2)" in r.stderr and "JOB=2: exit code 4" in r.stderr
    assert "task 2 MYJOB threads=2" in r.stderr  # the failed log's tail
    q = tmp_path / "log" / "q"
    submitted = shlex.split((q / "x.submit").read_text())
    assert submitted == ["qsub", "-v", "PATH", "-cwd", "-S", "/bin/bash", "-j", "y",
                         "-l", "mem_free=100M", "-pe", "smp", "2", "-terse", "-N", "x",
                         "-t", "1-3", "-o", f"{q}/x.$TASK_ID.out", "-j", "y", f"{q}/x.sh"]
    for n in (1, 3):
        lines = (tmp_path / f"log/x.{n}.log").read_text().splitlines()
        assert lines[0] == f"# echo task {n} MYJOB threads=$OMP_NUM_THREADS; [ {n} != 2 ] || exit 4"
        assert re.match(r"# Ended \(code 0\) at .*, elapsed time \d+ seconds$", lines[-1])


def test_time_limit_kill_is_detected(sge_cluster, tmp_path):
    t0 = time.time()
    r = launch(sge_cluster, "--time", "0:0:2", "log/t.log", "sleep 60", cwd=tmp_path)
    assert time.time() - t0 < 40
    assert r.returncode == 1
    assert "1 of 1 task failed" in r.stderr
    assert "killed by the scheduler" in r.stderr and "h_rt" in r.stderr
    assert "(--time 0:0:2)" in r.stderr


def test_max_jobs_run_serialises_tasks(sge_cluster, tmp_path):
    r = launch(sge_cluster, "--max-jobs-run", "1", "JOB=1:2", "log/s.JOB.log",
               "date +%s.%N; sleep 1; date +%s.%N", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "-tc 1" in (tmp_path / "log/q/s.submit").read_text()
    spans = sorted(tuple(float(l) for l in (tmp_path / f"log/s.{n}.log").read_text().splitlines()
                         if re.match(r"^\d+\.\d+$", l)) for n in (1, 2))
    for (_, end1), (start2, _) in zip(spans, spans[1:]):
        assert start2 >= end1, f"tasks overlap: {spans}"


def test_ctrl_c_deletes_the_job(sge_cluster, tmp_path):
    p = subprocess.Popen([QUEUE, "--config", CONF, "JOB=1:2", "log/i.JOB.log", "sleep 60"],
                         cwd=tmp_path, env=sge_cluster.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        end = time.time() + 30
        jobid = tmp_path / "log/q/i.jobid"
        while time.time() < end and not (jobid.exists() and (tmp_path / "log/i.1.log").exists()):
            time.sleep(0.2)
        job_id = jobid.read_text().strip()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 130
    assert f"interrupted: cancelled job {job_id} (qdel {job_id})" in err
    end = time.time() + 20
    while time.time() < end:
        out = subprocess.run(["qstat", "-u", "*"], capture_output=True, text=True,
                             env=sge_cluster.env).stdout
        if not any(l.split()[:1] == [job_id] for l in out.splitlines()):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"job {job_id} still queued after Ctrl-C:\n{out}")
