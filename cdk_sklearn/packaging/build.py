"""The layer build pipeline: lock -> install -> prune -> compile -> measure, cached by its inputs.

The requirements are resolved once into an entry of the app's lock (:mod:`.lock`); the layer is then
always installed from that entry, hash-checked and without resolution, so the same lock gives the same
files on any machine, with any pip. The result is a folder laid out as Lambda expects a Python layer
(``python/`` becomes ``/opt/python``) with ``requirements.lock`` beside ``python/``. It is built once per
cache key into the user cache and then reused: a repeated synth reads ``build.json`` and re-hashes the
files against the tree hash recorded there (a layer changed since its build is rebuilt, never shipped),
and :func:`copy_layer` copies them (no hard links) into ``cdk.out``, hashing what it writes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn.packaging.budget import Budget, directory_size, package_sizes
from cdk_sklearn.packaging.bytecode import (
    BYTECODE_PYTHON_ENV,
    Interpreter,
    compile_bytecode,
    find_interpreter,
)
from cdk_sklearn.packaging.cache import build_key, cache_root, copy_tree, tree_hash
from cdk_sklearn.packaging.closure import fail_on, library_problems, module_problems
from cdk_sklearn.packaging.completeness import check_installed, incomplete_message
from cdk_sklearn.packaging.install import HashMismatchError, install_locked, write_lock
from cdk_sklearn.packaging.libraries import add_missing_libraries
from cdk_sklearn.packaging.lock import LOCK_FILE_NAME, LayerSpec, LockEntry, LockError, locked_entry
from cdk_sklearn.packaging.prune import (
    UNLOADED_LIBRARY_CANDIDATES,
    PruneReport,
    prune,
    prune_unloaded_libraries,
)
from cdk_sklearn.packaging.runtime_system import runtime_system
from cdk_sklearn.packaging.slim import make_sourceless
from cdk_sklearn.packaging.target import LambdaTarget

LAYER_RUNTIME_PATH = "/opt/python"
LOCK_NAME = "requirements.lock"
_MANIFEST = "build.json"
# Every file of a layer gets this modification time (1980-01-01, the earliest a zip can hold), so
# the staged asset does not carry the build's clock.
_EPOCH = 315_532_800
# (entry key, interpreter release) pairs already reported, so a synth says it once per layer.
_reported_interpreters: set[tuple[str, str]] = set()
# Python versions already reported as having no interpreter for .pyc: once per synth.
_reported_without_bytecode: set[str] = set()
COLD_START_WITHOUT_PYC = "measured: 2.1 s instead of 1.0 s to import and load the iris demo model"
"""The cost of a layer without .pyc, from the README's measurement (docs/readme/layer.md)."""


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
    lock_key
        The key of the lock entry the layer was installed from.
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
    lock_key: str = ""
    added_libraries: tuple[str, ...] = ()
    library_problems: tuple[str, ...] = ()

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


def resolve_bytecode(
    target: LambdaTarget, explicit: str | None, *, report: Callable[[str], None] | None = None
) -> Interpreter | None:
    """The interpreter that will compile .pyc for ``target``; without one, say so once per process.

    The notice is one line on stderr (``report`` replaces that), printed once per Python version
    however many layers a synth builds. It is not a Python warning: synth reaches this from inside
    jsii, whose frame a warning would name as its location.

    Parameters
    ----------
    target
        The Lambda runtime and architecture of the layer.
    explicit
        The interpreter the user named (``bytecode_python=`` / ``--bytecode-python``), or ``None``.
    report
        Where the notice goes; stderr by default.

    Returns
    -------
    Interpreter or None
        ``None`` when no CPython of the runtime's version was found.
    """
    interpreter = find_interpreter(target.version_tuple, explicit)
    if interpreter is None and target.python_version not in _reported_without_bytecode:
        _reported_without_bytecode.add(target.python_version)
        say = report or (lambda line: print(line, file=sys.stderr, flush=True))
        say(without_bytecode_message(target))
    return interpreter


def without_bytecode_message(target: LambdaTarget) -> str:
    """One line: no CPython of ``target``'s version, what it costs, and the three ways to fix it."""
    version = target.python_version
    return (
        f"cdk-sklearn: warning: no CPython {version} found to precompile the layer for {target.runtime}, "
        f"so it ships without .pyc and every cold start compiles what it imports ({COLD_START_WITHOUT_PYC}); "
        f"fix: uv python install {version}, or pyenv install {version}, or name one with bytecode_python= "
        f"or {BYTECODE_PYTHON_ENV}=/path/to/python{version}"
    )


