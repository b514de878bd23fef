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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn.packaging.budget import Budget, directory_size, package_sizes
from cdk_sklearn.packaging.bytecode import Interpreter, compile_bytecode, find_interpreter
from cdk_sklearn.packaging.cache import build_key, cache_root, tree_hash
from cdk_sklearn.packaging.install import install, write_lock
from cdk_sklearn.packaging.prune import prune
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

    def budget(self, function_code_bytes: int = 0) -> Budget:
        """This layer's :class:`Budget` next to ``function_code_bytes`` of function code."""
        return Budget(self.packages, self.layer_bytes, function_code_bytes)


def merge_requirements(model_requirements: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    """Model pins first, then extras, one entry per distribution (names compared as PyPI does).

    An extra naming a distribution the model already pins is merged into it (``pandas`` and
    ``pandas>=2`` become ``pandas>=2``); one that contradicts a pin (``Scikit_Learn==1.8.0`` against the
    model's ``scikit-learn==1.9.1``) is refused here, with both, instead of failing inside pip.

    Raises
    ------
    ValueError
        A requirement that is not a PEP 508 requirement (a pip option, a typo), or two that conflict.
    """
    merged: dict[str, Requirement] = {}
    for text in (*model_requirements, *extra):
        if not text.strip():
            continue
        requirement = parse_requirement(text)
        name = canonicalize_name(requirement.name)
        previous = merged.get(name)
        merged[name] = requirement if previous is None else _combine(previous, requirement)
    return tuple(str(requirement) for requirement in merged.values())


def parse_requirement(text: str) -> Requirement:
    """Parse one requirement string with ``packaging``; raise ``ValueError`` saying how to write it."""
    if text.strip().startswith("-"):
        raise ValueError(
            f"{text!r} is a pip option; give package requirements only, "
            "e.g. 'pandas>=2' or 'xgboost-cpu==3.0.2'"
        )
    try:
        return Requirement(text.strip())
    except InvalidRequirement as exc:
        raise ValueError(
            f"{text!r} is not a package requirement ({exc}); "
            "write one like 'pandas>=2' or 'xgboost-cpu==3.0.2'"
        ) from None


def _combine(first: Requirement, second: Requirement) -> Requirement:
    if str(first.marker) != str(second.marker) or first.url or second.url:
        raise ValueError(f"requirements {str(first)!r} and {str(second)!r} name the same package differently")
    specifier = first.specifier & second.specifier
    pins = [spec.version for spec in specifier if spec.operator in ("==", "===")]
    for pin in pins:
        if "*" not in pin and not specifier.contains(pin, prereleases=True):
            raise ValueError(
                f"requirements {str(first)!r} and {str(second)!r} conflict: no version satisfies both. "
                "The first comes from the model (the version it was saved with); change or remove the other"
            )
    combined = Requirement(first.name)
    combined.extras = first.extras | second.extras
    combined.specifier = specifier
    combined.marker = first.marker
    return combined


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
) -> str:
    """The cache key for these inputs (no network, no build)."""
    tag = interpreter.cache_tag if interpreter else None
    return build_key(tuple(requirements), target.runtime, target.architecture, tag, slim)


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

    Returns
    -------
    LayerBuild

    Raises
    ------
    cdk_sklearn.packaging.install.ResolutionError
        When a requirement has no wheel for the target.
    ValueError
        When ``slim`` is asked for without an ``interpreter``.
    """
    say = log or (lambda line: print(line, file=sys.stderr))
    if slim:
        check_slim(target, interpreter)
    key = layer_key(requirements, target, interpreter, slim)
    home = cache_root() / "layers" / key
    manifest = home / _MANIFEST
    if manifest.is_file():
        return _load(home, key, reused=True)
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
        cache_tag = interpreter.cache_tag if interpreter else f"cpython-{target.abi.removeprefix('cp')}"
        pruned = prune(site_packages, cache_tag)
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
    return _load(home, key, reused=False)


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
