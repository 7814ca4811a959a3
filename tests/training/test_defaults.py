"""steps/train_cv.sh leaves the defaults to the Python layer: its --help must say them right."""

import re
import subprocess
from pathlib import Path

from emotion2vec.heads import head_names
from emotion2vec.training.experiment import DEFAULTS

REPO = Path(__file__).resolve().parents[2]


def test_train_cv_help_names_the_toolkit_defaults_and_heads():
    r = subprocess.run([str(REPO / "steps/train_cv.sh"), "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    lines = {m.group(1): m.group(2) for m in
             re.finditer(r"^\s+--([a-z-]+) \S+\s+# (.*)$", r.stdout + r.stderr, re.M)}
    for name, value in DEFAULTS.items():
        want = f"'' = the toolkit default ({str(value).lower() if isinstance(value, bool) else value})"
        assert want in lines[name.replace("_", "-")], (name, lines[name.replace("_", "-")])
    assert set(lines["head"].split(" (")[0].split(" | ")) == set(head_names())