def stand_in_key(
    requirements: Sequence[str],
    target: LambdaTarget,
    slim: bool = False,
    without_dependencies: Sequence[str] = (),
) -> str:
    """A stable key for a layer that is not built (unbundled synth): no lock, no network."""
    # Marked so "x" installed with and without its dependencies never share a key.
    inputs = (*requirements, *(f"{r} --no-deps" for r in without_dependencies))
    return build_key(tuple(inputs), target.runtime, target.architecture, None, slim, target.platform_tags)


def entry_key(entry: LockEntry, interpreter: Interpreter | None, slim: bool = False) -> str:
    """The cache key of the layer installed from ``entry`` (no network, no build)."""
    bytecode = (interpreter.release or interpreter.cache_tag) if interpreter else None
    return build_key(
        entry.pins(), entry.spec.runtime, entry.spec.architecture, bytecode, slim, entry.platforms
    )


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
    lock: Path | None = None,
    without_dependencies: Sequence[str] = (),
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
    engine: str = "sklearn",
) -> LayerBuild:
    """Build (or reuse from the cache) the layer for ``requirements`` on ``target``, as locked.

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
    lock
        The lock file holding the layer's entry (see :mod:`cdk_sklearn.packaging.lock`); the entry
        is resolved and added when missing. ``None``: a lock private to the cache folder, so builds
        outside a CDK app (``cdk-sklearn layer build``) are pinned per machine as before.
    without_dependencies
        Requirements installed after the others with ``--no-deps`` (full wheels whose GPU-only
        dependencies are skipped, see :mod:`cdk_sklearn.packaging.cpu_wheels`).
    modules, code_paths
        The dotted modules the model references and the user's code paths: the closure check
        (:mod:`cdk_sklearn.packaging.closure`) requires each module in the layer or the code paths.
    engine
        ``"sklearn"`` or ``"onnx"`` (numpy + onnxruntime; python3.12 or newer): the lock entry's engine,
        and what is pruned (:data:`cdk_sklearn.packaging.prune.UNLOADED_LIBRARY_CANDIDATES`).

    Returns
    -------
    LayerBuild

    Raises
    ------
    cdk_sklearn.packaging.install.ResolutionError
        When a requirement has no wheel for the target.
    cdk_sklearn.packaging.lock.LockError
        When the lock is malformed or the index does not serve its wheels; the lock is left unchanged.
    ValueError
        When ``slim`` is asked for without an ``interpreter``.
    cdk_sklearn.packaging.closure.ClosureError
        When a referenced module, a shared library or a symbol version would be missing on Lambda
        (checked on cached builds too: the ELF facts are recorded when the layer is built).
    """
    say = log or (lambda line: print(line, file=sys.stderr))
    if slim:
        check_slim(target, interpreter)
    lock_file = lock if lock is not None else cache_root() / LOCK_FILE_NAME
    release = interpreter.release if interpreter and interpreter.release else None
    if engine == "onnx" and target.version_tuple < (3, 12):
        raise ValueError(
            f"the ONNX engine's layer needs python3.12 or newer: {target.runtime} runs on Amazon Linux 2, "
            "whose glibc 2.26 cannot load current onnxruntime wheels; build it for python3.13"
        )
    spec = LayerSpec.of(requirements, target, engine, without_dependencies=without_dependencies)
    entry = locked_entry(spec, lock_file, release, say)
    return build_from_entry(
        entry, interpreter, slim=slim, log=say, lock=lock_file, modules=modules, code_paths=code_paths
    )


