"""One task: the log header, the command under `bash -c` with pipefail, the log trailer.

Log format (Kaldi-compatible, so `grep -L 'Ended (code 0)' log/*.log` habits keep working):

    # <command>
    # Started at <date> on <host>
    ... output of the command (stdout and stderr) ...
    # Accounting: time=<seconds> threads=<n>
    # Ended (code <N>) at <date>, elapsed time <seconds> seconds

The cluster launchers run `python3 -c ... task.main <spec.json> <task-id>` as the job
script's only command, so a task logs the same way wherever it runs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from .cli import substitute

TRAILER = re.compile(r"^# Ended \(code (-?\d+)\) at .*, elapsed time (\d+) seconds$")


def now_text() -> str:
    return time.strftime("%a %b %d %H:%M:%S %Z %Y")


def bash_script(command: str, path_sh: Optional[str] = None) -> str:
    # pipefail: a failing stage of a pipe fails the task (Kaldi's run.pl loses it).
    head = "set -o pipefail\n"
    if path_sh:
        head += f". {shell_quote(path_sh)} || exit 1\n"
    return head + command + "\n"


def shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def task_env(num_threads: Optional[int], gpus: Optional[List[str]] = None,
             base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ if base is None else base)
    if num_threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(num_threads)
    if gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    return env


class Task:
    """A started task: header written, process running in its own process group."""

    def __init__(self, task_id: int, command: str, log: str, env: Dict[str, str],
                 threads: int = 1, path_sh: Optional[str] = None, cwd: Optional[str] = None):
        self.task_id = task_id
        self.command = command
        self.log = log
        self.threads = threads
        parent = os.path.dirname(log)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self.start = time.time()
        with open(log, "w") as f:
            f.write(f"# {command}\n# Started at {now_text()} on {socket.gethostname()}\n")
        with open(log, "a") as out:
            self.proc = subprocess.Popen(
                ["bash", "-c", bash_script(command, path_sh)], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                start_new_session=True)  # own process group: Ctrl-C handling kills all of it
        self.pid = self.proc.pid

    def finish(self, code: int) -> int:
        """Record the exit status (128+N when killed by signal N) in the trailer."""
        self.proc.returncode = code  # reaped by the caller
        elapsed = int(round(time.time() - self.start))
        with open(self.log, "a+b") as f:  # keep the trailer on its own line
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(f.tell() - 1)
                if f.read(1) != b"\n":
                    f.write(b"\n")
        with open(self.log, "a") as f:
            f.write(f"# Accounting: time={elapsed} threads={self.threads}\n"
                    f"# Ended (code {code}) at {now_text()}, elapsed time {elapsed} seconds\n")
        return code

    def kill(self, sig: int = signal.SIGTERM) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def exit_code(status: int) -> int:
    """os.waitpid status -> shell-style exit code (128+N for signal N)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def read_trailer(log: str) -> Optional[int]:
    """The exit code in a log's trailer, or None when the log has no trailer."""
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines[-3:]):
        m = TRAILER.match(line.strip())
        if m:
            return int(m.group(1))
    return None


def tail(path: str, n: int = 10) -> List[str]:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            return f.read().decode("utf-8", "replace").splitlines()[-n:]
    except OSError as e:
        return [f"(cannot read: {e.strerror})"]


def load_spec(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def run_from_spec(spec: dict, task_id: int) -> int:
    """Run one task of a cluster array job, blocking; returns its exit code."""
    os.chdir(spec["cwd"])
    jobname = spec.get("jobname")
    command = substitute(spec["command"], jobname, task_id)
    log = substitute(spec["log"], jobname, task_id)
    threads = int(spec.get("num_threads") or 1)
    env = task_env(spec.get("num_threads"))
    task = Task(task_id, command, log, env, threads=threads, path_sh=spec.get("path_sh"))

    def on_signal(signum, _frame):
        # Scheduler cancel / time limit: stop the command and still write the trailer.
        task.kill(signal.SIGTERM)
        try:
            task.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            task.kill(signal.SIGKILL)
        task.finish(128 + signum)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _, status = os.waitpid(task.pid, 0)
    return task.finish(exit_code(status))


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        print("usage: task <spec.json> [<task-id>]  (task id default: the scheduler's)", file=sys.stderr)
        return 2
    task_id = argv[1] if len(argv) == 2 else (os.environ.get("SLURM_ARRAY_TASK_ID")
                                              or os.environ.get("SGE_TASK_ID") or "1")
    spec = load_spec(argv[0])
    code = run_from_spec(spec, int(task_id))
    if spec.get("exit_prefix"):  # the exit status where the launcher can read it (Grid Engine)
        write_exit_file(spec["exit_prefix"] + str(int(task_id)), code)
    return min(code, 255)


def write_exit_file(path: str, code: int) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{code}\n")
    os.replace(tmp, path)


def describe_code(code: int) -> str:
    if code > 128 and code - 128 < 65:
        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        return f"killed by {name} (exit code {code})"
    return f"exit code {code}"


def summarize(prog: str, failed: List[Tuple[int, str, str]], total: int, jobname: Optional[str],
              extra_logs: Optional[Dict[int, str]] = None, max_shown: int = 10,
              lines: int = 10) -> str:
    """The failure report: how many, which, and the end of each failed log."""
    name = jobname or "JOB"
    ids = ",".join(str(t) for t, _, _ in failed)
    out = [f"{prog}: {len(failed)} of {total} task{'s' if total != 1 else ''} failed"
           + (f" ({name}={ids})" if jobname else "")]
    for task_id, log, reason in failed[:max_shown]:
        label = f"{name}={task_id}" if jobname else "the task"
        out.append(f"{prog}: {label}: {reason}; log: {log}")
        for line in tail(log, lines):
            out.append(f"    {line}")
        other = (extra_logs or {}).get(task_id)
        if other and os.path.exists(other) and os.path.getsize(other) > 0:
            out.append(f"  scheduler output {other}:")
            for line in tail(other, 5):
                out.append(f"    {line}")
    if len(failed) > max_shown:
        out.append(f"{prog}: ... and {len(failed) - max_shown} more failed tasks")
    return "\n".join(out)
