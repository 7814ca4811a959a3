"""The extraction step on a real single-node Slurm cluster (tools/slurm/start.sh)."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers.featsteps import ROOT, read_feats, run_step

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm_conf(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("slurmctld"):
        pytest.skip("needs root and the slurm packages")
    state = tmp_path_factory.mktemp("slurm")
    p = subprocess.run([str(ROOT / "tools/slurm/start.sh"), "--cpus", "2", str(state)],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        pytest.skip(f"could not start a Slurm cluster: {p.stderr[-500:]}")
    yield str(Path(state) / "slurm.conf")
    subprocess.run([str(ROOT / "tools/slurm/stop.sh"), str(state)], capture_output=True, timeout=120)


def test_step_through_slurm_equals_local(slurm_conf, data_copy, tmp_path):
    env = {"SLURM_CONF": slurm_conf}
    local, seg = data_copy("file"), data_copy("segments")
    run_step("--nj", 1, "--feat-type", "fbank", local, tmp_path / "local")
    run_step("--cmd", "slurm.py", "--nj", 3, "--feat-type", "fbank", seg, tmp_path / "slurm", env=env)
    a, b = read_feats(tmp_path / "slurm"), read_feats(tmp_path / "local")
    assert sorted(a) == sorted(b) and all(np.array_equal(a[u], b[u]) for u in a)
    # a failing utterance: the job fails on the cluster and the step names it
    wav_scp = seg / "wav.scp"
    wav_scp.write_text(wav_scp.read_text().replace("spk2-rec ", "spk2-rec false | cat ", 1)
                       .replace("spk2-rec.flac\n", "spk2-rec.flac |\n"))
    p = run_step("--cmd", "slurm.py", "--nj", 3, "--feat-type", "fbank", seg, tmp_path / "bad",
                 env=env, check=False)
    assert p.returncode == 1
    assert "utterance spk2-u00 (recording spk2-rec): command failed with exit status 1" in p.stderr
