"""cmd.sh: picks a back end and defines train_cmd / extract_cmd / cuda_cmd."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def source(backend=None, extra="", cwd=None, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("E2V_ROOT", "cmd_backend", "KALDI_ROOT")}
    e.update(env or {})
    if backend is not None:
        e["cmd_backend"] = backend
    script = (f'set -euo pipefail; . "{ROOT}/cmd.sh"; '
              'printf "%s\\n" "$cmd_backend" "$train_cmd" "$extract_cmd" "$cuda_cmd"; ' + extra)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=cwd,
                          env=e, timeout=60)


def test_local_is_the_default_and_self_locates():
    r = source()
    assert r.returncode == 0, r.stderr
    backend, train, extract, cuda = r.stdout.splitlines()[:4]
    assert backend == "local"
    assert train == extract == f"{ROOT}/utils/parallel/run.py"
    assert cuda == f"{ROOT}/utils/parallel/run.py --gpu 1"


@pytest.mark.parametrize("backend,launcher,conf", [("slurm", "slurm.py", "slurm.conf"),
                                                   ("sge", "queue.py", "queue.conf")])
def test_cluster_backends(backend, launcher, conf):
    r = source(backend)
    assert r.returncode == 0, r.stderr
    _, train, extract, cuda = r.stdout.splitlines()[:4]
    prefix = f"{ROOT}/utils/parallel/{launcher} --config {ROOT}/conf/{conf}"
    assert train.startswith(prefix) and extract.startswith(prefix) and cuda.startswith(prefix)
    assert "--gpu 1" in cuda and "--gpu" not in extract


def test_kaldi_backend(tmp_path):
    (tmp_path / "egs/wsj/s5/utils/parallel").mkdir(parents=True)
    r = source("kaldi-slurm", env={"KALDI_ROOT": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    train = r.stdout.splitlines()[1]
    assert train.startswith(f"{tmp_path}/egs/wsj/s5/utils/parallel/slurm.pl --config {ROOT}/conf/slurm.conf")
    r = source("kaldi-run")
    assert r.returncode != 0 and "cmd_backend=kaldi-run needs KALDI_ROOT" in r.stderr


def test_unknown_backend_is_an_error():
    r = source("pbs")
    assert r.returncode != 0
    assert "cmd.sh: unknown cmd_backend 'pbs'" in r.stderr


def test_kaldi_style_step_line_runs_locally(tmp_path):
    # Exactly how steps use it; word splitting of $extract_cmd is intended (Kaldi style).
    r = source(extra='$extract_cmd JOB=1:3 "$PWD/exp/log/x.JOB.log" echo JOB MYJOB \\| tr a-z A-Z',
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for n in (1, 2, 3):
        assert f"{n} MYJOB" in (tmp_path / f"exp/log/x.{n}.log").read_text()


@pytest.mark.slurm
@pytest.mark.timeout(120)
def test_slurm_backend_through_cmd_sh(slurm_cluster, tmp_path):
    r = source("slurm", cwd=tmp_path, env=slurm_cluster.env,
               extra='$extract_cmd JOB=1:2 exp/log/y.JOB.log echo hello JOB')
    assert r.returncode == 0, r.stderr
    for n in (1, 2):
        assert f"hello {n}" in (tmp_path / f"exp/log/y.{n}.log").read_text()
    assert "--mem 4G" in (tmp_path / "exp/log/q/y.submit").read_text()
