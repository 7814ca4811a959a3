"""The shape the house keeps (issue 14): modules under 600 lines, functions under 80, no import
cycles in the package, the test-only subpackage never imported by the toolkit, no sys.path
edits in the tests."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "emotion2vec"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def module_name(p: Path) -> str:
    parts = list(p.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}
TREES = {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in MODULES.items()}


def imports_of(m: str):
    """The package modules `m` imports, at any depth of its code (function-level imports count:
    hiding a cycle in a function does not break it)."""
    p, out = MODULES[m], set()
    for node in ast.walk(TREES[m]):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = m.split(".") if p.name == "__init__.py" else m.split(".")[:-1]
                base = ".".join(pkg[:len(pkg) - node.level + 1] + ([base] if base else []))
            out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                    for a in node.names}
    return {d for d in out if d in MODULES and d != m}


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_modules_and_functions_fit_in_a_head():
    long_modules = {m: n for m, p in MODULES.items()
                    if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long_modules, long_modules
    long_functions = [f"{m}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
                      for m, tree in TREES.items() for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long_functions, long_functions


def test_no_import_cycles():
    graph = {m: imports_of(m) for m in MODULES}
    assert cycles(graph) == []
    # the check sees cycles: a made-up one is found
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_the_toolkit_never_imports_its_test_helpers():
    users = sorted(m for m in MODULES if not m.startswith("emotion2vec.testing")
                   and any(d.startswith("emotion2vec.testing") for d in imports_of(m)))
    assert users == []


def test_tests_import_helpers_as_a_package():
    """Helpers live in tests/helpers/ (on the path through pyproject's pytest `pythonpath`)."""
    edit = "sys." + "path."  # spelt so that this file does not match itself
    edits = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                   if any(edit + verb in p.read_text(encoding="utf-8")
                          for verb in ("insert", "append")))
    assert edits == []
