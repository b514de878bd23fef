"""The app's layer lock: one committed file that pins every wheel of every layer, hash-checked.

The first synth resolves each layer with pip and writes the result to ``pylock.cdk-sklearn.toml`` in
the CDK app's working directory (where ``cdk.json`` is; ``$CDK_SKLEARN_LOCK`` names another file).
Every later synth, on any machine, installs exactly those wheels (``pip install --no-deps
--require-hashes``) instead of resolving again, so the layer's content, and with it the asset hash
and the template, does not drift when numpy or scipy publish a release.

Format
------
The file is a PEP 751 lock file (``pylock.<name>.toml``, ``lock-version = "1.0"``) with one
*dependency group* per layer entry:

* An entry is one distinct layer: engine (``"sklearn"`` or ``"onnx"``), runtime, architecture and requirements
  (the model's pins plus extras, normalised and sorted). Its key, e.g. ``sklearn-py313-arm64-1f0e2d3c``,
  is derived from those four (the last part hashes the requirements) and is the group's name.
* Each pinned distribution of an entry is a ``[[packages]]`` item with ``marker = "'KEY' in
  dependency_groups"`` and exactly one wheel: the file pip picked for that runtime and architecture,
  by file name and sha256. No URL: where the resolving machine found the wheel (a mirror, a local
  folder) is not locked, and installs ask whatever index is configured for name, version and hash.
  A distribution two entries share is listed once per entry, so an entry can be replaced without
  touching the others.
* What PEP 751 has no field for (the layer's runtime, architecture, requirements, wheel platform tags,
  the CPython release that compiled its bytecode) is in ``[tool.cdk-sklearn.layers.KEY]``.

A layer whose key is not in the file (new runtime, retrained model, changed extras) is resolved alone
and added, with one line on stderr saying why; entries no layer of this synth uses are kept (another
environment's stack may use them). An entry whose wheel platform tags differ from what cdk-sklearn now
asks pip for is re-resolved in place. ``cdk-sklearn lock --upgrade`` re-resolves on purpose. A file
that does not parse or does not hold together stops synthesis with :class:`LockError` and is left as
it is. Every read-modify-write holds an inter-process lock and writes are atomic and durable
(:mod:`~cdk_sklearn.packaging.lock_io`), so concurrent synths each keep their entries. A layer is
installed with exactly the entry's distributions: one the wheels require but the entry lacks, or one
nothing requires, stops the build (:mod:`~cdk_sklearn.packaging.completeness`).

Modules: :mod:`~cdk_sklearn.packaging.lock_entry` holds the data (:class:`LayerSpec`,
:class:`LockEntry`, :class:`LockError`), :mod:`~cdk_sklearn.packaging.lock_format` reads and writes
the TOML; this module holds the :class:`Lock` and the operations on it, and re-exports the data types
for its callers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn.packaging.install import LockedPackage, resolve
from cdk_sklearn.packaging.lock_entry import ENGINES, LayerSpec, LockEntry, LockError
from cdk_sklearn.packaging.lock_format import SHA256, all_keys, read_entries, render, wheel_problem
from cdk_sklearn.packaging.lock_io import exclusive, write_durably

__all__ = [
    "ENGINES",
    "LOCK_ENV",
    "LOCK_FILE_NAME",
    "LayerSpec",
    "Lock",
    "LockEntry",
    "LockError",
    "lock_path",
    "locked_entry",
    "remove",
    "requirement_changes",
    "resolve_entry",
    "upgrade",
    "version_changes",
    "why_new",
]

LOCK_ENV = "CDK_SKLEARN_LOCK"
"""Environment variable naming the lock file (default: ``pylock.cdk-sklearn.toml`` in the working folder)."""

LOCK_FILE_NAME = "pylock.cdk-sklearn.toml"
"""The lock's file name: PEP 751 allows ``pylock.<name>.toml`` beside a project's own ``pylock.toml``."""


def lock_path() -> Path:
    """The app's lock file: ``$CDK_SKLEARN_LOCK``, else ``pylock.cdk-sklearn.toml`` in the working directory.

    The CDK CLI runs the app in the folder of ``cdk.json``, so by default the lock lands beside it.
    """
    explicit = os.environ.get(LOCK_ENV)
    return Path(explicit).expanduser().absolute() if explicit else Path.cwd() / LOCK_FILE_NAME


@dataclass
class Lock:
    """A lock file's entries, by key.

    Attributes
    ----------
    path
        The file (it may not exist yet).
    entries
        Layer entries by key.
    """

    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path, *, tolerate: Collection[str] | None = None) -> Lock:
        """Read and check ``path``; a missing file is an empty lock.

        Parameters
        ----------
        path
            The lock file.
        tolerate
            Keys whose packages may be broken (they are about to be re-resolved); ``None`` for none.
            Their entries come back with no packages.

        Raises
        ------
        LockError
            When the file is not valid TOML or does not hold together.
        """
        if not path.exists():
            return cls(path)
        return cls(path, read_entries(path, frozenset(tolerate or ())))

    def render(self) -> str:
        """The file's text: PEP 751, entries and packages in key and name order (stable diffs)."""
        return render(self.entries)

    def write(self) -> bool:
        """Write the file atomically and durably when its text changes; return True when it was written.

        A read-modify-write holds :func:`cdk_sklearn.packaging.lock_io.exclusive` from the read to
        this write, so a concurrent synth's entry is not lost.
        """
        text = self.render()
        if self.path.exists() and self.path.read_text(encoding="utf-8") == text:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_durably(self.path, text)
        return True


