"""The runtime's import graph: layers that import one way, with no cycle, and never the library.

Every ``import`` and ``from ... import`` of every ``lambda_runtime`` module is read with :mod:`ast`,
wherever it sits (module level, inside functions, under ``TYPE_CHECKING``): a lazy import is still an
edge. Edges are the modules an import names (``from . import contract`` names ``lambda_runtime.contract``);
the parent packages Python runs first are not counted, since they only re-export.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.imports import find_cycle, import_graph, imported_names, module_files

ROOT = Path(__file__).resolve().parents[3] / "lambda_runtime"
SHARED_TYPES = "lambda_runtime.model"
ENGINES = ("lambda_runtime.engines.sklearn", "lambda_runtime.engines.onnx")
BELOW_ENGINES = {
    SHARED_TYPES,
    "lambda_runtime.engines.checks",
    "lambda_runtime.engines.diagnosis",
    "lambda_runtime.engines.onnx_errors",
    "lambda_runtime.engines.sklearn_columns",
    "lambda_runtime.engines.sklearn_errors",
    "lambda_runtime.codec",
    "lambda_runtime.errors",
    "lambda_runtime.contract",
    "lambda_runtime.config",
    "lambda_runtime.processes",  # standard library only: how many worker processes share the vCPUs
}


def test_the_runtime_import_graph_has_no_cycle() -> None:
    graph = import_graph(ROOT)
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
    assert import_graph(ROOT)[SHARED_TYPES] <= {
        "lambda_runtime.codec",
        "lambda_runtime.config",
        "lambda_runtime.contract",
        "lambda_runtime.errors",
    }


def test_engines_import_only_the_layers_below_them() -> None:
    graph = import_graph(ROOT)
    assert {engine: graph[engine] - BELOW_ENGINES for engine in ENGINES} == {e: set() for e in ENGINES}


def test_only_the_store_imports_an_engine() -> None:
    graph = import_graph(ROOT)
    importers = {m for m, imported in graph.items() if imported & set(ENGINES)}
    assert importers == {"lambda_runtime.store"}
