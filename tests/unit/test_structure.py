"""Small rooms: no module over 600 lines and no function over 80 in the library and the runtime, and an
import graph that goes one way.

An entry in ALLOWED says why a room may be bigger; there is none today.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
PACKAGES = ("cdk_sklearn", "lambda_runtime")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
ALLOWED: dict[str, str] = {}
"""``path`` or ``path:function`` -> why it may exceed the limit."""


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (PROJECT_DIR / package).rglob("*.py"))


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def name_of(path: Path) -> str:
    relative = path.relative_to(PROJECT_DIR).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The project modules ``path`` imports, at module level or inside functions."""
    module = name_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = {name_of(p) for p in modules()}
    return {name for name in found if name in known and name != module}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_module_is_at_most_600_lines(path: Path) -> None:
    key = str(path.relative_to(PROJECT_DIR))
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES or key in ALLOWED, f"{key} has {lines} lines"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_function_is_at_most_80_lines(path: Path) -> None:
    key = str(path.relative_to(PROJECT_DIR))
    long = {
        f"{key}:{node.name}": node.end_lineno - node.lineno + 1
        for node in functions(ast.parse(path.read_text()))
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert not {name: n for name, n in long.items() if name not in ALLOWED}


def test_import_graph_has_no_cycle() -> None:
    # An import of a package runs its __init__, so a submodule importing its own package's __init__
    # (which re-exports that submodule) is the ordinary package pattern, not a cycle: drop those edges.
    graph = {name_of(p): imports_of(p) for p in modules()}
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            cycle = (*path[path.index(module) :], module)
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for dependency in sorted(graph.get(module, ())):
            visit(dependency, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_runtime_never_imports_the_library() -> None:
    for path in (PROJECT_DIR / "lambda_runtime").rglob("*.py"):
        assert not {m for m in imports_of(path) if m.startswith("cdk_sklearn")}, path
        text = path.read_text()
        assert "import aws_cdk" not in text and "from aws_cdk" not in text, path