def resolve_entry(spec: LayerSpec, bytecode_python: str | None) -> LockEntry:
    """Resolve ``spec`` with pip (no install) into a new entry.

    Raises
    ------
    cdk_sklearn.packaging.install.ResolutionError
        When a requirement has no wheel for the target.
    RuntimeError
        When pip gives a distribution without a wheel URL and sha256 (nothing to lock).
    """
    target = spec.target
    packages = resolve(spec.requirements, target)
    if spec.without_dependencies:
        alone = resolve(spec.without_dependencies, target, with_dependencies=False)
        packages = tuple(
            sorted({p.name: p for p in (*packages, *alone)}.values(), key=lambda p: p.name.lower())
        )
    for package in packages:
        if wheel_problem(package.name, package.version, package.wheel) or not SHA256.match(package.sha256):
            raise RuntimeError(
                f"pip resolved {package.name}=={package.version} for {target.describe()} without a wheel "
                f"and its sha256 (got {package.wheel!r}); the lock needs both. Is the index a PEP 503 "
                "index or a --find-links folder of wheels?"
            )
    return LockEntry(spec, target.platform_tags, packages, bytecode_python)


def locked_entry(
    spec: LayerSpec,
    path: Path,
    bytecode_python: str | None,
    log: Callable[[str], None],
) -> LockEntry:
    """The entry for ``spec`` in the lock at ``path``, resolving and writing it when missing or stale.

    Parameters
    ----------
    spec
        The layer.
    path
        The lock file (created when absent).
    bytecode_python
        The release of the interpreter that will compile the layer's .pyc, recorded in a new entry.
    log
        Receives the one line saying which entry was (re)resolved and why.

    Raises
    ------
    LockError
        When the lock file is malformed (it is then left unchanged).
    """
    lock = Lock.read(path)
    current = lock.entries.get(spec.key)
    target = spec.target
    if current is not None and current.platforms == target.platform_tags:
        return current
    reason = (
        f"wheel platform tags changed ({' '.join(current.platforms)} -> {' '.join(target.platform_tags)})"
        if current is not None
        else why_new(spec, lock.entries.values())
    )
    # Resolve unlocked (pip is slow); then read again under the lock, so what another synth added
    # meanwhile is kept, and its entry for this very layer, if it wrote one, is the one used.
    entry = resolve_entry(spec, bytecode_python)
    with exclusive(path):
        lock = Lock.read(path)
        theirs = lock.entries.get(spec.key)
        if theirs is not None and theirs.platforms == target.platform_tags:
            return theirs
        lock.entries[entry.key] = entry
        lock.write()
    log(
        f"cdk-sklearn: lock {path.name}: entry {entry.key} resolved ({reason}); "
        f"{len(entry.packages)} wheels pinned, other entries unchanged"
    )
    return entry


def why_new(spec: LayerSpec, entries: Iterable[LockEntry]) -> str:
    """Why ``spec`` has no entry: the closest existing entry and what differs from it."""
    existing = list(entries)
    same_target = [
        e
        for e in existing
        if (e.spec.engine, e.spec.runtime, e.spec.architecture)
        == (spec.engine, spec.runtime, spec.architecture)
    ]
    if same_target:
        # The closest is the one sharing most requirement names (the same model, retrained, usually).
        names = {_requirement_name(r) for r in spec.requirements}
        closest = max(
            same_target,
            key=lambda e: (len(names & {_requirement_name(r) for r in e.spec.requirements}), e.key),
        )
        return f"requirements changed from entry {closest.key}: {requirement_changes(closest.spec, spec)}"
    same_requirements = [e for e in existing if e.spec.requirements == spec.requirements]
    if same_requirements:
        others = ", ".join(sorted(f"{e.spec.runtime} {e.spec.architecture}" for e in same_requirements))
        return f"new target {spec.runtime} {spec.architecture}; these requirements were locked for {others}"
    return f"new layer {spec.describe()}"


