"""What the Slurm and Grid Engine launchers share: one array job per call, a job script that
runs each task through emotion2vec.parallel.task (same log format as run.py), polling the
scheduler for every task's final state and exit code, and cancelling on Ctrl-C.

Files for a call whose log is <dir>/x.JOB.log (Kaldi puts them in <dir>/q/ as well):
    <dir>/q/x.sh          the job script         <dir>/q/x.json   the task spec
    <dir>/q/x.<n>.out     the scheduler's own output of task n (runner errors, OOM notes)
    <dir>/q/x.exit.<n>    task n's exit status (written atomically by the task)
    <dir>/q/x.submit      the exact submit command      <dir>/q/x.jobid  the job id
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .cli import USAGE, Request, UsageError, parse_args
from .config import ClusterConfig, parse_config
from .guard import Guard, die_with_parent
from .task import read_trailer, summarize

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class TaskStatus:
    done: bool
    ok: bool = False
    code: Optional[int] = None
    reason: str = ""      # why it failed, in words
    state: str = ""       # the scheduler's state name
    note: str = ""        # a pending reason worth telling the user about


class Backend:
    prog = "launcher"
    conf_name = ""
    default_vanish_grace = 10.0  # seconds a task may be missing before it counts as vanished

    @property
    def vanish_grace(self) -> float:
        try:
            return float(os.environ.get("E2V_VANISH_GRACE", self.default_vanish_grace))
        except ValueError:
            return self.default_vanish_grace

    @property
    def max_interval(self) -> float:
        # Polls start at 0.2 s and back off to this (E2V_POLL_MAX overrides; tests use 0.5).
        try:
            return max(0.05, float(os.environ.get("E2V_POLL_MAX", "3")))
        except ValueError:
            return 3.0

    def submit_command(self, base: List[str], req: Request, name: str, qdir: str, script: str,
                       throttle: Optional[int]) -> List[str]:
        raise NotImplementedError

    def parse_job_id(self, stdout: str) -> str:
        raise NotImplementedError

    def poll(self, job_id: str, req: Request) -> Optional[Dict[int, TaskStatus]]:
        """Statuses of the tasks the scheduler still knows; None when it could not be asked."""
        raise NotImplementedError

    def finished_status(self, job_id: str, task_id: int, call: "Call") -> Optional[TaskStatus]:
        """Status of a task the scheduler no longer lists (accounting, exit file, trailer)."""
        code = read_trailer(call.req.log_for(task_id))
        if code is None:
            return None
        return TaskStatus(True, code == 0, code, f"exit code {code} (from its log trailer)")

    def explain(self, call: "Call", task_id: int, st: TaskStatus) -> TaskStatus:
        """Add what the scheduler's own output says about a failed task."""
        return st

    def cancel_command(self, job_id: str) -> List[str]:
        raise NotImplementedError

    def cancel(self, job_id: str) -> str:
        cmd = self.cancel_command(job_id)
        rc, _, err = run_quiet(cmd, timeout=30)
        return " ".join(cmd) + ("" if rc == 0 else f" failed: {err.strip()}")

    def throttle_option(self) -> bool:
        return True


@dataclass
class Call:
    req: Request
    name: str
    qdir: str
    spec_path: str
    script: str
    exit_prefix: str


def job_name(req: Request) -> str:
    base = os.path.basename(req.log_for(req.start) if not req.jobname else
                            re.sub(r"(?<![A-Za-z0-9_])" + re.escape(req.jobname) + r"(?![A-Za-z0-9_])",
                                   "", req.log))
    base = re.sub(r"\.log$", "", base)
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base)
    base = re.sub(r"\.{2,}", ".", base).strip("._-")
    if not base or not base[0].isalpha():
        base = "j" + base
    return base


def find_config(req: Request, conf_name: str) -> str:
    if "config" in req.options:
        return req.options["config"]
    local = os.path.join("conf", conf_name)  # like Kaldi: the recipe's own conf/ first
    return local if os.path.exists(local) else os.path.join(REPO_ROOT, "conf", conf_name)


