"""Exclusive locks on output directories and jobs: one writer at a time, never a stale lock.

A lock is `flock(2)` on a small file that is never deleted (deleting lock files races).  The
kernel drops the lock when the holder's last descriptor closes, so a killed run (SIGKILL
included) leaves no stale lock behind.  The holder writes who it is (pid, host, start time,
command) into the file, so that a refused or waiting run can name it.

Two uses:
* a step (shell) holds `<out-dir>/.lock` for its whole run: `exec {fd}<>"$dir/.lock"` then
  `python -m emotion2vec.bin.lock_dir --fd "$fd" --pid $$ ... "$dir"`; the lock lives on in
  the shell's descriptor after the Python process exits (flock locks belong to the open file
  description), and a second step into the same directory is refused;
* a job holds `JobLock(<dir>/.lock.<job>)` while it writes its outputs; a job of an earlier
  run still writing there makes a new one wait for it, so two processes never write one job's
  files.

On a filesystem without locking (some FUSE mounts) a warning says so and the work goes on.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Optional

from emotion2vec.errors import E2VError
from emotion2vec.fileio import PathLike

_NO_LOCKING = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


def owner_record(pid: int, command: str = "") -> str:
    return json.dumps({"pid": pid, "host": socket.gethostname(),
                       "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                       "command": command}) + "\n"


def describe_owner(path: PathLike) -> str:
    """The holder of a lock, in words, from what it wrote into the lock file."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").strip()
        rec = json.loads(text.splitlines()[-1]) if text else {}
    except (OSError, ValueError, IndexError):
        rec = {}
    if not rec:
        return "another process (it did not say which)"
    desc = f"pid {rec.get('pid')} on host {rec.get('host')}, running since {rec.get('started')}"
    if rec.get("command"):
        desc += f": {rec['command']}"
    return desc


def _try_lock(fd: int, path: PathLike) -> Optional[bool]:
    """True: locked; False: someone holds it; None: this filesystem has no locking."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as e:
        if e.errno in _NO_LOCKING:
            print(f"warning: {path}: this filesystem does not support file locks "
                  f"({e.strerror}); concurrent runs into it are not detected", file=sys.stderr)
            return None
        raise


def _record(fd: int, pid: int, command: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, owner_record(pid, command).encode(), 0)


def lock_fd(fd: int, path: PathLike, pid: int, command: str = "", what: str = "") -> None:
    """Lock the open descriptor `fd` of `path` for a step whose shell is `pid`, or raise an
    E2VError naming the run that holds it."""
    got = _try_lock(fd, path)
    if got is False:
        holder = describe_owner(path) + _gone_note(path)
        raise E2VError(f"{what or Path(path).parent} is in use by another run ({holder}); "
                       "wait for it to finish or stop it (its jobs stop with it), then rerun")
    if got:
        _record(fd, pid, command)


def _gone_note(path: PathLike) -> str:
    """When the recorded holder is dead, processes it started still hold the lock."""
    try:
        rec = json.loads(Path(path).read_text().strip().splitlines()[-1])
        if rec.get("host") != socket.gethostname():
            return ""
        os.kill(int(rec["pid"]), 0)
        return ""
    except ProcessLookupError:
        return (f"; that process is gone but processes it started still hold the lock: "
                f"`fuser -v {path}` lists them")
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""


class JobLock:
    """`with JobLock(path, what):` exclusive; waits (saying for whom) while another holds it."""

    def __init__(self, path: PathLike, what: str, command: str = ""):
        self.path, self.what, self.command = Path(path), what, command
        self.fd: Optional[int] = None

    def __enter__(self) -> "JobLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        got = _try_lock(self.fd, self.path)
        if got is False:
            print(f"{self.what}: waiting for {describe_owner(self.path)} (an earlier run's job "
                  "still writing here) to finish", file=sys.stderr, flush=True)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            got = True
        if got:
            _record(self.fd, os.getpid(), self.command or " ".join(sys.argv))
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None


def busy(path: PathLike) -> Optional[str]:
    """Who holds the lock file `path` now (None when nobody does or it does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd, path) is False:
            return describe_owner(path)
        return None
    finally:
        os.close(fd)


__all__ = ["lock_fd", "JobLock", "busy", "describe_owner", "owner_record"]
