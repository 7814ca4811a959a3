"""Suite-wide fixtures.

`slurm_cluster` (session scope): a real single-node Slurm cluster started on this machine
by tools/slurm/start.sh and stopped at the end of the session.  Tests that take it run jobs
through sbatch; SLURM_CONF is set in os.environ for the session, so subprocesses (slurm.py,
sbatch, squeue, a recipe run with cmd_backend=slurm) talk to it.  It skips, saying why, only
when this is not root or the daemons are not installed; under CI=true it fails instead, and
a cluster that is installed but does not start is always a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# A shell starts background commands (`make test &`) with SIGINT ignored, and an ignored signal
# stays ignored across exec: the launchers the Ctrl-C tests start would never see it. Restore
# the normal disposition so those tests test the launchers, not how pytest was started.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]


@dataclass
class SlurmCluster:
    dir: Path       # state, spool, logs (log/slurmctld.log, log/slurmd.log)
    conf: Path      # its slurm.conf (SLURM_CONF)
    env: dict       # os.environ with SLURM_CONF set, for subprocess calls


def _have(prog: str) -> bool:
    return shutil.which(prog) is not None or os.access(f"/usr/sbin/{prog}", os.X_OK)


@pytest.fixture(scope="session")
def slurm_cluster():
    in_ci = os.environ.get("CI", "").lower() == "true"

    def unavailable(reason: str):
        if in_ci:
            pytest.fail(f"Slurm test cluster unavailable under CI=true: {reason}")
        pytest.skip(reason)

    if os.geteuid() != 0:
        unavailable("the Slurm test cluster needs root (slurmd runs jobs as their user)")
    missing = [p for p in ("slurmctld", "slurmd", "munged", "sbatch", "scontrol", "sinfo")
               if not _have(p)]
    if missing:
        unavailable(f"Slurm is not installed (missing {', '.join(missing)}); "
                    "tools/setup.sh --test installs slurmctld slurmd slurm-client munge")
    # A short path: slurmd puts unix sockets under its spool directory (108-byte limit).
    state = Path(tempfile.mkdtemp(prefix="e2v-slurm-"))
    start = subprocess.run([str(REPO / "tools/slurm/start.sh"), str(state)],
                           capture_output=True, text=True, timeout=180)
    if start.returncode != 0:
        subprocess.run([str(REPO / "tools/slurm/stop.sh"), str(state)],
                       capture_output=True, timeout=60)
        pytest.fail(f"tools/slurm/start.sh failed (exit {start.returncode}):\n"
                    f"{start.stdout}{start.stderr}")
    conf = state / "slurm.conf"
    # E2V_POLL_MAX: launchers poll this small cluster more often than a real one.
    new = {"SLURM_CONF": str(conf), "E2V_POLL_MAX": "0.5"}
    old = {k: os.environ.get(k) for k in new}
    os.environ.update(new)
    try:
        yield SlurmCluster(state, conf, dict(os.environ))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        subprocess.run([str(REPO / "tools/slurm/stop.sh"), str(state)],
                       capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)