def path_sh_for(cwd: str) -> Optional[str]:
    for cand in (os.path.join(cwd, "path.sh"),
                 os.path.join(os.environ.get("E2V_ROOT", ""), "path.sh") if os.environ.get("E2V_ROOT") else "",
                 os.path.join(REPO_ROOT, "path.sh")):
        if cand and os.path.isfile(cand):
            return os.path.abspath(cand)
    return None


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def prepare(req: Request, backend: Backend) -> Call:
    cwd = os.getcwd()
    first_log = os.path.abspath(req.log_for(req.start))
    qdir = os.path.join(os.path.dirname(first_log), "q")
    os.makedirs(qdir, exist_ok=True)
    name = job_name(req)
    spec_path = os.path.join(qdir, f"{name}.json")
    script = os.path.join(qdir, f"{name}.sh")
    exit_prefix = os.path.join(qdir, f"{name}.exit.")
    for t in req.task_ids:  # stale results must never be mistaken for this run's
        for stale in (req.log_for(t), exit_prefix + str(t)):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
    spec = {"command": req.command, "log": os.path.join(cwd, req.log), "jobname": req.jobname,
            "cwd": cwd, "num_threads": req.options.get("num_threads"),
            "path_sh": path_sh_for(cwd), "exit_prefix": exit_prefix}
    write_atomic(spec_path, json.dumps(spec, indent=1) + "\n")
    boot = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from emotion2vec.parallel.task import main; sys.exit(main(sys.argv[2:]))")
    write_atomic(script, "\n".join([
        "#!/bin/bash",
        f"# Written by {backend.prog} for: {req.command}",
        f"cd {shlex.quote(cwd)} || exit 1",
        f"py={shlex.quote(sys.executable)}",
        '[ -x "$py" ] || py=python3',
        f'exec "$py" -c {shlex.quote(boot)} {shlex.quote(REPO_ROOT)} {shlex.quote(spec_path)}',
        ""]), 0o755)
    return Call(req, name, qdir, spec_path, script, exit_prefix)


class _Terminate(Exception):
    pass


def _raise_terminate(signum, _frame):
    raise _Terminate(signum)


def usage(backend: Backend) -> str:
    return USAGE.format(
        prog=backend.prog, mem_note="", gpu_note="",
        mjr_note=" (array throttle)", time_note="",
        config_note=f" (default: conf/{backend.conf_name}, else the toolkit's)") + \
        "\nOther single-dash switches (e.g. -p gpu) go to the submit command as they are."


def main(backend: Backend, argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prog = backend.prog
    if argv[:1] in (["-h"], ["--help"]):
        print(usage(backend))
        return 0
    try:
        req = parse_args(argv)
        cfg = parse_config(find_config(req, backend.conf_name))
        given = {k: v for k, v in req.options.items() if k != "config"}
        for opt, minimum in (("num_threads", 1), ("gpu", 0), ("max_jobs_run", 1)):
            req.int_option(opt, 1, minimum)
        throttle = None
        if "max_jobs_run" in given and not cfg.describes("max_jobs_run"):
            throttle = int(given.pop("max_jobs_run"))
        cfg_args = cfg.resolve(given)
    except UsageError as e:
        print(f"{prog}: error: {e}\n{usage(backend).splitlines()[0]}", file=sys.stderr)
        return 2
    try:
        call = prepare(req, backend)
    except OSError as e:
        print(f"{prog}: error: cannot write the job files: {e}", file=sys.stderr)
        return 1
    cmd = backend.submit_command(cfg.command + cfg_args + req.raw_options, req, call.name,
                                 call.qdir, call.script, throttle)
    write_atomic(os.path.join(call.qdir, f"{call.name}.submit"), shlex.join(cmd) + "\n")
    try:
        sub = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"{prog}: error: could not submit ({shlex.join(cmd)}): {e}", file=sys.stderr)
        return 1
    if sub.returncode != 0:
        print(f"{prog}: error: submission failed (exit code {sub.returncode}): {shlex.join(cmd)}\n"
              f"{sub.stderr.strip()}", file=sys.stderr)
        return 1
    job_id = backend.parse_job_id(sub.stdout)
    # From here on the array job dies with this launcher, however it dies.
    guard = Guard(prog)
    guard.on_death(backend.cancel_command(job_id))
    try:
        write_atomic(os.path.join(call.qdir, f"{call.name}.jobid"), job_id + "\n")
        return wait(backend, call, job_id)
    finally:
        guard.close()


