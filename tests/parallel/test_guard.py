"""Tasks die with the launcher that started them, however it dies (emotion2vec.parallel.guard):
run.py killed with SIGKILL stops its tasks; slurm.py / queue.py killed with SIGKILL cancel their
array job; a launcher whose step (E2V_STEP_PID) dies stops as on SIGTERM."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers.killing import alive, wait_for

ROOT = Path(__file__).resolve().parents[2]
RUN = str(ROOT / "utils" / "parallel" / "run.py")
SLURM = str(ROOT / "utils" / "parallel" / "slurm.py")
QUEUE = str(ROOT / "utils" / "parallel" / "queue.py")

pytestmark = pytest.mark.timeout(90)


def pids_in(d: Path):
    return [int(p.read_text()) for p in sorted(d.glob("pid.*")) if p.read_text().strip()]


def test_run_py_killed_with_sigkill_stops_its_tasks(tmp_path):
    # each task records its pid, then sleeps (a long job), in a session of its own
    p = subprocess.Popen([sys.executable, RUN, "--max-jobs-run", "3", "JOB=1:3",
                          str(tmp_path / "log/t.JOB.log"),
                          f"echo $$ > {tmp_path}/pid.JOB; exec sleep 300"],
                         stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: len(pids_in(tmp_path)) == 3), "tasks did not start"
    tasks = pids_in(tmp_path)
    assert all(alive(t) for t in tasks)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert wait_for(lambda: not any(alive(t) for t in tasks), timeout=10), \
        "tasks outlived run.py"
    err = p.stderr.read()
    assert "run.py: the launcher died: stopped 3 running task(s)" in err, err


def test_run_py_stops_when_the_step_that_started_it_dies(tmp_path):
    """A step exports E2V_STEP_PID=$$; when that shell is killed (SIGKILL), run.py stops its
    tasks as on SIGTERM and writes their trailers."""
    step = tmp_path / "step.sh"
    step.write_text(textwrap.dedent(f"""\
        export E2V_STEP_PID=$$
        {sys.executable} {RUN} JOB=1:2 {tmp_path}/log/t.JOB.log \\
            'echo $$ > {tmp_path}/pid.JOB; exec sleep 300'
        """))
    p = subprocess.Popen(["bash", str(step)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: len(pids_in(tmp_path)) == 2), "tasks did not start"
    tasks = pids_in(tmp_path)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert wait_for(lambda: not any(alive(t) for t in tasks), timeout=10), \
        "tasks outlived the step"
    for k in (1, 2):  # run.py itself stopped them: each log has its trailer
        assert wait_for(lambda: "# Ended (code 130)" in (tmp_path / f"log/t.{k}.log").read_text(),
                        timeout=10)


def test_a_nested_launcher_is_not_tied_to_someone_elses_step(tmp_path):
    """E2V_STEP_PID names a living process that is not run.py's parent: run.py ignores it."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        env = {**os.environ, "E2V_STEP_PID": str(sleeper.pid)}
        r = subprocess.run([sys.executable, RUN, "JOB=1:2", str(tmp_path / "t.JOB.log"),
                            "echo task JOB"], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "task 2" in (tmp_path / "t.2.log").read_text()
    finally:
        sleeper.kill()


# A fake cluster whose array job "runs" until scancel / qdel is called: the submit command
# prints a job id; the status commands say it is running; the cancel command records its call.
FAKES = {
    "sbatch": "#!/bin/sh\necho 4242\n",
    "scontrol": "#!/bin/sh\necho 'JobId=4242 ArrayTaskId=1-2 JobState=RUNNING Reason=None'\n",
    "scancel": "#!/bin/sh\necho \"scancel $*\" >> \"$FAKE_DIR/cancelled\"\n",
    "qsub": "#!/bin/sh\necho 4242.1-2:1\n",  # -terse
    "qstat": textwrap.dedent("""\
        #!/bin/sh
        cat <<'EOF'
        job-ID  prior   name       user         state submit/start at     queue   slots ja-task-ID
        -----------------------------------------------------------------------------------------
           4242 0.55500 x          root         r     01/01/2026 00:00:00 all.q@h     1 1,2
        EOF
        """),
    "qdel": "#!/bin/sh\necho \"qdel $*\" >> \"$FAKE_DIR/cancelled\"\n",
}


@pytest.mark.parametrize("prog,cancel", [(SLURM, "scancel 4242"), (QUEUE, "qdel 4242")])
def test_cluster_launcher_killed_with_sigkill_cancels_its_array_job(tmp_path, prog, cancel):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in FAKES.items():
        (bindir / name).write_text(body)
        (bindir / name).chmod(0o755)
    conf = tmp_path / "x.conf"
    conf.write_text("command sbatch\n" if prog == SLURM else "command qsub -cwd\n")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path),
           "E2V_POLL_MAX": "0.2"}
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.Popen([sys.executable, prog, "--config", str(conf), "JOB=1:2", "log/x.JOB.log",
                          "sleep", "100"], cwd=work, env=env, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: list(work.glob("log/q/*.jobid"))), "the job was not submitted"
    time.sleep(0.5)  # polling
    assert not (tmp_path / "cancelled").exists()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert wait_for(lambda: (tmp_path / "cancelled").is_file(), timeout=15), p.stderr.read()
    assert (tmp_path / "cancelled").read_text().strip() == cancel
