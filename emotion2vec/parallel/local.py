"""utils/parallel/run.py: run the tasks of a `JOB=1:N` call on this machine."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from typing import List, Optional

from .cli import USAGE, UsageError, parse_args
from .guard import Guard, die_with_parent
from .task import Task, describe_code, exit_code, summarize, task_env

PROG = "run.py"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def detect_gpus() -> List[str]:
    """GPU ids this process may use: CUDA_VISIBLE_DEVICES if set, else nvidia-smi's list."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [str(i) for i, line in enumerate(l for l in out.stdout.splitlines() if l.startswith("GPU "))]


class _Terminate(Exception):
    pass


class _Signals:
    """SIGTERM and SIGINT end the run (as _Terminate / KeyboardInterrupt) only inside
    `waitpid`; one that comes while tasks are being started waits until then."""

    def __init__(self):
        self.waiting = False
        self.pending: Optional[int] = None
        self.old = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum, _frame):
        if not self.waiting:
            self.pending = signum
            return
        self.waiting = False
        raise KeyboardInterrupt if signum == signal.SIGINT else _Terminate(signum)

    def waitpid(self):
        self.waiting = True
        try:
            if self.pending is not None:
                self._handle(self.pending, None)
            return os.waitpid(-1, 0)
        finally:
            self.waiting = False

    def restore(self):
        for s, h in self.old.items():
            signal.signal(s, h)


def usage(prog: str = PROG) -> str:
    return USAGE.format(
        prog=prog, mem_note=" (not enforced locally)",
        gpu_note=" (distinct GPU ids in CUDA_VISIBLE_DEVICES per running task)",
        mjr_note=" (default: CPUs / --num-threads, or GPUs / --gpu)",
        time_note=" (not enforced locally)", config_note=" (ignored locally)")


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    try:
        req = parse_args(argv)
        if req.raw_options:  # as Kaldi's run.pl does
            print(f"{PROG}: note: ignoring scheduler switches: {' '.join(req.raw_options)}",
                  file=sys.stderr)
        threads = req.int_option("num_threads", 1, 1)
        ngpu = req.int_option("gpu", 0, 0)
        gpus: List[str] = []
        if ngpu:
            gpus = detect_gpus()
            if not gpus:
                print(f"{PROG}: error: --gpu {ngpu} but this machine has no GPU "
                      "(CUDA_VISIBLE_DEVICES is empty or nvidia-smi lists none)", file=sys.stderr)
                return 1
            if ngpu > len(gpus):
                print(f"{PROG}: error: --gpu {ngpu} but only {len(gpus)} GPU(s) here "
                      f"({','.join(gpus)})", file=sys.stderr)
                return 1
            default_max = max(1, len(gpus) // ngpu)
        else:
            default_max = max(1, cpu_count() // threads)
        max_jobs = req.int_option("max_jobs_run", default_max, 1)
    except UsageError as e:
        print(f"{PROG}: error: {e}\n{usage().splitlines()[0]}", file=sys.stderr)
        return 2
    return run_local(req, threads, ngpu, gpus, max_jobs)


def run_local(req, threads: int, ngpu: int, gpus: List[str], max_jobs: int) -> int:
    pending = collections.deque(req.task_ids)
    running = {}  # pid -> (Task, assigned gpus)
    free_gpus = list(gpus)
    failed = []
    # SIGTERM / Ctrl-C stop the run only while it waits: a task being started is always
    # registered first, so that it is stopped too (see _Signals).
    sig = _Signals()
    guard = Guard(PROG)
    try:
        die_with_parent()
        while pending or running:
            while pending and len(running) < max_jobs and len(free_gpus) >= ngpu:
                tid = pending.popleft()
                mine, free_gpus = free_gpus[:ngpu], free_gpus[ngpu:]
                log = req.log_for(tid)
                try:
                    t = Task(tid, req.command_for(tid), log,
                             task_env(threads if "num_threads" in req.options else None,
                                      mine if ngpu else None), threads=threads)
                except OSError as e:
                    failed.append((tid, log, f"could not start: {e}"))
                    free_gpus += mine
                    continue
                running[t.pid] = (t, mine)
                guard.watch(t.pid)
            if not running:
                continue
            pid, status = sig.waitpid()
            if pid not in running:
                continue
            t, mine = running.pop(pid)
            guard.forget(t.pid)
            free_gpus += mine
            code = t.finish(exit_code(status))
            if code != 0:
                failed.append((t.task_id, t.log, describe_code(code)))
    except (KeyboardInterrupt, _Terminate):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for t, _ in running.values():
            t.kill(signal.SIGTERM)
        for pid, (t, _) in list(running.items()):
            try:
                t.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                t.kill(signal.SIGKILL)
                t.proc.wait()
            t.finish(130)
        print(f"{PROG}: interrupted: stopped {len(running)} running task(s); "
              f"{len(pending)} not started", file=sys.stderr)
        return 130
    finally:
        guard.close()
        sig.restore()
    if failed:
        failed.sort()
        print(summarize(PROG, failed, len(req.task_ids), req.jobname), file=sys.stderr)
        return 1
    return 0