def build_from_entry(
    entry: LockEntry,
    interpreter: Interpreter | None,
    *,
    slim: bool = False,
    log: Callable[[str], None] | None = None,
    lock: Path | None = None,
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
) -> LayerBuild:
    """Build (or reuse from the cache) the layer of a lock entry: hash-checked, no resolution.

    Parameters
    ----------
    entry
        The locked layer.
    interpreter
        CPython of the target version for .pyc, or ``None`` to ship without bytecode.
    slim
        Sourceless layer (needs ``interpreter``).
    log
        Where progress lines go (stderr by default).
    lock
        The lock file ``entry`` comes from, named in messages.
    modules, code_paths
        What the closure check requires (see :func:`build_layer`).

    Returns
    -------
    LayerBuild

    Raises
    ------
    cdk_sklearn.packaging.lock.LockError
        When the index serves other bytes than the locked wheels (or no longer has them).
    cdk_sklearn.packaging.closure.ClosureError
        When a referenced module, a shared library or a symbol version would be missing on Lambda.
    """
    say = log or (lambda line: print(line, file=sys.stderr))
    target = entry.spec.target
    if slim:
        check_slim(target, interpreter)
    _report_interpreter(entry, interpreter, say)
    key = entry_key(entry, interpreter, slim)
    home = cache_root() / "layers" / key
    if (home / _MANIFEST).is_file():
        cached = _verified(home, key, say)
        if cached is not None:
            return _checked(cached, target, modules, code_paths)
    flavour = "slim (sourceless) " if slim else ""
    kind = "ONNX engine" if entry.spec.engine == "onnx" else "scikit-learn"
    say(
        f"cdk-sklearn: building the {flavour}{kind} layer for {target.describe()} from lock entry "
        f"{entry.key}: {' '.join(f'{p.name}=={p.version}' for p in entry.packages)}"
    )
    started = time.monotonic()
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = home.parent / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        record = _stage(entry, interpreter, slim, staging / "layer", lock, say)
        _publish(staging, home, {"key": key, **record})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"cdk-sklearn: layer built in {time.monotonic() - started:.0f} s, cached in {home}")
    return _checked(_load(home, key, reused=False), target, modules, code_paths)


def _stage(
    entry: LockEntry,
    interpreter: Interpreter | None,
    slim: bool,
    layer_dir: Path,
    lock: Path | None,
    say: Callable[[str], None],
) -> dict[str, object]:
    # Install -> prune -> add libraries -> compile (-> sourceless) -> lock file; returns the manifest.
    target = entry.spec.target
    site_packages = layer_dir / "python"
    try:
        install_locked(entry.packages, target, site_packages)
    except HashMismatchError as exc:
        raise LockError(_mismatch_message(entry, lock, str(exc))) from exc
    spec = entry.spec
    found = check_installed(site_packages, spec.requirements, spec.without_dependencies, target)
    if found:
        raise LockError(incomplete_message(entry, lock, found))
    pruned = _prune(site_packages, entry, interpreter)
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
    write_lock(entry.packages, target, layer_dir / LOCK_NAME)
    _normalise(layer_dir)
    return {
        "lock_key": entry.key,
        "runtime": target.runtime,
        "architecture": target.architecture,
        "requirements": list(entry.spec.requirements),
        "lock": [f"{p.name}=={p.version}" for p in entry.packages],
        "packages": package_sizes(site_packages),
        "layer_bytes": directory_size(layer_dir),
        "bytecode_tag": interpreter.cache_tag if interpreter else None,
        "bytecode_python": interpreter.release if interpreter else None,
        "pruned_bytes": pruned.total_bytes + sourceless_bytes,
        "pruned_by_reason": {**pruned.bytes_by_reason, "sources (slim)": sourceless_bytes}
        if slim
        else pruned.bytes_by_reason,
        "slim": slim,
        "added_libraries": [library.name for library in added],
        "library_problems": library_problems(layer_dir, system),
        "content_hash": tree_hash(layer_dir),
    }


def _prune(site_packages: Path, entry: LockEntry, interpreter: Interpreter | None) -> PruneReport:
    # What never runs, then the engine's shared libraries nothing in the layer can load.
    target = entry.spec.target
    cache_tag = interpreter.cache_tag if interpreter else f"cpython-{target.abi.removeprefix('cp')}"
    pruned = prune(site_packages, cache_tag)
    candidates = UNLOADED_LIBRARY_CANDIDATES.get(entry.spec.engine, ())
    unloaded = prune_unloaded_libraries(site_packages, candidates)
    for reason, size in unloaded.bytes_by_reason.items():
        pruned._add(reason, size, 0)
    pruned.files += unloaded.files
    return pruned


def _publish(staging: Path, home: Path, record: dict[str, object]) -> None:
    # A rename, so a reader sees a whole layer or none; the manifest is what marks it finished.
    (staging / _MANIFEST).write_text(json.dumps(record, indent=2) + "\n")
    try:
        staging.rename(home)
    except OSError:  # another process finished the same key first; its result is identical
        if not (home / _MANIFEST).is_file():
            raise


