"""Tasks die with the launcher that started them, however it dies.

run.py starts each task in a session of its own, so that stopping a task stops all of it; that
also puts the tasks out of reach of a kill of the launcher's process group (`timeout -s KILL`,
`kill -9 -PGID`), and slurm.py / queue.py leave their array job running on the cluster when
they are killed.  A guard is a small process, in a session of its own, that the launcher feeds
over a pipe: the process groups of running tasks and the command that cancels a cluster job.
When the pipe closes without the launcher having said `done` (the launcher died: SIGKILL
included), the guard stops those groups (SIGTERM, then SIGKILL after a grace period) and runs
the cancel command.

Also here: `die_with_parent()`, so that a launcher stops (as on SIGTERM: its tasks are stopped
or its job cancelled) when the step script that started it is killed.  Steps ask for it by
exporting E2V_STEP_PID=$$; the launcher honours it only when that is its own parent.

Standard library only; the guard runs this file as a script (no package import: fast).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import List

GRACE = 5.0  # seconds between SIGTERM and SIGKILL of a task's process group


class Guard:
    """The launcher's end of the pipe. All calls are best effort: a guard that could not
    start or has gone only costs the protection, never the run."""

    def __init__(self, prog: str):
        self.out = None
        try:
            r, w = os.pipe()
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), prog], stdin=r,
                stdout=subprocess.DEVNULL, start_new_session=True, close_fds=True)
            os.close(r)
            self.out = os.fdopen(w, "w", buffering=1)
        except OSError as e:
            print(f"{prog}: warning: no guard process ({e}): tasks survive a kill of {prog}",
                  file=sys.stderr)

    def _send(self, line: str) -> None:
        if self.out is not None:
            try:
                self.out.write(line + "\n")
            except (OSError, ValueError):
                self.out = None

    def watch(self, pgid: int) -> None:
        self._send(f"pg {pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"-pg {pgid}")

    def on_death(self, argv: List[str]) -> None:
        """Run `argv` (e.g. scancel <job>) if the launcher dies before `close()`."""
        self._send("cmd " + json.dumps(argv))

    def close(self) -> None:
        """The launcher ends normally (it stopped or waited for its tasks itself)."""
        if self.out is not None:
            self._send("done")
            try:
                self.out.close()
            except OSError:
                pass
            self.out = None
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def _exists(pid: int, kill=os.kill) -> bool:
    """Whether process (or, with kill=os.killpg, process group) `pid` exists."""
    try:
        kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _alive(pgid: int) -> bool:
    return _exists(pgid, os.killpg)


def _stop_groups(groups: List[int]) -> int:
    alive = [g for g in groups if _alive(g)]
    for g in alive:
        try:
            os.killpg(g, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + GRACE
    while time.time() < deadline and any(_alive(g) for g in alive):
        time.sleep(0.05)
    for g in alive:
        try:
            os.killpg(g, signal.SIGKILL)
        except OSError:
            pass
    return len(alive)


def guard_main(prog: str) -> int:
    for s in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)  # the launcher decides; only its end counts
    groups: List[int] = []
    cmds: List[List[str]] = []
    for line in sys.stdin:
        word, _, arg = line.strip().partition(" ")
        if word == "done":
            return 0
        if word == "pg":
            groups.append(int(arg))
        elif word == "-pg" and int(arg) in groups:
            groups.remove(int(arg))
        elif word == "cmd":
            cmds.append(json.loads(arg))
    n = _stop_groups(groups)
    done = []
    for argv in cmds:
        try:
            rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=60).returncode
        except (OSError, subprocess.TimeoutExpired) as e:
            rc = str(e)
        done.append(" ".join(argv) + ("" if rc == 0 else f" (failed: {rc})"))
    if n or done:
        try:
            print(f"{prog}: the launcher died: stopped {n} running task(s)"
                  + (f"; ran {'; '.join(done)}" if done else ""), file=sys.stderr, flush=True)
        except OSError:
            pass
    return 0


def die_with_parent() -> None:
    """SIGTERM this process when the step that started it dies (Linux; see the module doc)."""
    want = os.environ.get("E2V_STEP_PID")
    if not want or not want.isdigit() or not sys.platform.startswith("linux"):
        return
    if str(os.getppid()) != want:
        if _exists(int(want)):
            return  # started by something else under that step (a nested launcher)
        os.kill(os.getpid(), signal.SIGTERM)  # the step died before we got here
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != want:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(guard_main(sys.argv[1] if len(sys.argv) > 1 else "launcher"))
