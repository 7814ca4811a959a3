"""The package as a user installs it (a built wheel, not this checkout), run from outside the
checkout: it trains (cross-validation with the shipped head configuration) and infers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers.traincorpus import make_corpus

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`pip install --no-deps --target <site> <wheel>`; the dependencies come from this venv.
    The wheel is built from a copy of the sources (a build writes build/ and egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "egs", "tests", "benchmarks"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    wheel = next((tmp / "dist").glob("emotion2vec_recipes-*.whl"))
    site = tmp / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                        str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return site


def run_installed(site: Path, cwd: Path, module: str, *args):
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    env.pop("E2V_ROOT", None)
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_installed_package_trains_and_infers_outside_the_checkout(installed, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([sys.executable, "-c", "import emotion2vec; print(emotion2vec.__file__)"],
                           cwd=work, env={**os.environ, "PYTHONPATH": str(installed)},
                           capture_output=True, text=True)
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr

    # training: prepare (the default head configuration ships in the package), folds, merge
    data, feats = make_corpus(tmp_path / "c", utts_per_spk=4)
    exp = work / "exp"
    for module, args in (("emotion2vec.bin.train_cv_prepare", ("--head", "logreg", data, feats,
                                                               exp)),
                         *(("emotion2vec.bin.train_fold", ("--fold", k, exp)) for k in (1, 2, 3)),
                         ("emotion2vec.bin.train_cv_merge", (exp,))):
        r = run_installed(installed, work, module, *args)
        assert r.returncode == 0, f"{module}: {r.stdout}{r.stderr}"
    assert "WA" in r.stdout and (exp / "results.json").is_file()

    # inference: an emotion2vec+ model directory on two wav files
    from emotion2vec.testing.tiny import make_tiny_checkpoint

    model = make_tiny_checkpoint(tmp_path / "tiny_plus", fmt="plus", seed=3)
    wavs = []
    for i, sec in enumerate((0.8, 1.3)):
        w = tmp_path / f"u{i}.wav"
        sf.write(w, (0.1 * np.sin(np.arange(int(sec * 16000)) * 0.05 * (i + 1))).astype(np.float32),
                 16000)
        wavs.append(w)
    r = run_installed(installed, work, "emotion2vec.bin.infer", "--model", model, "--no-progress",
                      *wavs, work / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len((work / "out" / "utt2emo").read_text().splitlines()) == 2
