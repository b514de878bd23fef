"""The layer build pipeline: install -> prune -> compile -> lock -> measure, cached by its inputs.

The result is a folder laid out as Lambda expects a Python layer (``python/`` becomes ``/opt/python``)
with ``requirements.lock`` beside ``python/``. It is built once per cache key into the user cache and
then reused: a repeated synth only reads ``build.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdk_sklearn.packaging.budget import Budget, directory_size, package_sizes
from cdk_sklearn.packaging.bytecode import Interpreter, compile_bytecode, find_interpreter
from cdk_sklearn.packaging.cache import build_key, cache_root, tree_hash
from cdk_sklearn.packaging.closure import fail_on, library_problems, module_problems
from cdk_sklearn.packaging.install import install, install_without_dependencies, write_lock
from cdk_sklearn.packaging.libraries import add_missing_libraries
from cdk_sklearn.packaging.prune import prune
from cdk_sklearn.packaging.runtime_system import runtime_system
from cdk_sklearn.packaging.slim import make_sourceless
from cdk_sklearn.packaging.target import LambdaTarget

LAYER_RUNTIME_PATH = "/opt/python"
LOCK_NAME = "requirements.lock"
_MANIFEST = "build.json"


class BytecodeWarning(UserWarning):
    """No interpreter of the target version was found: the layer ships without .pyc."""


@dataclass(frozen=True)
class LayerBuild:
    """A built layer in the cache.

    Attributes
    ----------
    layer_dir
        The folder to ship as the layer (holds ``python/`` and ``requirements.lock``).
    key
        The cache key (inputs).
    content_hash
        SHA-256 of the layer's files: the CDK asset hash, so it changes exactly when the content does.
    lock
        ``name==version`` of every installed distribution.
    packages
        Bytes per top-level package.
    layer_bytes
        Unzipped size of ``layer_dir``.
    bytecode_tag
        ``cpython-313`` when .pyc were compiled, else ``None``.
    slim
        True when the modules ship as sourceless .pyc (no .py), see :mod:`cdk_sklearn.packaging.slim`.
    pruned_bytes
        What pruning removed.
    reused
        True when taken from the cache without building.
    """

    layer_dir: Path
    key: str
    content_hash: str
    lock: tuple[str, ...]
    packages: dict[str, int]
    layer_bytes: int
    bytecode_tag: str | None
    pruned_bytes: int
    reused: bool
    slim: bool = False
    added_libraries: tuple[str, ...] = ()
    library_problems: tuple[str, ...] = ()

    def budget(self, function_code_bytes: int = 0) -> Budget:
        """This layer's :class:`Budget` next to ``function_code_bytes`` of function code."""
        return Budget(self.packages, self.layer_bytes, function_code_bytes)


