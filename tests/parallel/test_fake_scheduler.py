"""Scheduler situations a live test cluster cannot stage on demand (a job the scheduler lost,
a controller that stops answering, a Grid Engine error state), with fake sbatch/scontrol/
qsub/qstat/qacct on PATH; plus the Slurm state -> message mapping."""

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from emotion2vec.parallel.cli import parse_args
from emotion2vec.parallel.slurm import Slurm

ROOT = Path(__file__).resolve().parents[2]
SLURM = str(ROOT / "utils" / "parallel" / "slurm.py")
QUEUE = str(ROOT / "utils" / "parallel" / "queue.py")

pytestmark = pytest.mark.timeout(60)

# A fake submit command that runs the job script for each task at once (a synchronous
# "cluster"), except the tasks listed in FAKE_SKIP, and prints a job id.
FAKE_SUBMIT = """\
#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$FAKE_DIR/submitted"
script=${@: -1}
for t in $(seq "$FAKE_START" "$FAKE_END"); do
  case " ${FAKE_SKIP:-} " in *" $t "*) continue ;; esac
  SLURM_ARRAY_TASK_ID=$t SGE_TASK_ID=$t bash "$script" >/dev/null 2>&1
done
echo "$FAKE_ID_OUTPUT"
"""


def fake_bin(tmp_path, scripts):
    d = tmp_path / "fakebin"
    d.mkdir()
    for name, body in scripts.items():
        p = d / name
        p.write_text(textwrap.dedent(body))
        p.chmod(0o755)
    return d


def call(prog, args, tmp_path, bindir, **env):
    e = dict(os.environ)
    e.update({"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path),
              "E2V_POLL_MAX": "0.2", "FAKE_START": "1", "FAKE_END": "2"})
    e.update(env)
    conf = tmp_path / "x.conf"
    conf.write_text("command sbatch\n" if prog == SLURM else
                    "command qsub -cwd\noption mem=* -l mem_free=$0\n")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([prog, "--config", str(conf), *args], capture_output=True, text=True,
                          cwd=work, env=e, timeout=50)


