"""Helpers of the interrupt tests: start a step as a terminal would, kill it, find survivors
(`from helpers.killing import ...`)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def start_in_session(argv, **kw) -> subprocess.Popen:
    """A command in a session of its own, so that the whole of it can be killed, as
    `timeout -s KILL` or Ctrl-C in a terminal do."""
    return subprocess.Popen([str(a) for a in argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def processes_mentioning(pattern: str):
    """`pid command` lines of the processes whose command line matches `pattern`."""
    out = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if "pgrep" not in ln]


def wait_for(pred, timeout: float = 20.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return bool(pred())


def wait_gone(pattern: str, timeout: float = 10.0):
    """[] once no process matches `pattern`, else the survivors after `timeout` seconds."""
    wait_for(lambda: not processes_mentioning(pattern), timeout)
    return processes_mentioning(pattern)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(")")[-1].split()[0] == "Z")


def kill_at_random(start, rng, cycles: int, max_delay: float, survivors: str):
    """`cycles` times: `start()` a run (a Popen from start_in_session), SIGKILL the whole of
    it after a random moment in (0.05, max_delay) s unless it finished first (then it must have
    succeeded), and check that no process matching `survivors` outlives it.  Returns what
    happened per cycle ("killed" | "finished")."""
    import signal

    outcomes = []
    for cycle in range(cycles):
        p = start()
        try:
            out, err = p.communicate(timeout=rng.uniform(0.05, max_delay))
            assert p.returncode == 0, f"cycle {cycle}: {out}{err}"
            outcomes.append("finished")
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            outcomes.append("killed")
        left = wait_gone(survivors, timeout=8)
        assert left == [], f"cycle {cycle}: outlived the step: {left}"
    return outcomes
