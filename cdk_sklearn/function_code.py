"""The function's code asset: the ``lambda_runtime`` package, copied without Docker.

``lambda_runtime`` uses relative imports and is addressed as ``lambda_runtime.handler.handler``,
so the zip must hold the folder ``lambda_runtime/`` at its root. The package is located with
``importlib.util.find_spec``, which does not execute it: the construct library never imports the
function code (it reads the runtime's files, and its contract module, never the rest).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.packaging.bytecode import Interpreter, compile_bytecode, find_interpreter

PACKAGE = "lambda_runtime"
# Never copied: host bytecode may be for another interpreter (target .pyc are compiled instead).
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


def resolve_code_paths(code_paths: Sequence[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """Check the user's ``code_paths`` and return them absolute.

    Each is a ``.py`` module or a package folder, shipped at the function code's root (beside
    ``lambda_runtime/``) so the model's own functions and classes import as they did in training.

    Raises
    ------
    ValueError
        Naming the path and what is allowed: it must exist, be a ``.py`` file or a folder, not be
        called ``lambda_runtime`` and not share its import name with another code path.
    """
    if isinstance(code_paths, str | os.PathLike):
        raise ValueError(f"code_paths must be a list of paths, got the single path {str(code_paths)!r}")
    resolved: list[Path] = []
    names: dict[str, Path] = {}
    for entry in code_paths:
        path = Path(entry).expanduser().resolve()
        if not (path.is_dir() or (path.is_file() and path.suffix == ".py")):
            raise ValueError(
                f"code_paths entry {str(entry)!r} is invalid: expected an existing .py file or package folder"
            )
        name = path.stem if path.is_file() else path.name
        if name == PACKAGE:
            raise ValueError(f"code_paths entry {str(entry)!r} is invalid: '{PACKAGE}' is the function's own")
        if name in names:
            raise ValueError(
                f"code_paths entries {str(names[name])!r} and {str(path)!r} both import as '{name}'"
            )
        names[name] = path
        resolved.append(path)
    return tuple(resolved)


def _code_paths_bytes(code_paths: Sequence[Path]) -> int:
    total = 0
    for path in code_paths:
        total += path.stat().st_size if path.is_file() else code_size_bytes(path)
    return total


@jsii.implements(cdk.ILocalBundling)
class _CopyPackage:
    """Local bundling: copy the package into the asset folder. Never needs Docker."""

    def __init__(
        self, source: Path, interpreter: Interpreter | None, code_paths: Sequence[Path] = ()
    ) -> None:
        self._source = source
        self._interpreter = interpreter
        self._code_paths = tuple(code_paths)

    # jsii passes the Docker options positionally although the typed interface says keyword-only.
    def try_bundle(self, output_dir: str, *_options: Any, **_kw_options: Any) -> bool:
        shutil.copytree(
            self._source,
            Path(output_dir) / PACKAGE,
            ignore=shutil.ignore_patterns(*_IGNORED),
            dirs_exist_ok=True,
        )
        for path in self._code_paths:
            if path.is_file():
                shutil.copy2(path, Path(output_dir) / path.name)
            else:
                shutil.copytree(
                    path,
                    Path(output_dir) / path.name,
                    ignore=shutil.ignore_patterns(*_IGNORED),
                    dirs_exist_ok=True,
                )
        # /var/task is read-only: without .pyc of the runtime's version every cold start
        # compiles the handler's modules again.
        if self._interpreter is not None:
            compile_bytecode(Path(output_dir), self._interpreter, "/var/task")
        return True


def function_code(
    runtime: str,
    bytecode_python: str | None,
    code_paths: Sequence[str | os.PathLike[str]] = (),
) -> tuple[lambda_.Code, int]:
    """Build the function's code asset.

    Parameters
    ----------
    runtime
        The Lambda runtime name, e.g. ``python3.13``.
    bytecode_python
        An interpreter of the runtime's version for precompiling, or None.
    code_paths
        The user's ``.py`` modules and package folders, shipped beside ``lambda_runtime/`` (see
        :func:`resolve_code_paths`).

    Returns
    -------
    tuple of (aws_lambda.Code, int)
        The code asset and its unzipped size in bytes (for the package size budget).
    """
    user_code = resolve_code_paths(code_paths)
    source = runtime_source_dir()
    major, minor = runtime.removeprefix("python").split(".")
    # Without an interpreter of the runtime's version the layer build says so, once per synth.
    interpreter = find_interpreter((int(major), int(minor)), bytecode_python)
    code = lambda_.Code.from_asset(
        str(source),
        exclude=list(_IGNORED),
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds, and there is no Docker engine here.
            image=cdk.DockerImage.from_registry("cdk-sklearn/local-bundling-only"),
            local=_CopyPackage(source, interpreter, user_code),
        ),
        # The source hash covers lambda_runtime/ only: the user's code must change it too.
        asset_hash=_hash_with(source, user_code) if user_code else None,
        asset_hash_type=cdk.AssetHashType.CUSTOM if user_code else None,
    )
    return code, code_size_bytes(source) + _code_paths_bytes(user_code)


def _hash_with(source: Path, code_paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for root in (source, *code_paths):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix in {".pyc", ".pyo"} or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root.parent).as_posix()
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
