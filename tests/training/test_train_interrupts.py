"""steps/train_cv.sh under kills, concurrent runs and changed inputs: one run per experiment
dir, fold jobs die with the step, a rerun after any kill gives the results of a clean run,
and folds trained on other features are retrained, never reused."""

import json
import os
import random
import signal
import subprocess
from pathlib import Path

import kaldi_native_io as kio
import numpy as np

from helpers.killing import kill_at_random, processes_mentioning, start_in_session, wait_for
from helpers.traincorpus import make_corpus

REPO = Path(__file__).resolve().parents[2]
STEP = REPO / "steps" / "train_cv.sh"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
# Six speakers, leave-one-speaker-out: six fold jobs of a few seconds each (torch start-up).
ARGS = ("--head", "logreg", "--cv", "leave-one-speaker-out", "--valid", "none")


def run(data, feats, exp, *extra):
    return subprocess.run(["bash", str(STEP), *ARGS, *extra, str(data), str(feats), str(exp)],
                          capture_output=True, text=True, env=ENV, timeout=600)


def start(data, feats, exp):
    return start_in_session(["bash", STEP, *ARGS, data, feats, exp], env=ENV)


def fold_logs(exp: Path) -> str:
    return "".join(p.read_text() for p in sorted((exp / "log").glob("train.*.log")))


def predictions(exp: Path) -> str:
    return (exp / "predictions").read_text()


def test_kills_concurrency_and_changed_features(tmp_path):
    data, feats = make_corpus(tmp_path / "c", utts_per_spk=8)
    clean = tmp_path / "clean"
    r = run(data, feats, clean)
    assert r.returncode == 0, r.stderr

    # a second run into the same experiment dir is refused, naming the first
    exp = tmp_path / "exp"
    first = start(data, feats, exp)
    assert wait_for(lambda: (exp / "log").is_dir())
    second = run(data, feats, exp)
    assert second.returncode == 1
    assert f"{exp} is in use by another run (pid {first.pid} on host" in second.stderr
    first.kill()
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()

    # SIGKILL of the whole step at random moments, each followed by a rerun at once
    kill_at_random(lambda: start(data, feats, exp), random.Random(7), 5, 8.0,
                   f"train_fold --fold [0-9]+ {exp}")
    r = run(data, feats, exp)
    assert r.returncode == 0, r.stderr
    assert predictions(exp) == predictions(clean)
    assert json.loads((exp / "results.json").read_text())["ua"] == \
        json.loads((clean / "results.json").read_text())["ua"]

    # the features change at the same path (re-extracted from replaced audio): every fold is
    # retrained on them, none of the old results is reused
    scp = feats / "feats.scp"
    keys = [ln.split()[0] for ln in scp.read_text().splitlines()]
    reader = kio.RandomAccessFloatMatrixReader(f"scp:{scp}")
    mats = {k: reader[k].copy() for k in keys}
    reader.close()
    rng_np = np.random.default_rng(1)
    w = kio.FloatMatrixWriter(f"ark,scp:{feats / 'feats.ark'},{scp}")
    for k in keys:
        w.write(k, mats[k] + rng_np.normal(scale=3.0, size=mats[k].shape).astype(np.float32))
    w.close()
    scp.write_text(scp.read_text().replace(" feats.ark", f" {feats / 'feats.ark'}"))
    before = predictions(exp)
    r = run(data, feats, exp)
    assert r.returncode == 0, r.stderr
    assert fold_logs(exp).count("retraining: its inputs changed since") == 6, fold_logs(exp)
    assert predictions(exp) != before
    r = run(data, feats, exp)  # and now they are done for these inputs
    logs = fold_logs(exp)
    assert "retraining" not in logs and logs.count("already done") == 6, logs


def test_experiment_dir_may_not_be_an_input(tmp_path):
    data, feats = make_corpus(tmp_path / "c", utts_per_spk=4)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    r = run(data, feats, data)
    assert r.returncode == 1 and "<exp-dir> is the input" in r.stderr
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert not processes_mentioning(f"train_fold .* {data}")