def requirement_changes(old: LayerSpec, new: LayerSpec) -> str:
    """``scikit-learn==1.9.1 -> scikit-learn==1.9.2, + pandas>=2, - xgboost``: what differs, by name."""
    before = {_requirement_name(r): r for r in old.requirements}
    after = {_requirement_name(r): r for r in new.requirements}
    changes = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            changes.append(f"- {before[name]}")
        elif name not in before:
            changes.append(f"+ {after[name]}")
        elif before[name] != after[name]:
            changes.append(f"{before[name]} -> {after[name]}")
    return ", ".join(changes) or "same requirements"


def version_changes(old: Sequence[LockedPackage], new: Sequence[LockedPackage]) -> list[str]:
    """One line per distribution whose pin changed: ``numpy 2.5.5 -> 2.6.0``, ``+ pandas 2.3.1``, ``- x 1``.

    A distribution whose version stays but whose wheel hash changed (a rebuilt wheel) is named too.
    """
    before = {canonicalize_name(p.name): p for p in old}
    after = {canonicalize_name(p.name): p for p in new}
    lines = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if now is None:
            assert was is not None
            lines.append(f"- {was.name} {was.version}")
        elif was is None:
            lines.append(f"+ {now.name} {now.version}")
        elif was.version != now.version:
            lines.append(f"{now.name} {was.version} -> {now.version}")
        elif was.sha256 != now.sha256:
            lines.append(f"{now.name} {now.version} (new wheel hash)")
    return lines


def upgrade(
    path: Path,
    keys: Collection[str] | None,
    bytecode_python: Callable[[LayerSpec], str | None],
) -> dict[str, list[str]]:
    """Re-resolve entries of the lock at ``path`` and write it; return each entry's version changes.

    Parameters
    ----------
    path
        The lock file; it must exist.
    keys
        Entries to re-resolve; ``None`` for all of them.
    bytecode_python
        Gives the interpreter release to record for an entry (``None`` keeps the entry's own).

    Raises
    ------
    LockError
        When the file is malformed outside the entries being re-resolved, or a key is not in it.
    FileNotFoundError
        When there is no lock file.
    """
    if not path.exists():
        raise FileNotFoundError(f"no lock file at {path}; synthesize the app once to create it")
    wanted = set(keys) if keys is not None else None
    lock = Lock.read(path, tolerate=wanted if wanted is not None else all_keys(path))
    if wanted is not None:
        unknown = sorted(wanted - lock.entries.keys())
        if unknown:
            raise LockError(
                f"{path} has no entry {', '.join(unknown)}; its entries are: "
                f"{', '.join(sorted(lock.entries)) or 'none'}"
            )
    changes: dict[str, list[str]] = {}
    resolved: dict[str, LockEntry] = {}
    # Resolve everything first and write once, so a failure half-way leaves the file as it was.
    for key in sorted(wanted if wanted is not None else lock.entries):
        old = lock.entries[key]
        resolved[key] = resolve_entry(old.spec, bytecode_python(old.spec) or old.bytecode_python)
        changes[key] = version_changes(old.packages, resolved[key].packages)
    with exclusive(path):  # what other processes added or removed while pip ran stays so
        lock = Lock.read(path, tolerate=resolved.keys())
        lock.entries.update({key: entry for key, entry in resolved.items() if key in lock.entries})
        lock.write()
    return changes


def remove(path: Path, key: str) -> LockEntry:
    """Delete entry ``key`` (and its packages) from the lock at ``path``; return what was removed.

    Raises
    ------
    LockError
        When the file is malformed or has no such entry.
    """
    with exclusive(path):
        lock = Lock.read(path, tolerate={key})
        if key not in lock.entries:
            raise LockError(
                f"{path} has no entry {key}; its entries are: {', '.join(sorted(lock.entries)) or 'none'}"
            )
        removed = lock.entries.pop(key)
        lock.write()
    return removed


def _requirement_name(text: str) -> str:
    return canonicalize_name(Requirement(text).name)
