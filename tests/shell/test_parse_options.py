"""utils/parse_options.sh: Kaldi semantics, and none of its traps (subprocess tests)."""
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARSE = ROOT / "utils" / "parse_options.sh"

SCRIPT = textwrap.dedent("""\
    #!/usr/bin/env bash
    set -euo pipefail
    help_message="Usage: $0 [options] <data> <dir>
     e.g.: $0 data/train exp/x"
    # Begin configuration section.
    nj=4                 # number of parallel jobs
    cmd=run.pl           # job launcher
    # Feature options
    use_gpu=false        # use the GPU
    foo_bar="a b"
    empty=
    # End configuration section.
    not_an_option=1
    . "{parse}"
    printf 'nj=%s\\ncmd=%s\\nuse_gpu=%s\\nfoo_bar=%s\\nempty=%s\\n' "$nj" "$cmd" "$use_gpu" "$foo_bar" "$empty"
    printf 'arg=%s\\n' "$@"
    echo "nargs=$#"
    """)


@pytest.fixture
def script(tmp_path):
    p = tmp_path / "script.sh"
    p.write_text(SCRIPT.replace("{parse}", str(PARSE)))
    p.chmod(0o755)
    return p


def run(script, *args, cwd=None):
    r = subprocess.run([str(script), *args], capture_output=True, text=True,
                       timeout=20, cwd=cwd)
    vals = {}
    args_out = []
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        if k == "arg":
            args_out.append(v)
        else:
            vals[k] = v
    return r, vals, args_out


def test_defaults_and_positionals(script):
    r, v, a = run(script, "x", "y")
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "4" and v["cmd"] == "run.pl" and v["use_gpu"] == "false"
    assert v["foo_bar"] == "a b" and v["empty"] == ""
    assert a == ["x", "y"] and v["nargs"] == "2"


def test_space_and_equals_forms_and_dashes_to_underscores(script):
    r, v, a = run(script, "--nj", "3", "--foo-bar=x=y z", "--use-gpu", "true",
                  "--cmd", "queue.pl -l mem=2G", "d")
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "3"
    assert v["foo_bar"] == "x=y z"  # only the first '=' separates
    assert v["use_gpu"] == "true"
    assert v["cmd"] == "queue.pl -l mem=2G"
    assert a == ["d"]


def test_empty_values_are_allowed(script):
    r, v, _ = run(script, "--cmd", "", "--foo-bar=", "x")
    assert r.returncode == 0, r.stderr
    assert v["cmd"] == "" and v["foo_bar"] == ""


def test_value_starting_with_dashes_is_a_value(script):
    # Kaldi passes option strings through options (--extra-opts "--foo 3").
    r, v, a = run(script, "--cmd", "--mem 2G", "x")
    assert r.returncode == 0, r.stderr
    assert v["cmd"] == "--mem 2G" and a == ["x"]


def test_help_prints_message_and_defaults_and_exits_0(script):
    r, v, _ = run(script, "--nj", "9", "--help")
    assert r.returncode == 0
    out = r.stdout
    assert out.startswith("Usage: ")
    assert " e.g.: " in out
    lines = out.splitlines()
    nj = next(l for l in lines if l.strip().startswith("--nj "))
    assert "4" in nj and "# number of parallel jobs" in nj  # defaults, not the --nj 9
    assert any(l.strip().startswith("--use-gpu false") and "# use the GPU" in l for l in lines)
    assert any(l.strip().startswith('--foo-bar "a b"') for l in lines)
    assert any(l.strip().startswith('--empty ""') for l in lines)
    assert any("# Feature options" in l for l in lines)
    assert "--not-an-option" not in out
    assert "nargs=" not in out  # the script did not go on running


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_flags(script, flag):
    r, _, _ = run(script, flag)
    assert r.returncode == 0 and "--cmd run.pl" in r.stdout