def merge_requirements(model_requirements: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    """Model pins first, then extras not already listed (order kept, exact duplicates dropped)."""
    merged: list[str] = []
    for requirement in (*model_requirements, *extra):
        cleaned = requirement.strip()
        if not cleaned:
            continue
        if cleaned.startswith("-"):
            raise ValueError(
                f"extra requirement {requirement!r} is a pip option; give package requirements only, "
                "e.g. 'pandas>=2' or 'xgboost==3.0.0'"
            )
        if cleaned not in merged:
            merged.append(cleaned)
    return tuple(merged)


def resolve_bytecode(target: LambdaTarget, explicit: str | None) -> Interpreter | None:
    """The interpreter that will compile .pyc for ``target``, warning once when there is none."""
    interpreter = find_interpreter(target.version_tuple, explicit)
    if interpreter is None:
        warnings.warn(
            f"no Python {target.python_version} found to compile bytecode for {target.runtime}: the layer "
            f"ships without .pyc and every cold start compiles what it imports (about a second more). "
            f"Install python{target.python_version} or name one with bytecode_python= or "
            "CDK_SKLEARN_BYTECODE_PYTHON",
            BytecodeWarning,
            stacklevel=3,
        )
    return interpreter


def layer_key(
    requirements: Sequence[str],
    target: LambdaTarget,
    interpreter: Interpreter | None,
    slim: bool = False,
    without_dependencies: Sequence[str] = (),
) -> str:
    """The cache key for these inputs (no network, no build)."""
    tag = interpreter.cache_tag if interpreter else None
    # Marked so "x" installed with and without its dependencies never share a key.
    inputs = (*requirements, *(f"{r} --no-deps" for r in without_dependencies))
    return build_key(inputs, target.runtime, target.architecture, tag, slim)


def check_slim(target: LambdaTarget, interpreter: Interpreter | None) -> None:
    """Raise ``ValueError`` when a slim layer is asked for but nothing can compile its bytecode.

    A slim layer ships only .pyc; without a CPython of the runtime's version there would be no
    module left to import.
    """
    if interpreter is None:
        raise ValueError(
            f"a slim layer ships bytecode instead of sources, but no Python {target.python_version} was "
            f"found to compile it for {target.runtime}; install python{target.python_version}, name one "
            "with bytecode_python= / --bytecode-python or CDK_SKLEARN_BYTECODE_PYTHON, or build the full "
            "layer (slim=False)"
        )


def build_layer(
    requirements: Sequence[str],
    target: LambdaTarget,
    interpreter: Interpreter | None,
    *,
    slim: bool = False,
    log: Callable[[str], None] | None = None,
    without_dependencies: Sequence[str] = (),
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
) -> LayerBuild:
    """Build (or reuse from the cache) the layer for ``requirements`` on ``target``.

    Parameters
    ----------
    requirements
        pip requirement strings: the model's pins and any extras.
    target
        Lambda runtime and architecture.
    interpreter
        CPython of the target version for .pyc, or ``None`` to ship without bytecode.
    slim
        Ship each module as a sourceless .pyc instead of .py + __pycache__ (needs ``interpreter``).
    log
        Where progress lines go (stderr by default).
    without_dependencies
        Requirements installed after the others with ``--no-deps`` (full wheels whose GPU-only
        dependencies are skipped, see :mod:`cdk_sklearn.packaging.cpu_wheels`).
    modules, code_paths
        The dotted modules the model references and the user's code paths: the closure check
        (:mod:`cdk_sklearn.packaging.closure`) requires each module in the layer or the code paths.

    Returns
    -------
    LayerBuild

    Raises
    ------
    cdk_sklearn.packaging.install.ResolutionError
        When a requirement has no wheel for the target.
    ValueError
        When ``slim`` is asked for without an ``interpreter``.
    cdk_sklearn.packaging.closure.ClosureError
        When a referenced module, a shared library or a symbol version would be missing on Lambda
        (checked on cached builds too: the ELF facts are recorded when the layer is built).
    """
    say = log or (lambda line: print(line, file=sys.stderr))
    if slim:
        check_slim(target, interpreter)
    key = layer_key(requirements, target, interpreter, slim, without_dependencies)
    home = cache_root() / "layers" / key
    manifest = home / _MANIFEST
    if manifest.is_file():
        return _checked(_load(home, key, reused=True), target, modules, code_paths)
    flavour = "slim (sourceless) " if slim else ""
    say(
        f"cdk-sklearn: building the {flavour}scikit-learn layer for {target.describe()}: "
        f"{' '.join(requirements)}"
    )
    started = time.monotonic()
    staging = home.parent / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    layer_dir = staging / "layer"
    site_packages = layer_dir / "python"
    try:
        packages = install(requirements, target, site_packages)
        if without_dependencies:
            extra = install_without_dependencies(without_dependencies, target, site_packages)
            packages = tuple(sorted((*packages, *extra), key=lambda p: p.name.lower()))
        cache_tag = interpreter.cache_tag if interpreter else f"cpython-{target.abi.removeprefix('cp')}"
        pruned = prune(site_packages, cache_tag)
        system = runtime_system(target)
        added = add_missing_libraries(layer_dir, system)
        for library in added:
            say(
                f"cdk-sklearn: added lib/{library.name} (from {library.source.relative_to(layer_dir)}) for "
                f"{', '.join(library.needed_by)}: {target.amazon_linux} does not provide it"
            )
        sourceless_bytes = 0
        if interpreter is not None:
            compile_bytecode(site_packages, interpreter, LAYER_RUNTIME_PATH)
            if slim:
                sourceless_bytes = make_sourceless(site_packages, interpreter.cache_tag).total_bytes
        write_lock(packages, target, layer_dir / LOCK_NAME)
        record = {
            "key": key,
            "runtime": target.runtime,
            "architecture": target.architecture,
            "requirements": list(requirements),
            "lock": [f"{p.name}=={p.version}" for p in packages],
            "packages": package_sizes(site_packages),
            "layer_bytes": directory_size(layer_dir),
            "bytecode_tag": interpreter.cache_tag if interpreter else None,
            "pruned_bytes": pruned.total_bytes + sourceless_bytes,
            "pruned_by_reason": {**pruned.bytes_by_reason, "sources (slim)": sourceless_bytes}
            if slim
            else pruned.bytes_by_reason,
            "slim": slim,
            "added_libraries": [library.name for library in added],
            "library_problems": library_problems(layer_dir, system),
            "content_hash": tree_hash(layer_dir),
        }
        (staging / _MANIFEST).write_text(json.dumps(record, indent=2) + "\n")
        try:
            staging.rename(home)
        except OSError:  # another process finished the same key first; its result is identical
            if not manifest.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"cdk-sklearn: layer built in {time.monotonic() - started:.0f} s, cached in {home}")
    return _checked(_load(home, key, reused=False), target, modules, code_paths)


def _checked(
    build: LayerBuild, target: LambdaTarget, modules: Collection[str], code_paths: Sequence[Path]
) -> LayerBuild:
    # Modules are looked up on every use (cheap: a few stat calls); the ELF facts were recorded at build.
    problems = module_problems(modules, build.layer_dir / "python", code_paths)
    fail_on([*problems, *build.library_problems], target)
    return build


def _load(home: Path, key: str, *, reused: bool) -> LayerBuild:
    record = json.loads((home / _MANIFEST).read_text())
    return LayerBuild(
        layer_dir=home / "layer",
        key=key,
        content_hash=record["content_hash"],
        lock=tuple(record["lock"]),
        packages=dict(record["packages"]),
        layer_bytes=int(record["layer_bytes"]),
        bytecode_tag=record["bytecode_tag"],
        pruned_bytes=int(record["pruned_bytes"]),
        reused=reused,
        slim=bool(record.get("slim", False)),
        added_libraries=tuple(record.get("added_libraries", ())),
        library_problems=tuple(record.get("library_problems", ())),
    )


def copy_layer(build: LayerBuild, destination: Path) -> None:
    """Put the built layer's files into ``destination`` (hard links when on the same file system)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copytree(build.layer_dir, destination, copy_function=_link_or_copy, dirs_exist_ok=True)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
