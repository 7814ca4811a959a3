"""Recipe copies in a temporary egs/ tree, so tests never write into the repository's recipes.

The copy keeps the recipe's code and settings (run.sh, conf/; not RESULTS.md) and links steps/ utils/
local/ path.sh cmd.sh db.sh to the repository like the real symlinks do; the job back end is
chosen as a user does, with cmd_backend=local|slurm in the environment (the real cmd.sh).
"""

from __future__ import annotations

import pytest

from helpers.recipetree import make_recipe


@pytest.fixture
def recipe(tmp_path):
    return lambda name: make_recipe(name, tmp_path)