def test_help_without_help_message(tmp_path):
    p = tmp_path / "s.sh"
    p.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\n# Begin configuration section.\n"
                 f"stage=0  # first stage\n# End configuration section.\n. '{PARSE}'\necho ran\n")
    p.chmod(0o755)
    r = subprocess.run([str(p), "--help"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0
    assert "Usage:" in r.stdout and "--stage 0" in r.stdout and "# first stage" in r.stdout
    assert "ran" not in r.stdout


def test_unknown_option_is_an_error_naming_it(script):
    r, _, _ = run(script, "--bogus-opt", "1", "x")
    assert r.returncode == 2
    assert "unknown option '--bogus-opt'" in r.stderr
    assert r.stdout == ""


def test_variable_outside_configuration_block_is_not_an_option(script):
    for opt in ("--not-an-option", "--PATH", "--help-message"):
        r, _, _ = run(script, opt, "1", "x")
        assert r.returncode == 2 and f"unknown option '{opt}'" in r.stderr


@pytest.mark.parametrize("args", [["--nj"], ["x", "--nj"], ["--cmd", "a", "--nj"]])
def test_trailing_option_without_value_is_an_error_not_a_hang(script, args):
    r, _, _ = run(script, *args)
    assert r.returncode == 2
    assert "'--nj'" in r.stderr


def test_missing_value_message(script):
    r, _, _ = run(script, "--nj")
    assert "option '--nj' needs a value" in r.stderr


@pytest.mark.parametrize("val", ["yes", "1", "True", ""])
def test_boolean_must_be_true_or_false(script, val):
    r, _, _ = run(script, "--use-gpu", val, "x")
    assert r.returncode == 2
    assert "'--use-gpu' expects true or false" in r.stderr and f"got '{val}'" in r.stderr


def test_boolean_equals_form_checked_too(script):
    r, _, _ = run(script, "--use-gpu=maybe", "x")
    assert r.returncode == 2 and "expects true or false" in r.stderr


def test_option_after_positional_is_an_error_naming_it(script):
    r, _, _ = run(script, "data", "--nj", "3")
    assert r.returncode == 2
    assert "'--nj'" in r.stderr and "after the positional argument 'data'" in r.stderr
    r, _, _ = run(script, "data", "--nj=3")
    assert r.returncode == 2 and "'--nj'" in r.stderr


def test_double_dash_ends_options(script):
    r, v, a = run(script, "--nj", "2", "--", "--nj", "x")
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "2" and a == ["--nj", "x"]


def test_config_file(script, tmp_path):
    conf = tmp_path / "opts.conf"
    conf.write_text("# a comment\n\n--nj=7   # trailing comment\nuse_gpu=true\n"
                    '--cmd "queue.pl -l a"\n--foo-bar=c#d\n')
    r, v, a = run(script, "--config", str(conf), "x")
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "7" and v["use_gpu"] == "true" and v["cmd"] == "queue.pl -l a"
    assert v["foo_bar"] == "c#d"  # '#' inside a word is not a comment
    assert a == ["x"]
    # The command line wins over the config file, wherever --config appears.
    r, v, _ = run(script, "--nj", "2", f"--config={conf}", "x")
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "2" and v["use_gpu"] == "true"


def test_config_file_errors(script, tmp_path):
    r, _, _ = run(script, "--config", str(tmp_path / "missing.conf"), "x")
    assert r.returncode == 2 and "missing.conf" in r.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text("--nj=3\n--bogus=1\n")
    r, _, _ = run(script, "--config", str(bad), "x")
    assert r.returncode == 2 and "--bogus" in r.stderr and "line 2" in r.stderr
    bad.write_text("--use-gpu=yes\n")
    r, _, _ = run(script, "--config", str(bad), "x")
    assert r.returncode == 2 and "expects true or false" in r.stderr
    bad.write_text("just words\n")
    r, _, _ = run(script, "--config", str(bad), "x")
    assert r.returncode == 2 and "line 1" in r.stderr
    r, _, _ = run(script, "--config")
    assert r.returncode == 2 and "'--config' needs a value" in r.stderr


def test_script_with_own_config_variable_takes_config_as_a_plain_option(tmp_path):
    # e.g. steps/train_cv.sh: --config names the head's YAML, not a file of options.
    p = tmp_path / "own.sh"
    p.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\n# Begin configuration section.\n"
                 f"nj=1\nconfig=   # head YAML\n# End configuration section.\n. '{PARSE}'\n"
                 f"echo \"nj=$nj config=$config args=$*\"\n")
    p.chmod(0o755)
    yaml = tmp_path / "head.yaml"
    yaml.write_text("lr: 0.001\n")          # not in --name=value form: must not be parsed
    for args in (["--config", str(yaml)], [f"--config={yaml}"]):
        r = subprocess.run([str(p), *args, "--nj", "3", "x"], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"nj=3 config={yaml} args=x"
    r = subprocess.run([str(p), "--help"], capture_output=True, text=True, timeout=20)
    assert "--config FILE" not in r.stdout and "head YAML" in r.stdout
    r = subprocess.run([str(p), "--config"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "'--config' needs a value" in r.stderr


def test_works_from_other_cwd_and_through_symlink(script, tmp_path):
    link_dir = tmp_path / "egs"
    link_dir.mkdir()
    (link_dir / "s.sh").symlink_to(script)
    r, v, _ = run("./s.sh", "--nj", "5", "x", cwd=link_dir)
    assert r.returncode == 0, r.stderr
    assert v["nj"] == "5"
    r, _, _ = run("./s.sh", "--help", cwd=link_dir)
    assert r.returncode == 0 and "--nj 4" in r.stdout


def test_leaves_no_internal_variables_or_functions(tmp_path):
    p = tmp_path / "s.sh"
    p.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\n# Begin configuration section.\n"
                 f"nj=1\n# End configuration section.\n. '{PARSE}'\n"
                 "compgen -v _po_ || true\ndeclare -F | grep _po_ || true\necho end\n")
    p.chmod(0o755)
    r = subprocess.run([str(p), "--nj", "2"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "end\n"


def test_script_without_block_accepts_defined_variables(tmp_path):
    # Kaldi's rule for scripts that have no configuration block: any defined variable.
    p = tmp_path / "s.sh"
    p.write_text(f"#!/usr/bin/env bash\nset -euo pipefail\nstage=0\n. '{PARSE}'\necho stage=$stage\n")
    p.chmod(0o755)
    r = subprocess.run([str(p), "--stage", "3"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and r.stdout == "stage=3\n"
    r = subprocess.run([str(p), "--nope", "3"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "unknown option '--nope'" in r.stderr


def test_sourced_inside_function_sets_locals(tmp_path):
    p = tmp_path / "s.sh"
    p.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        set -euo pipefail
        main() {{
          # Begin configuration section.
          local nj=1
          # End configuration section.
          . '{PARSE}'
          echo "nj=$nj args=$*"
        }}
        main "$@"
        """))
    p.chmod(0o755)
    r = subprocess.run([str(p), "--nj", "6", "a"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "nj=6 args=a\n"


def test_options_left_to_a_true_false_toolkit_default_take_only_true_false_or_empty(tmp_path):
    """`x=  # ... ('' = the toolkit default (false))`: the shell forwards only what is set, and
    what is set must be true or false (on the command line and in --config files alike)."""
    p = tmp_path / "s.sh"
    p.write_text("#!/usr/bin/env bash\nset -euo pipefail\n# Begin configuration section.\n"
                 "skip_bad=          # true: go on ('' = the toolkit default (false))\n"
                 "name=              # anything ('' = the toolkit default (x))\n"
                 f"# End configuration section.\n. '{PARSE}'\necho \"[$skip_bad] [$name]\"\n")
    p.chmod(0o755)
    for args, out in ((["--skip-bad", "true"], "[true] []"), (["--skip-bad", ""], "[] []"),
                      (["--name", "maybe"], "[] [maybe]")):
        r = subprocess.run([str(p), *args], capture_output=True, text=True, timeout=20)
        assert r.returncode == 0 and r.stdout.strip() == out, (args, r.stdout, r.stderr)
    r = subprocess.run([str(p), "--skip-bad", "yes"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "option '--skip-bad' expects true or false, got 'yes'" in r.stderr
    cfg = tmp_path / "c.conf"
    cfg.write_text("--skip-bad=1\n")
    r = subprocess.run([str(p), "--config", str(cfg)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and f"in {cfg} line 1" in r.stderr
