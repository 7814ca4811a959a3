"""Import structure of the model code: no cycles in emotion2vec.models, and the toolkit never
imports its test fixtures (emotion2vec.testing)."""

import ast
from pathlib import Path

import emotion2vec

PACKAGE = Path(emotion2vec.__file__).parent


def _imports(path: Path):
    """Every emotion2vec module ``path`` imports, at any depth of the file (in-function too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("emotion2vec"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("emotion2vec"):
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_toolkit_never_imports_the_testing_subpackage():
    offenders = [f"{p.relative_to(PACKAGE.parent)} imports {m}"
                 for p in sorted(PACKAGE.rglob("*.py")) if "testing" not in p.parts
                 for m in _imports(p) if m.startswith("emotion2vec.testing")]
    assert offenders == []


def test_no_import_cycle_in_models():
    files = sorted((PACKAGE / "models").glob("*.py"))
    names = {_module(p) for p in files}
    graph = {_module(p): {m for m in _imports(p) if m in names and m != _module(p)
                          and m != "emotion2vec.models"} for p in files}
    done, stack = set(), []

    def visit(n):
        assert n not in stack, "import cycle: " + " -> ".join(stack[stack.index(n):] + [n])
        if n in done:
            return
        stack.append(n)
        for m in sorted(graph[n]):
            visit(m)
        stack.pop()
        done.add(n)

    for n in sorted(graph):
        visit(n)
    assert "emotion2vec.models.encoder" not in graph["emotion2vec.models.fastpath"]
    assert "emotion2vec.models.model" not in graph["emotion2vec.models.chunking"]