def wait(backend: Backend, call: Call, job_id: str) -> int:
    prog, req = backend.prog, call.req
    results: Dict[int, TaskStatus] = {}
    missing_since: Dict[int, float] = {}
    notes: Dict[int, str] = {}
    unreachable_since: Optional[float] = None
    interval = 0.2
    old = {s: signal.signal(s, _raise_terminate) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        die_with_parent()
        while len(results) < len(req.task_ids):
            statuses = backend.poll(job_id, req)
            now = time.time()
            if statuses is None:
                if unreachable_since is None:
                    unreachable_since = now
                elif now - unreachable_since > 60:
                    print(f"{prog}: warning: the scheduler has not answered for "
                          f"{int(now - unreachable_since)} s; still waiting for job {job_id}",
                          file=sys.stderr)
                    unreachable_since = now
            else:
                unreachable_since = None
                for t in req.task_ids:
                    if t in results:
                        continue
                    st = statuses.get(t)
                    if st is None:
                        st = backend.finished_status(job_id, t, call)
                        if st is None:
                            first = missing_since.setdefault(t, now)
                            if now - first > backend.vanish_grace:
                                st = TaskStatus(True, False, None,
                                                f"vanished: the scheduler no longer knows job "
                                                f"{job_id} task {t} and it left no exit status")
                    else:
                        missing_since.pop(t, None)
                    if st is not None and st.done:
                        results[t] = st if st.ok else backend.explain(call, t, st)
                    elif st is not None and st.note and notes.get(t) != st.note:
                        notes[t] = st.note
                        print(f"{prog}: note: job {job_id} task {t} is pending: {st.note}",
                              file=sys.stderr)
            if len(results) < len(req.task_ids):
                time.sleep(interval)
                interval = min(backend.max_interval, interval * 1.5)
    except (KeyboardInterrupt, _Terminate):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        how = backend.cancel(job_id)
        print(f"{prog}: interrupted: cancelled job {job_id} ({how})", file=sys.stderr)
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    failed = [(t, req.log_for(t), st.reason) for t, st in sorted(results.items()) if not st.ok]
    if failed:
        outs = {t: os.path.join(call.qdir, f"{call.name}.{t}.out") for t, _, _ in failed}
        print(summarize(prog, failed, len(req.task_ids), req.jobname, extra_logs=outs),
              file=sys.stderr)
        return 1
    return 0


def expand_ids(spec: str) -> List[int]:
    """Slurm/SGE task-id lists: `3`, `1-5`, `1-7:2`, `2,4-6`, `1-9%2` (throttle dropped)."""
    ids: List[int] = []
    spec = spec.split("%")[0]
    for part in spec.split(","):
        m = re.match(r"^(\d+)(?:-(\d+)(?::(\d+))?)?$", part.strip())
        if not m:
            continue
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        step = int(m.group(3)) if m.group(3) else 1
        ids.extend(range(a, b + 1, step))
    return ids


def run_quiet(cmd: List[str], timeout: float = 60) -> Tuple[int, str, str]:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 255, "", str(e)
    return p.returncode, p.stdout, p.stderr


__all__ = ["Backend", "TaskStatus", "main", "expand_ids", "run_quiet", "ClusterConfig"]