def _checked(
    build: LayerBuild, target: LambdaTarget, modules: Collection[str], code_paths: Sequence[Path]
) -> LayerBuild:
    # Modules are looked up on every use (cheap: a few stat calls); the ELF facts were recorded at build.
    problems = module_problems(modules, build.layer_dir / "python", code_paths)
    fail_on([*problems, *build.library_problems], target)
    return build


def _report_interpreter(
    entry: LockEntry, interpreter: Interpreter | None, say: Callable[[str], None]
) -> None:
    # Bytecode may differ between CPython patch releases, and so then does the asset hash: say so
    # once, rather than let a template change without a reason on another machine.
    used = (interpreter.release or interpreter.cache_tag) if interpreter else "none"
    recorded = entry.bytecode_python or "none"
    if used == recorded or (entry.key, used) in _reported_interpreters:
        return
    _reported_interpreters.add((entry.key, used))
    was = f"compiled with CPython {recorded}" if entry.bytecode_python else "locked without .pyc"
    now = f"uses {used}" if interpreter else "has no interpreter to compile .pyc"
    say(
        f"cdk-sklearn: lock entry {entry.key} was {was}, this synth {now}: the layer's .pyc and asset "
        "hash may differ from the other machine's"
    )


def _mismatch_message(entry: LockEntry, lock: Path | None, detail: str) -> str:
    pip_said = " ".join(line.strip() for line in detail.splitlines() if line.strip())
    where = str(lock) if lock else "the layer lock"
    return (
        f"the package index does not serve the wheels locked in {where} for entry {entry.key} "
        f"({entry.spec.describe()}); pip said: {pip_said} cdk-sklearn stopped and changed nothing. A "
        "locked wheel is only replaced on purpose: if the index legitimately changed (another mirror, a "
        f"withdrawn release), run `cdk-sklearn lock --upgrade --entry {entry.key}` and review the new "
        "pins, or delete that entry and synthesize again; otherwise find out why the index serves "
        "other bytes before deploying."
    )


def _normalise(root: Path) -> None:
    # The same modes and times on every machine, whatever its umask or clock: both are in the asset.
    for path in (*root.rglob("*"), root):
        if not path.is_symlink():
            executable = path.is_dir() or path.stat().st_mode & 0o111
            path.chmod(0o755 if executable else 0o644)
        os.utime(path, (_EPOCH, _EPOCH), follow_symlinks=False)


def _verified(home: Path, key: str, say: Callable[[str], None]) -> LayerBuild | None:
    # A cached layer ships only if its files still hash to what was recorded when it was built: a
    # changed file would otherwise deploy under the old asset hash. Anything else is rebuilt.
    try:
        cached = _load(home, key, reused=True)
        found = tree_hash(cached.layer_dir) if cached.layer_dir.is_dir() else "no layer folder"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        cached, found = None, f"unreadable manifest ({exc})"
    if cached is not None and found == cached.content_hash:
        return cached
    say(
        f"cdk-sklearn: the cached layer {home} does not match the tree hash recorded when it was built "
        f"({found}); it was changed after the build, so it is discarded and rebuilt"
    )
    shutil.rmtree(home)
    return None


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
        lock_key=str(record.get("lock_key", "")),
        added_libraries=tuple(record.get("added_libraries", ())),
        library_problems=tuple(record.get("library_problems", ())),
    )


def copy_layer(build: LayerBuild, destination: Path) -> None:
    """Copy the built layer's files into ``destination`` (copies, never hard links) and check them.

    The copy's tree hash must be the layer's :attr:`LayerBuild.content_hash` (the asset hash).

    Raises
    ------
    LayerChangedError
        When the files copied are not the ones the layer was built with (the cache changed while
        this synth ran).
    """
    copied = copy_tree(build.layer_dir, destination)
    if copied != build.content_hash:
        raise LayerChangedError(
            f"the cached layer {build.layer_dir} changed while it was copied to {destination} (tree hash "
            f"{copied}, built as {build.content_hash}); nothing was shipped: synthesize again"
        )


class LayerChangedError(RuntimeError):
    """A cached layer's files are not the ones it was built with."""
