"""The function's code asset: the ``lambda_runtime`` package, copied without Docker.

``lambda_runtime`` uses relative imports and is addressed as ``lambda_runtime.handler.handler``,
so the zip must hold the folder ``lambda_runtime/`` at its root. The package is located with
``importlib.util.find_spec``, which does not execute it: the construct library never imports the
function code (see DESIGN.md).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Node

PACKAGE = "lambda_runtime"
# Never shipped: host bytecode is for the wrong interpreter, tests are not function code.
_IGNORED = ("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".ruff_cache")


def runtime_source_dir() -> Path:
    """Return the folder of the ``lambda_runtime`` package without importing it.

    Raises
    ------
    FileNotFoundError
        When the package is not installed next to ``cdk_sklearn``.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"cannot find the '{PACKAGE}' package that holds the function code; "
            "install cdk-sklearn (pip install cdk-sklearn) or run from the project root"
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def code_size_bytes(source: Path) -> int:
    """Return the unzipped size of the function code that will be shipped from ``source``."""
    total = 0
    for path in source.rglob("*"):
        skipped = path.suffix in {".pyc", ".pyo"} or any(
            part == "__pycache__" or part.startswith(".") for part in path.relative_to(source).parts
        )
        if path.is_file() and not skipped:
            total += path.stat().st_size
    return total


@jsii.implements(cdk.ILocalBundling)
class _CopyPackage:
    """Local bundling: copy the package into the asset folder. Never needs Docker."""

    def __init__(self, source: Path) -> None:
        self._source = source

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        del options  # the Docker options; nothing to configure for a copy
        shutil.copytree(
            self._source,
            Path(output_dir) / PACKAGE,
            ignore=shutil.ignore_patterns(*_IGNORED),
            dirs_exist_ok=True,
        )
        return True


def function_code(node: Node, runtime: str, bytecode_python: str | None) -> tuple[lambda_.Code, int]:
    """Build the function's code asset.

    Parameters
    ----------
    node
        The node of the construct asking (reserved for warnings).
    runtime
        The Lambda runtime name, e.g. ``python3.13``.
    bytecode_python
        An interpreter of the runtime's version for precompiling, or None.

    Returns
    -------
    tuple of (aws_lambda.Code, int)
        The code asset and its unzipped size in bytes (for the package size budget).
    """
    del node, runtime, bytecode_python  # precompilation of the function code: see packaging
    source = runtime_source_dir()
    code = lambda_.Code.from_asset(
        str(source),
        exclude=list(_IGNORED),
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds, and there is no Docker engine here.
            image=cdk.DockerImage.from_registry("cdk-sklearn/local-bundling-only"),
            local=_CopyPackage(source),
        ),
    )
    return code, code_size_bytes(source)
