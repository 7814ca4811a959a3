"""egs/mini end to end: generated corpus -> mixed wav.scp -> fbank -> 5-fold training -> report,
through the real cmd.sh: cmd_backend=local (utils/parallel/run.py), and again with
cmd_backend=slurm on the live single-node Slurm cluster (utils/parallel/slurm.py)."""

import json

import pytest

from helpers.recipetree import run_recipe

pytestmark = pytest.mark.slow
SMALL = ("--sentences", "2")  # 80 utterances: the same code paths, a faster run


def check_run(d, out):
    assert "Stage 0" in out and "Stage 1" in out and "Stage 2" in out and "Stage 3" in out
    exp = d / "exp" / "mini_fbank_e2v_auto_head"
    wav = (d / "data/mini/wav.scp").read_text()
    assert "|\n" in wav and ".ark:" in wav and "/dialog/wav/" in wav  # every wav.scp form
    assert (d / "data/mini/segments").is_file()
    res = json.loads((exp / "results.json").read_text())
    assert res["wa"]["mean"] > 50, res["wa"]  # chance is 25 %: the prosody task is learnt
    rows = [ln for ln in (d / "exp" / "RESULTS.md").read_text().splitlines() if "mini_fbank_e2v" in ln]
    assert len(rows) == 1 and "synthetic corpus" in rows[0]
    assert (exp / "confusion.png").stat().st_size > 1000
    assert f"Confusion matrix: {exp}/confusion.png" in out
    return exp


def _tracked(d):
    return {p.relative_to(d): p.read_bytes() for p in [d / "run.sh", *(d / "conf").rglob("*")]
            if p.is_file()}


def test_mini_end_to_end_local(recipe):
    d = recipe("mini")
    before = _tracked(d)
    r = run_recipe(d, *SMALL)
    assert r.returncode == 0, r.stdout[-3000:]
    exp = check_run(d, r.stdout)
    # a run edits no file of the recipe (make demo leaves `git status` clean), and writes its
    # row into the generated exp/RESULTS.md, never the curated RESULTS.md
    assert _tracked(d) == before and not (d / "RESULTS.md").exists()
    assert "run.py" in (exp / "cmd").read_text() or "run.py" in r.stdout
    # a rerun resumes: the corpus is kept, finished jobs and folds are not redone
    r = run_recipe(d, *SMALL)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "is complete with these settings; kept" in r.stdout
    rows = [ln for ln in (d / "exp" / "RESULTS.md").read_text().splitlines() if "mini_fbank_e2v" in ln]
    assert len(rows) == 2 and rows[0].split("|")[6:10] == rows[1].split("|")[6:10]


@pytest.mark.slurm
def test_mini_end_to_end_slurm(recipe, slurm_cluster):
    d = recipe("mini")
    jobcomp = slurm_cluster.dir / "log" / "jobcomp.txt"
    before = jobcomp.read_text() if jobcomp.is_file() else ""
    r = run_recipe(d, *SMALL, env={**slurm_cluster.env, "cmd_backend": "slurm"})
    assert r.returncode == 0, r.stdout[-3000:]
    check_run(d, r.stdout)
    assert "slurm.py --config" in r.stdout
    # the scheduler itself recorded the work: 2 extraction tasks + 5 training tasks
    new = jobcomp.read_text()[len(before):]
    assert new.count("JobState=COMPLETED") >= 7, new
    assert "JobState=FAILED" not in new
