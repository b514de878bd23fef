"""The runtime's import graph: layers that import one way, with no cycle, and never the library.

Every ``import`` and ``from ... import`` of every ``lambda_runtime`` module is read with :mod:`ast`,
wherever it sits (module level, inside functions, under ``TYPE_CHECKING``): a lazy import is still an
edge. Edges are the modules an import names (``from . import contract`` names ``lambda_runtime.contract``);
the parent packages Python runs first are not counted, since they only re-export.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "lambda_runtime"
SHARED_TYPES = "lambda_runtime.model"
ENGINES = ("lambda_runtime.engines.sklearn", "lambda_runtime.engines.onnx")
BELOW_ENGINES = {
    SHARED_TYPES,
    "lambda_runtime.engines.checks",
    "lambda_runtime.engines.onnx_errors",
    "lambda_runtime.codec",
    "lambda_runtime.errors",
    "lambda_runtime.contract",
    "lambda_runtime.config",
}


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file under ``root``."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every absolute name ``module`` imports (modules, and ``module.name`` for ``from`` imports)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the runtime modules it imports."""
    files = module_files(root)
    return {m: {n for n in imported_names(m, p) if n in files and n != m} for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path of modules, or ``None``."""
    done: set[str] = set()
    for start in sorted(graph):
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        on_path = {start}
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return [*path[path.index(child) :], child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return None


def test_the_runtime_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 20 and graph["lambda_runtime.handler"]  # the whole runtime was read
    assert find_cycle(graph) is None


def test_fails_to_pass_a_graph_with_a_lazy_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


def test_no_runtime_module_imports_aws_cdk_or_cdk_sklearn() -> None:
    offenders = {
        module: sorted(
            n for n in imported_names(module, path) if n.split(".")[0] in ("aws_cdk", "cdk_sklearn")
        )
        for module, path in module_files(ROOT).items()
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_shared_types_import_no_engine_store_or_entry_point() -> None:
    assert import_graph()[SHARED_TYPES] <= {
        "lambda_runtime.codec",
        "lambda_runtime.config",
        "lambda_runtime.contract",
        "lambda_runtime.errors",
    }


def test_engines_import_only_the_layers_below_them() -> None:
    graph = import_graph()
    assert {engine: graph[engine] - BELOW_ENGINES for engine in ENGINES} == {e: set() for e in ENGINES}


def test_only_the_store_imports_an_engine() -> None:
    graph = import_graph()
    importers = {m for m, imported in graph.items() if imported & set(ENGINES)}
    assert importers == {"lambda_runtime.store"}
