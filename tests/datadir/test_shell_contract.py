"""The shell side: shellcheck clean, --help, usage exit codes, runs from any cwd / bare shell."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SH_TOOLS = ["validate_data_dir.sh", "fix_data_dir.sh", "split_data.sh", "subset_data_dir.sh",
            "copy_data_dir.sh", "combine_data.sh"]
PLAIN_TOOLS = ["filter_scp", "split_scp", "utt2spk_to_spk2utt", "spk2utt_to_utt2spk",
               "data_dir_stats"]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean():
    files = [str(ROOT / "utils" / t) for t in SH_TOOLS + PLAIN_TOOLS]
    r = subprocess.run(["shellcheck", "-x", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", SH_TOOLS)
def test_help_lists_usage_and_options(tool, name):
    r = tool(name, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout and "--help" in r.stdout


def test_help_shows_defaults(tool):
    out = tool("validate_data_dir.sh", "--help").stdout
    assert "--no-wav false" in out and "--classes" in out and "--require" in out
    out = tool("subset_data_dir.sh", "--help").stdout
    assert "--seed 0" in out and "--allow-missing false" in out


@pytest.mark.parametrize("name", PLAIN_TOOLS)
def test_plain_tools_help(tool, name):
    r = tool(name, "--help")
    assert r.returncode == 0 and name in r.stdout


@pytest.mark.parametrize("name", SH_TOOLS)
def test_no_arguments_is_a_usage_error(tool, name):
    r = tool(name)
    assert r.returncode == 2 and "Usage:" in r.stderr


def test_runs_from_a_recipe_dir_and_a_bare_shell(tmp_path, mkdata):
    """egs/<corpus>/utils is a symlink; PATH has no venv; cwd is the recipe dir."""
    recipe = tmp_path / "egs" / "x"
    recipe.mkdir(parents=True)
    (recipe / "utils").symlink_to(ROOT / "utils")
    mkdata(recipe / "data" / "train")
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    r = subprocess.run(["utils/validate_data_dir.sh", "data/train"], cwd=recipe, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["utils/split_data.sh", "data/train", "2"], cwd=recipe, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (recipe / "data" / "train" / "split2" / "2" / "utt2emo").is_file()
    r = subprocess.run(["bash", "-c", "utils/utt2spk_to_spk2utt data/train/utt2spk | head -1"],
                       cwd=recipe, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "spk1 spk1-u1 spk1-u2 spk1-u3\n"
