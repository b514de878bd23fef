"""Small rooms: no module over 600 lines and no function over 80 in the library and the runtime, and an
import graph that goes one way.

An entry in ALLOWED says why a room may be bigger; there is none today.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.imports import find_cycle, import_graph, imported_names, module_files

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
    graph = import_graph(*(PROJECT_DIR / package for package in PACKAGES))
    assert len(graph) > 100  # both packages were read
    # A submodule importing its own package (which re-exports it, lazily for cdk_sklearn's public names)
    # is the ordinary package pattern, not a cycle: drop those edges.
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    assert find_cycle(graph) is None


def test_the_runtime_never_imports_the_library() -> None:
    for module, path in module_files(PROJECT_DIR / "lambda_runtime").items():
        assert not {n for n in imported_names(module, path) if n.split(".")[0] in ("aws_cdk", "cdk_sklearn")}
