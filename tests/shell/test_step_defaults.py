"""The step scripts leave the defaults to their Python entry points (one home for each default).

A step gives each option that Python owns an empty default, says in its --help what that means
(`('' = the toolkit default (X))`) and passes the option on only when the user set it.  These
tests keep that true for every steps/*.sh: X is the argparse default of the entry point's option
of that name (or the module's DEFAULTS where the parser leaves it to them), every option a step
passes on exists in the entry point's parser, and every such '' option is passed on, guarded.
"""

import argparse
import importlib
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from emotion2vec.heads import head_names

REPO = Path(__file__).resolve().parents[2]
STEPS = sorted(p.name for p in (REPO / "steps").glob("*.sh"))
TOOLKIT_DEFAULT = re.compile(r"'' = the toolkit default \(([^()]*)\)")
OPTION = re.compile(r"(?<![\w$-])--([a-z][a-z0-9-]*)")
LAUNCHER_ARRAYS = {"launcher_opts", "gpu_opts"}  # options of the job launcher ($cmd), not Python's


@lru_cache(maxsize=None)
def help_lines(step):
    """{option: (shown default, comment)} of `steps/<step> --help`."""
    r = subprocess.run(["bash", str(REPO / "steps" / step), "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"^\s+--([a-z-]+) (\S+)\s+# (.*)$", r.stdout, re.M)}


def _logical_lines(step):
    """The script's command lines after its configuration block, continuations joined."""
    text = (REPO / "steps" / step).read_text()
    text = text.split("# End configuration section.", 1)[1]
    return [ln for ln in text.replace("\\\n", " ").splitlines() if not ln.lstrip().startswith("#")]


def forwarded(step):
    """[(module or None, option, line)]: the options the step passes to Python; module is the
    entry point of a `python -m emotion2vec.bin.<module>` line, None for an options array."""
    out = []
    for line in _logical_lines(step):
        for m in re.finditer(r"python -m emotion2vec\.bin\.(\w+)(.*)", line):
            args = re.split(r"\|\||&&|;|\)|2>", m.group(2))[0]
            out += [(m.group(1), o, line) for o in OPTION.findall(args)]
        for m in re.finditer(r"\b(\w+)\+?=\(([^)]*)\)", line):
            if m.group(1) not in LAUNCHER_ARRAYS:
                out += [(None, o, line) for o in OPTION.findall(m.group(2))]
    return out


def entry_points(step):
    return sorted({m for line in _logical_lines(step)
                   for m in re.findall(r"python -m emotion2vec\.bin\.(\w+)", line)})


class _Parser(Exception):
    pass


@lru_cache(maxsize=None)
def parser_of(module_name):
    """The entry point's parser: its build_parser(), else the one its main() builds."""
    module = importlib.import_module(f"emotion2vec.bin.{module_name}")
    if hasattr(module, "build_parser"):
        return module.build_parser()

    def grab(self, *a, **k):
        raise _Parser(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(argparse.ArgumentParser, "parse_args", grab)
        try:
            module.main([])
        except _Parser as e:
            return e.args[0]
    raise AssertionError(f"emotion2vec.bin.{module_name}.main built no parser")


def python_defaults(module_name):
    """{option: [default, ...]} of every --option of the entry point (its subcommands' too);
    None defaults are the module's DEFAULTS[dest] when it has them (train_cv_prepare)."""
    module = importlib.import_module(f"emotion2vec.bin.{module_name}")
    table = getattr(module, "DEFAULTS", {})
    out = {}
    todo = [parser_of(module_name)]
    while todo:
        p = todo.pop()
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                todo += a.choices.values()
            default = table.get(a.dest) if a.default is None else a.default
            for s in a.option_strings:
                out.setdefault(s[2:], []).append(default)
    return out


def shown(value):
    """A Python default as a shell user writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def step_defaults(step):
    """{option: {shown default, ...}} over the step's entry points."""
    out = {}
    for mod in entry_points(step):
        for opt, values in python_defaults(mod).items():
            out.setdefault(opt, set()).update(shown(v) for v in values if v is not None)
    return out


@pytest.mark.parametrize("step", STEPS)
def test_help_names_the_python_default_of_each_empty_option(step):
    defaults = step_defaults(step)
    said = {opt: TOOLKIT_DEFAULT.search(comment) for opt, (_, comment) in help_lines(step).items()}
    for opt, m in said.items():
        if m:
            assert help_lines(step)[opt][0] == '""', (step, opt, "a toolkit default must be ''")
            assert defaults.get(opt) == {m.group(1)}, (step, opt, m.group(1), defaults.get(opt))
    # Conversely, an empty option whose Python default means something says which.
    for opt, (value, comment) in help_lines(step).items():
        if value == '""' and defaults.get(opt, set()) - {""}:
            assert said[opt] or "'' =" in comment, (step, opt, "say what '' means")


@pytest.mark.parametrize("step", STEPS)
def test_forwarded_options_exist_in_the_entry_points(step):
    mods = entry_points(step)
    assert mods, step
    for mod, opt, line in forwarded(step):
        where = [mod] if mod else mods
        assert any(opt in python_defaults(m) for m in where), (step, opt, where, line)


@pytest.mark.parametrize("step", STEPS)
def test_toolkit_defaults_are_passed_on_only_when_set(step):
    lines = {}
    for _, opt, line in forwarded(step):
        lines.setdefault(opt, []).append(line)
    for opt, (_, comment) in help_lines(step).items():
        if not TOOLKIT_DEFAULT.search(comment):
            continue
        var = opt.replace("-", "_")
        assert opt in lines, (step, opt, "is never passed on")
        guard = re.compile(rf'^\s*\[ (-z "\${var}"|"\${var}" != true) \] \|\| ')
        for line in lines[opt]:
            assert guard.match(line), (step, opt, line)


def _resolved():
    """Defaults that Python resolves after parsing, as the steps' --help cite them."""
    from emotion2vec.bin import extract_feats, infer
    from emotion2vec.features.featdir import feature_options

    return [
        ("extract_feats.sh", "batch-seconds", f"{extract_feats.GPU_BATCH_SECONDS:g} on cuda"),
        ("extract_feats.sh", "model", f"'' = {feature_options('emotion2vec')['model']} for emotion2vec"),
        ("extract_feats.sh", "num-mel-bins",
         f"{feature_options('fbank')['num_mel_bins']} for fbank, "
         f"{feature_options('logmel')['num_mel_bins']} for logmel"),
        ("infer.sh", "batch-seconds", f"{infer.GPU_BATCH_SECONDS:g} on cuda"),
    ]


def test_help_cites_the_defaults_python_resolves():
    for step, opt, text in _resolved():
        assert text in help_lines(step)[opt][1], (step, opt, text)


def test_train_cv_help_names_the_toolkit_defaults_and_heads():
    from emotion2vec.training.experiment import DEFAULTS

    lines = {opt: comment for opt, (_, comment) in help_lines("train_cv.sh").items()}
    for name, value in DEFAULTS.items():
        assert f"'' = the toolkit default ({shown(value)})" in lines[name.replace("_", "-")], name
    assert set(lines["head"].split(" (")[0].split(" | ")) == set(head_names())