def test_slurm_job_that_vanished_is_reported_not_waited_on(tmp_path):
    bindir = fake_bin(tmp_path, {
        "sbatch": FAKE_SUBMIT,
        "scontrol": "#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n",
        "sacct": "#!/bin/sh\necho 'Slurm accounting storage is disabled' >&2\nexit 1\n",
    })
    r = call(SLURM, ["JOB=1:2", "log/v.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="1 2", FAKE_ID_OUTPUT="77", E2V_VANISH_GRACE="1")
    assert r.returncode == 1
    assert "2 of 2 tasks failed (JOB=1,2)" in r.stderr
    assert "vanished: the scheduler no longer knows job 77 task 1" in r.stderr


def test_slurm_purged_record_falls_back_to_log_trailer(tmp_path):
    bindir = fake_bin(tmp_path, {
        "sbatch": FAKE_SUBMIT,
        "scontrol": "#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n",
        "sacct": "#!/bin/sh\nexit 1\n",
    })
    r = call(SLURM, ["JOB=1:2", "log/p.JOB.log", "[ JOB = 1 ]"], tmp_path, bindir,
             FAKE_ID_OUTPUT="78;cluster")
    assert r.returncode == 1
    assert "1 of 2 tasks failed (JOB=2)" in r.stderr
    assert "exit code 1 (from its log trailer)" in r.stderr
    submitted = (tmp_path / "submitted").read_text()
    assert "--parsable --job-name=p --array=1-2 --output=" in submitted


def test_slurm_controller_not_answering_is_waited_through(tmp_path):
    bindir = fake_bin(tmp_path, {
        "sbatch": FAKE_SUBMIT,
        # Unreachable for the first 4 calls, then the tasks are COMPLETED.
        "scontrol": """\
            #!/bin/sh
            n=$(cat "$FAKE_DIR/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$FAKE_DIR/count"
            if [ $n -le 4 ]; then echo 'Unable to contact slurm controller' >&2; exit 1; fi
            echo 'JobId=80 ArrayJobId=79 ArrayTaskId=1 JobState=COMPLETED Reason=None ExitCode=0:0'
            echo 'JobId=81 ArrayJobId=79 ArrayTaskId=2 JobState=COMPLETED Reason=None ExitCode=0:0'
            """,
    })
    r = call(SLURM, ["JOB=1:2", "log/u.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="1 2", FAKE_ID_OUTPUT="79", E2V_VANISH_GRACE="0.1")
    assert r.returncode == 0, r.stderr
    assert int((tmp_path / "count").read_text()) >= 5


def test_slurm_scheduler_exit_code_wins_over_a_missing_trailer(tmp_path):
    bindir = fake_bin(tmp_path, {
        "sbatch": FAKE_SUBMIT,
        "scontrol": """\
            #!/bin/sh
            echo 'JobId=90 ArrayJobId=89 ArrayTaskId=1 JobState=COMPLETED Reason=None ExitCode=0:0'
            echo 'JobId=91 ArrayJobId=89 ArrayTaskId=2 JobState=NODE_FAIL Reason=None ExitCode=0:0'
            """,
    })
    r = call(SLURM, ["JOB=1:2", "log/n.JOB.log", "true"], tmp_path, bindir, FAKE_ID_OUTPUT="89")
    assert r.returncode == 1
    assert "JOB=2: the node failed (NODE_FAIL)" in r.stderr


def test_slurm_unusual_pending_reason_is_reported(tmp_path):
    bindir = fake_bin(tmp_path, {
        "sbatch": FAKE_SUBMIT,
        "scontrol": """\
            #!/bin/sh
            n=$(cat "$FAKE_DIR/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$FAKE_DIR/count"
            if [ $n -le 2 ]; then
              echo 'JobId=95 ArrayJobId=95 ArrayTaskId=1-2 JobState=PENDING Reason=PartitionTimeLimit ExitCode=0:0'
            else
              echo 'JobId=95 ArrayJobId=95 ArrayTaskId=1-2 JobState=CANCELLED Reason=None ExitCode=0:0'
            fi
            """,
    })
    r = call(SLURM, ["JOB=1:2", "log/w.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="1 2", FAKE_ID_OUTPUT="95")
    assert r.returncode == 1
    assert "note: job 95 task 1 is pending: PartitionTimeLimit" in r.stderr
    assert "2 of 2 tasks failed" in r.stderr and "cancelled" in r.stderr


@pytest.mark.parametrize("state,code,expect", [
    ("COMPLETED", "0:0", None),
    ("FAILED", "2:0", "exit code 2"),
    ("OUT_OF_MEMORY", "0:125", "killed by the scheduler: out of memory (--mem 2G)"),
    ("TIMEOUT", "0:15", "killed by the scheduler: time limit exceeded (--time 0:10:00)"),
    ("CANCELLED", "0:15", "cancelled"),
    ("NODE_FAIL", "0:0", "the node failed"),
    ("PREEMPTED", "0:0", "preempted"),
    ("FAILED", "0:9", "killed by signal 9"),
    ("CANCELLED+", "0:0", "cancelled"),
])
def test_slurm_final_states(state, code, expect):
    s = Slurm()
    s.mem, s.time = "2G", "0:10:00"
    st = s.status(state, code, "None", "5_1", parse_args(["l", "true"]))
    assert st.done
    if expect is None:
        assert st.ok and st.code == 0
    else:
        assert not st.ok and expect in st.reason


@pytest.mark.parametrize("state", ["PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED",
                                   "REQUEUED"])
def test_slurm_live_states_are_waited_on(state):
    assert not Slurm().status(state, "0:0", "None", "5", parse_args(["l", "true"])).done


def test_sge_error_state_is_failed_and_deleted(tmp_path):
    bindir = fake_bin(tmp_path, {
        "qsub": FAKE_SUBMIT,
        "qstat": """\
            #!/bin/sh
            echo 'job-ID  prior   name       user         state submit/start at     queue     slots ja-task-ID'
            echo '-----------------------------------------------------------------------------------------'
            echo '     55 0.50000 e          root         Eqw   11/22/2026 05:15:53               1 2'
            echo '     56 0.50000 other      root         r     11/22/2026 05:15:53 all.q@h       1 2'
            """,
        "qdel": "#!/bin/sh\necho \"$*\" >> \"$FAKE_DIR/deleted\"\n",
        "qacct": "#!/bin/sh\nexit 1\n",
    })
    r = call(QUEUE, ["JOB=1:2", "log/e.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="2", FAKE_ID_OUTPUT="55.1-2:1")
    assert r.returncode == 1
    assert "1 of 2 tasks failed (JOB=2)" in r.stderr
    assert "Grid Engine error state (Eqw)" in r.stderr
    assert (tmp_path / "deleted").read_text().split() == ["55", "-t", "2"]
    assert "exit code" not in r.stderr.split("JOB=2")[0]  # task 1 succeeded from its exit file


def test_sge_vanished_task(tmp_path):
    bindir = fake_bin(tmp_path, {
        "qsub": FAKE_SUBMIT,
        "qstat": "#!/bin/sh\n",
        "qacct": "#!/bin/sh\necho 'error: job id 57 not found' >&2\nexit 1\n",
    })
    r = call(QUEUE, ["JOB=1:2", "log/g.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="2", FAKE_ID_OUTPUT="57.1-2:1", E2V_VANISH_GRACE="1")
    assert r.returncode == 1
    assert "1 of 2 tasks failed (JOB=2)" in r.stderr and "vanished" in r.stderr


def test_sge_scheduler_kill_read_from_qacct(tmp_path):
    bindir = fake_bin(tmp_path, {
        "qsub": FAKE_SUBMIT,
        "qstat": "#!/bin/sh\n",
        "qacct": """\
            #!/bin/sh
            echo '=============================================================='
            echo 'jobnumber    58'
            echo 'taskid       2'
            echo 'failed       100 : assumedly after job'
            echo 'exit_status  137                 (Killed)'
            """,
    })
    r = call(QUEUE, ["--mem", "1G", "JOB=1:2", "log/k.JOB.log", "true"], tmp_path, bindir,
             FAKE_SKIP="2", FAKE_ID_OUTPUT="58.1-2:1")
    assert r.returncode == 1
    assert "JOB=2: killed by the scheduler (100: assumedly after job) (--mem 1G)" in r.stderr
    assert (tmp_path / "submitted").read_text().startswith("-cwd -l mem_free=1G -terse -N k -t 1-2 ")


def test_submit_failure_reported(tmp_path):
    bindir = fake_bin(tmp_path, {"sbatch": "#!/bin/sh\necho 'sbatch: error: invalid partition' >&2\nexit 1\n"})
    r = call(SLURM, ["log/f.log", "true"], tmp_path, bindir)
    assert r.returncode == 1
    assert "submission failed (exit code 1)" in r.stderr and "invalid partition" in r.stderr


@pytest.mark.parametrize("args,expected", [
    ([], []),
    (["--mem", "4G", "--time", "2:00:00", "--num-threads", "4", "--max-jobs-run", "5"],
     ["-l", "mem_free=4G", "-l", "h_rt=2:00:00", "-pe", "smp", "4", "-tc", "5"]),
    (["--gpu", "1", "--mem", "0", "--num-threads", "1", "-q", "long.q"],
     ["-l", "gpu=1", "-q", "g.q", "-q", "long.q"]),
])
def test_exact_qsub_lines_from_conf_queue_conf(tmp_path, args, expected):
    """The qsub command queue.py builds from the shipped conf/queue.conf (no cluster needed)."""
    bindir = fake_bin(tmp_path, {
        "qsub": '#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_DIR/argv"\necho 60.1-3:1\n',
        "qstat": "#!/bin/sh\n",
        "qdel": "#!/bin/sh\n",
        "qacct": "#!/bin/sh\nexit 1\n",
    })
    e = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", FAKE_DIR=str(tmp_path),
             E2V_POLL_MAX="0.1", E2V_VANISH_GRACE="0")
    work = tmp_path / "w"
    work.mkdir()
    r = subprocess.run([QUEUE, "--config", str(ROOT / "conf/queue.conf"), *args, "JOB=1:3",
                        "exp/log/x.JOB.log", "true"], cwd=work, env=e, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1 and "vanished" in r.stderr  # the fake ran nothing
    q = work / "exp/log/q"
    assert (tmp_path / "argv").read_text().splitlines() == [
        "-v", "PATH", "-cwd", "-S", "/bin/bash", "-j", "y", *expected, "-terse", "-N", "x",
        "-t", "1-3", "-o", f"{q}/x.$TASK_ID.out", "-j", "y", f"{q}/x.sh"]


@pytest.mark.parametrize("args,expected", [
    ([], []),
    (["--mem", "4G", "--time", "2:00:00", "--num-threads", "4", "--gpu", "2", "-p", "gpu"],
     ["--mem", "4G", "--time", "2:00:00", "--cpus-per-task", "4", "--gres=gpu:2", "-p", "gpu"]),
])
def test_exact_sbatch_lines_from_conf_slurm_conf(tmp_path, args, expected):
    bindir = fake_bin(tmp_path, {
        "sbatch": '#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_DIR/argv"\necho 61\n',
        "scontrol": "#!/bin/sh\necho 'JobId=61 ArrayTaskId=1-3%2 JobState=CANCELLED Reason=None ExitCode=0:0'\n",
    })
    e = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", FAKE_DIR=str(tmp_path),
             E2V_POLL_MAX="0.1")
    work = tmp_path / "w"
    work.mkdir()
    r = subprocess.run([SLURM, "--config", str(ROOT / "conf/slurm.conf"), *args,
                        "--max-jobs-run", "2", "JOB=1:3", "exp/log/x.JOB.log", "true"],
                       cwd=work, env=e, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "3 of 3 tasks failed" in r.stderr
    q = work / "exp/log/q"
    assert (tmp_path / "argv").read_text().splitlines() == [
        "--export=PATH", "--ntasks=1", *expected, "--parsable", "--job-name=x", "--array=1-3%2",
        f"--output={q}/x.%a.out", f"{q}/x.sh"]
