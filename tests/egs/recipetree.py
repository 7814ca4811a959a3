"""Recipe copies in a temporary egs/ tree (importable by name: test modules must not import
conftest, whose module name every test directory shares)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "local"))

CORPUS_VARS = ("IEMOCAP", "EMODB", "THAI_SER", "EMOBOX", "EMOBOX_AUDIO")


def make_recipe(name: str, dest: Path) -> Path:
    src = REPO / "egs" / name
    d = dest / "egs" / name
    d.mkdir(parents=True)
    # Code and configuration only: RESULTS.md is documentation, and whatever a user's own runs
    # left in the tree (data/ exp/ feats/ corpus/) must not reach the tests.
    shutil.copy2(src / "run.sh", d / "run.sh")
    shutil.copytree(src / "conf", d / "conf")
    for link in ("steps", "utils", "local", "path.sh", "cmd.sh", "db.sh"):
        if (src / link).is_symlink():
            (d / link).symlink_to(REPO / link)
    return d


def run_recipe(d: Path, *args, env=None, timeout=600) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in CORPUS_VARS}
    e["cmd_backend"] = "local"
    e.update(env or {})
    return subprocess.run(["./run.sh", *map(str, args)], cwd=d, env=e, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
