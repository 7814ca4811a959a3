"""shellcheck on every tracked shell script (*.sh, path.sh, cmd.sh, and sh/bash-shebang
files), with the repository's .shellcheckrc."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHEBANGS = ("#!/bin/bash", "#!/usr/bin/env bash", "#!/bin/sh", "#!/usr/bin/env sh")


def shell_scripts():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True, timeout=30).stdout.decode()
        files = [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
    found = set()
    for f in files:
        p = ROOT / f
        if not p.is_file() or p.is_symlink():
            continue
        if f.endswith(".sh") or os.path.basename(f) in ("path.sh", "cmd.sh"):
            found.add(f)
            continue
        try:
            with open(p, "rb") as fh:
                first = fh.readline(64).decode("utf-8", "replace").strip()
        except OSError:
            continue
        if first.startswith(SHEBANGS):
            found.add(f)
    for must in ("path.sh", "cmd.sh"):
        if (ROOT / must).exists():
            found.add(must)
    return sorted(found)


@pytest.fixture(scope="module")
def shellcheck():
    exe = shutil.which("shellcheck")
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("shellcheck is not installed (tools/setup.sh --test installs it)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    return exe


def test_every_shell_script_is_shellcheck_clean(shellcheck):
    files = shell_scripts()
    assert "utils/parse_options.sh" in files and "cmd.sh" in files and "path.sh" in files
    r = subprocess.run([shellcheck, "-x", "-f", "gcc", *files], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"shellcheck found problems:\n{r.stdout}{r.stderr}"


def test_shellcheck_check_is_not_vacuous(shellcheck, tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nx=$1\nrm -rf $x/*\n")
    r = subprocess.run([shellcheck, str(bad)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "SC2086" in r.stdout
