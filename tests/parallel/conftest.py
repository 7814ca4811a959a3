"""Fixtures of the launcher tests: a live single-node Grid Engine (tools/sge/start.sh)."""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class SgeCluster:
    dir: Path
    env: dict   # os.environ plus SGE_ROOT, SGE_CELL, ports, PATH with the SGE clients


@pytest.fixture(scope="session")
def sge_cluster():
    """Skips (saying why) when not root or Grid Engine is not installed (the exact qsub lines
    are then still tested with a fake qsub); under CI=true or E2V_REQUIRE_SGE=1 it fails
    instead, since `tools/setup.sh --test` installs it; fails whenever an installed Grid
    Engine does not start."""
    in_ci = os.environ.get("E2V_REQUIRE_SGE") == "1" or os.environ.get("CI") == "true"
    reason = None
    if os.geteuid() != 0:
        reason = "the Grid Engine test cluster needs root"
    elif not (os.access("/usr/sbin/sge_qmaster", os.X_OK) and os.access("/usr/sbin/sge_execd", os.X_OK)
              and os.access("/usr/lib/gridengine/qsub", os.X_OK)):
        reason = ("Grid Engine is not installed (apt-get install gridengine-master "
                  "gridengine-exec gridengine-client)")
    if reason:
        if in_ci:
            pytest.fail(f"Grid Engine test cluster unavailable (E2V_REQUIRE_SGE=1): {reason}")
        pytest.skip(reason)
    state = Path(tempfile.mkdtemp(prefix="e2v-sge-"))
    r = subprocess.run([str(REPO / "tools/sge/start.sh"), str(state)], capture_output=True,
                       text=True, timeout=180)
    if r.returncode != 0:
        subprocess.run([str(REPO / "tools/sge/stop.sh"), str(state)], capture_output=True, timeout=60)
        pytest.fail(f"tools/sge/start.sh failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    env = dict(os.environ)
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("export ")
    for item in line[len("export "):].split():
        k, v = item.split("=", 1)
        env[k] = v.replace("$PATH", os.environ.get("PATH", ""))
    env["E2V_POLL_MAX"] = "0.5"
    try:
        yield SgeCluster(state, env)
    finally:
        subprocess.run([str(REPO / "tools/sge/stop.sh"), str(state)], capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)
