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
  with its URL and sha256. A distribution two entries share is listed once per entry, so an entry
  can be replaced without touching the others.
* What PEP 751 has no field for (the layer's runtime, architecture, requirements, wheel platform tags,
  the CPython release that compiled its bytecode) is in ``[tool.cdk-sklearn.layers.KEY]``.

A layer whose key is not in the file (new runtime, retrained model, changed extras) is resolved alone
and added, with one line on stderr saying why; entries no layer of this synth uses are kept (another
environment's stack may use them). An entry whose wheel platform tags differ from what cdk-sklearn now
asks pip for is re-resolved in place. ``cdk-sklearn lock --upgrade`` re-resolves on purpose. A file
that does not parse or does not hold together stops synthesis with :class:`LockError` and is left as
it is; writes are atomic (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cdk_sklearn.packaging.install import LockedPackage, resolve
from cdk_sklearn.packaging.target import LambdaTarget

LOCK_ENV = "CDK_SKLEARN_LOCK"
"""Environment variable naming the lock file (default: ``pylock.cdk-sklearn.toml`` in the working folder)."""

LOCK_FILE_NAME = "pylock.cdk-sklearn.toml"
"""The lock's file name: PEP 751 allows ``pylock.<name>.toml`` beside a project's own ``pylock.toml``."""

ENGINES: tuple[str, ...] = ("sklearn", "onnx")
"""Engines a layer entry may name: the scikit-learn engine's layer, and the ONNX engine's (numpy +
onnxruntime)."""

_TOOL = "cdk-sklearn"
_LOCK_VERSION = "1.0"
_MARKER = re.compile(r"^'([a-z0-9][a-z0-9-]*)' in dependency_groups$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HEADER = (
    "# The cdk-sklearn layer lock (PEP 751): the exact wheels of each Lambda layer of this CDK app.\n"
    "# Written by `cdk synth`; commit it. Every synth installs these wheels, hash-checked, instead of\n"
    "# resolving again. `cdk-sklearn lock --upgrade [--entry KEY]` re-resolves on purpose.\n"
)


class LockError(ValueError):
    """The lock file is malformed, or the index does not serve its wheels; the message says how to fix it."""


def lock_path() -> Path:
    """The app's lock file: ``$CDK_SKLEARN_LOCK``, else ``pylock.cdk-sklearn.toml`` in the working directory.

    The CDK CLI runs the app in the folder of ``cdk.json``, so by default the lock lands beside it.
    """
    explicit = os.environ.get(LOCK_ENV)
    return Path(explicit).expanduser().absolute() if explicit else Path.cwd() / LOCK_FILE_NAME


@dataclass(frozen=True)
class LayerSpec:
    """What decides a layer's resolution: engine, runtime, architecture, requirements.

    Build one with :meth:`of`, which normalises and sorts the requirements, so two layers asking for
    the same thing in another order or spelling share one entry.
    """

    engine: str
    runtime: str
    architecture: str
    requirements: tuple[str, ...]
    # Full wheels installed without their dependencies (GPU-only ones; see packaging/cpu_wheels.py).
    without_dependencies: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        requirements: Iterable[str],
        target: LambdaTarget,
        engine: str = "sklearn",
        without_dependencies: Iterable[str] = (),
    ) -> LayerSpec:
        """The spec of a layer of ``requirements`` for ``target``.

        Raises
        ------
        ValueError
            If a requirement is not a valid PEP 508 requirement or the engine is unknown.
        """
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r} has no layer lock; use one of {', '.join(ENGINES)}")
        return cls(
            engine,
            target.runtime,
            target.architecture,
            _normalised(requirements),
            _normalised(without_dependencies),
        )

    @property
    def target(self) -> LambdaTarget:
        """The Lambda target."""
        return LambdaTarget(self.runtime, self.architecture)

    @property
    def key(self) -> str:
        """The entry's key and dependency-group name, e.g. ``sklearn-py313-arm64-1f0e2d3c``."""
        hashed = [*self.requirements, *(f"{r} --no-deps" for r in self.without_dependencies)]
        digest = hashlib.sha256(json.dumps(hashed).encode()).hexdigest()[:8]
        python = self.runtime.replace("python", "py").replace(".", "")
        return f"{self.engine}-{python}-{canonicalize_name(self.architecture)}-{digest}"

    def describe(self) -> str:
        """``python3.13 arm64: numpy>=2 scikit-learn==1.9.1``."""
        return f"{self.runtime} {self.architecture}: {' '.join(self.requirements)}"


def _normalised(requirements: Iterable[str]) -> tuple[str, ...]:
    normalised = set()
    for requirement in requirements:
        try:
            normalised.add(str(Requirement(requirement)))
        except InvalidRequirement as exc:
            raise ValueError(f"requirement {requirement!r} is not a valid pip requirement: {exc}") from exc
    return tuple(sorted(normalised))


@dataclass(frozen=True)
class LockEntry:
    """One layer's locked resolution.

    Attributes
    ----------
    spec
        What the layer asks for.
    platforms
        The wheel platform tags pip was allowed to pick from when the entry was resolved.
    packages
        Every distribution of the layer, with its wheel's URL and sha256, sorted by name.
    bytecode_python
        The CPython release (``"3.13.5"``) that compiled the layer's .pyc when the entry was
        resolved, or ``None`` when it had none.
    """

    spec: LayerSpec
    platforms: tuple[str, ...]
    packages: tuple[LockedPackage, ...]
    bytecode_python: str | None = None

    @property
    def key(self) -> str:
        """The entry's key (see :attr:`LayerSpec.key`)."""
        return self.spec.key

    def pins(self) -> tuple[str, ...]:
        """``name==version sha256`` per distribution: what the layer's cache key is made of."""
        return tuple(f"{p.name}=={p.version} {p.sha256}" for p in self.packages)


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
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _malformed(path, f"it is not valid TOML ({exc})") from exc
        return cls(path, _parse(path, data, frozenset(tolerate or ())))

    def render(self) -> str:
        """The file's text: PEP 751, entries and packages in key and name order (stable diffs)."""
        keys = sorted(self.entries)
        lines = [
            _HEADER.rstrip("\n"),
            f"lock-version = {_string(_LOCK_VERSION)}",
            f"environments = [{_string(_ENVIRONMENT)}]",
            f"dependency-groups = {_array(keys)}",
            "default-groups = []",
            f"created-by = {_string(_TOOL)}",
        ]
        for key in keys:
            for package in self.entries[key].packages:
                wheel = (
                    f"{{ name = {_string(wheel_name(package.url))}, url = {_string(package.url)}, "
                    f"hashes = {{ sha256 = {_string(package.sha256)} }} }}"
                )
                lines += [
                    "",
                    "[[packages]]",
                    f"name = {_string(package.name)}",
                    f"version = {_string(package.version)}",
                    f"marker = {_string(_group_marker(key))}",
                    f"wheels = [{wheel}]",
                ]
        for key in keys:
            entry = self.entries[key]
            lines += [
                "",
                f"[tool.{_TOOL}.layers.{key}]",
                f"engine = {_string(entry.spec.engine)}",
                f"runtime = {_string(entry.spec.runtime)}",
                f"architecture = {_string(entry.spec.architecture)}",
                f"requirements = {_array(entry.spec.requirements)}",
                f"platforms = {_array(entry.platforms)}",
            ]
            if entry.spec.without_dependencies:
                lines.append(f"without-dependencies = {_array(entry.spec.without_dependencies)}")
            if entry.bytecode_python:
                lines.append(f"bytecode-python = {_string(entry.bytecode_python)}")
        return "\n".join(lines) + "\n"

    def write(self) -> bool:
        """Write the file atomically when its text changes; return True when it was written."""
        text = self.render()
        if self.path.exists() and self.path.read_text(encoding="utf-8") == text:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A crash or a concurrent reader never sees half a lock: write aside, then rename over.
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)
        return True


# The lock is only ever installed on Lambda's Linux CPython.
_ENVIRONMENT = "sys_platform == 'linux' and platform_python_implementation == 'CPython'"


def wheel_name(url: str) -> str:
    """The wheel's file name, the last segment of its URL."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


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
        if not package.url or not _SHA256.match(package.sha256) or not package.url.endswith(".whl"):
            raise RuntimeError(
                f"pip resolved {package.name}=={package.version} for {target.describe()} without a wheel "
                f"URL and sha256 (got {package.url!r}); the lock needs both. Is the index a PEP 503 index "
                "or a --find-links folder of wheels?"
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
    entry = resolve_entry(spec, bytecode_python)
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
    lock = Lock.read(path, tolerate=wanted if wanted is not None else _all_keys(path))
    if wanted is not None:
        unknown = sorted(wanted - lock.entries.keys())
        if unknown:
            raise LockError(
                f"{path} has no entry {', '.join(unknown)}; its entries are: "
                f"{', '.join(sorted(lock.entries)) or 'none'}"
            )
    changes: dict[str, list[str]] = {}
    # Resolve everything first and write once, so a failure half-way leaves the file as it was.
    for key in sorted(wanted if wanted is not None else lock.entries):
        old = lock.entries[key]
        new = resolve_entry(old.spec, bytecode_python(old.spec) or old.bytecode_python)
        changes[key] = version_changes(old.packages, new.packages)
        lock.entries[key] = new
    lock.write()
    return changes


def remove(path: Path, key: str) -> LockEntry:
    """Delete entry ``key`` (and its packages) from the lock at ``path``; return what was removed.

    Raises
    ------
    LockError
        When the file is malformed or has no such entry.
    """
    lock = Lock.read(path, tolerate={key})
    if key not in lock.entries:
        raise LockError(
            f"{path} has no entry {key}; its entries are: {', '.join(sorted(lock.entries)) or 'none'}"
        )
    removed = lock.entries.pop(key)
    lock.write()
    return removed


# --- reading ---------------------------------------------------------------------------------------


def _all_keys(path: Path) -> frozenset[str]:
    # Keys from the tool table alone, so an upgrade of everything can repair broken package lists.
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return frozenset()  # Lock.read reports it
    return frozenset(_layers_table(data) or {})


def _layers_table(data: dict[str, Any]) -> dict[str, Any] | None:
    # [tool.cdk-sklearn.layers], {} when absent, None when something on the way is not a table.
    table: dict[str, Any] = data
    for name in ("tool", _TOOL, "layers"):
        inner = table.get(name, {})
        if not isinstance(inner, dict):
            return None
        table = inner
    return table


def _parse(path: Path, data: dict[str, Any], tolerate: frozenset[str]) -> dict[str, LockEntry]:
    version = data.get("lock-version")
    if not isinstance(version, str) or version.split(".")[0] != _LOCK_VERSION.split(".")[0]:
        raise _malformed(path, f'lock-version is {version!r}, this cdk-sklearn reads "{_LOCK_VERSION}"')
    layers = _layers_table(data)
    if layers is None:
        raise _malformed(path, f"[tool.{_TOOL}.layers] is not a table")
    specs: dict[str, tuple[LayerSpec, tuple[str, ...], str | None]] = {}
    for key, table in layers.items():
        specs[key] = _parse_layer(path, key, table)
    groups = data.get("dependency-groups", [])
    if not isinstance(groups, list) or sorted(map(str, groups)) != sorted(specs):
        raise _malformed(
            path, f"dependency-groups {groups!r} does not list exactly the entries of [tool.{_TOOL}.layers]"
        )
    packages: dict[str, list[LockedPackage]] = {key: [] for key in specs}
    broken: set[str] = set()
    items = data.get("packages", [])
    if not isinstance(items, list):
        raise _malformed(path, "packages is not an array of tables")
    for index, item in enumerate(items):
        key = _package_group(path, index, item, specs.keys())
        try:
            packages[key].append(_parse_package(path, key, index, item))
        except LockError:
            if key not in tolerate:
                raise
            broken.add(key)
    entries = {}
    for key, (spec, platforms, bytecode) in specs.items():
        pinned = tuple(sorted(packages[key], key=lambda p: canonicalize_name(p.name)))
        if key in tolerate:
            pinned = () if key in broken else pinned
        else:
            _check_pins(path, key, spec, pinned)
        entries[key] = LockEntry(spec, platforms, pinned, bytecode)
    return entries


def _parse_layer(path: Path, key: str, table: Any) -> tuple[LayerSpec, tuple[str, ...], str | None]:
    where = f"[tool.{_TOOL}.layers.{key}]"
    if not isinstance(table, dict):
        raise _malformed(path, f"{where} is not a table", key)
    fields = {name: table.get(name) for name in ("engine", "runtime", "architecture")}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise _malformed(path, f"{where} has no string {name}", key)
    requirements, platforms = table.get("requirements"), table.get("platforms")
    for name, value in (("requirements", requirements), ("platforms", platforms)):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise _malformed(path, f"{where} {name} is not a non-empty array of strings", key)
    without = table.get("without-dependencies", [])
    if not isinstance(without, list) or not all(isinstance(v, str) for v in without):
        raise _malformed(path, f"{where} without-dependencies is not an array of strings", key)
    bytecode = table.get("bytecode-python")
    if bytecode is not None and not isinstance(bytecode, str):
        raise _malformed(path, f"{where} bytecode-python is not a string", key)
    assert isinstance(requirements, list) and isinstance(platforms, list)
    try:
        target = LambdaTarget(str(fields["runtime"]), str(fields["architecture"]))
        spec = LayerSpec.of(requirements, target, str(fields["engine"]), without)
    except ValueError as exc:
        raise _malformed(path, f"{where}: {exc}", key) from exc
    if spec.key != key:
        raise _malformed(
            path,
            f"{where} describes the layer whose key is {spec.key} (its requirements or target were edited "
            "by hand)",
            key,
        )
    if list(spec.requirements) != requirements:
        raise _malformed(path, f"{where} requirements are not normalised and sorted", key)
    return spec, tuple(platforms), bytecode


def _package_group(path: Path, index: int, item: Any, keys: Collection[str]) -> str:
    if not isinstance(item, dict):
        raise _malformed(path, f"packages[{index}] is not a table")
    marker = item.get("marker")
    match = _MARKER.match(marker) if isinstance(marker, str) else None
    if match is None or match.group(1) not in keys:
        raise _malformed(
            path,
            f"packages[{index}] ({item.get('name')!r}) has marker {marker!r}; cdk-sklearn writes "
            "\"'KEY' in dependency_groups\" with KEY an entry of [tool.cdk-sklearn.layers]",
        )
    return match.group(1)


def _parse_package(path: Path, key: str, index: int, item: dict[str, Any]) -> LockedPackage:
    name, version, wheels = item.get("name"), item.get("version"), item.get("wheels")
    where = f"packages[{index}] ({name!r} of entry {key})"
    if not isinstance(name, str) or not isinstance(version, str):
        raise _malformed(path, f"{where} has no string name and version", key)
    try:
        Version(version)
    except InvalidVersion as exc:
        raise _malformed(path, f"{where} version {version!r} is not a version", key) from exc
    if not isinstance(wheels, list) or len(wheels) != 1 or not isinstance(wheels[0], dict):
        raise _malformed(path, f"{where} must have exactly one wheel (the one for the entry's target)", key)
    url, hashes = wheels[0].get("url"), wheels[0].get("hashes")
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not isinstance(url, str) or not url:
        raise _malformed(path, f"{where} wheel has no url", key)
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise _malformed(
            path, f"{where} wheel has no sha256 of 64 lower-case hex digits (got {sha256!r})", key
        )
    return LockedPackage(name, version, url, sha256)


def _check_pins(path: Path, key: str, spec: LayerSpec, packages: Sequence[LockedPackage]) -> None:
    pinned = {canonicalize_name(p.name): p for p in packages}
    if len(pinned) != len(packages):
        raise _malformed(path, f"entry {key} pins a distribution twice", key)
    for text in spec.requirements:
        requirement = Requirement(text)
        if requirement.marker is not None:
            continue  # depends on the target environment; pip decided when resolving
        package = pinned.get(canonicalize_name(requirement.name))
        if package is None:
            raise _malformed(path, f"entry {key} requires {text} but pins no {requirement.name}", key)
        if not requirement.specifier.contains(package.version, prereleases=True):
            raise _malformed(
                path, f"entry {key} requires {text} but pins {package.name}=={package.version}", key
            )


def _malformed(path: Path, problem: str, key: str | None = None) -> LockError:
    fix = (
        f"delete the table [tool.{_TOOL}.layers.{key}] and the [[packages]] marked "
        f"\"'{key}' in dependency_groups\" (the next synth resolves that layer again), or run "
        f"`cdk-sklearn lock --upgrade --entry {key}`"
        if key
        else "restore it from version control, or delete it and synthesize again (every layer is "
        "then resolved afresh: review the new pins before committing)"
    )
    return LockError(
        f"the layer lock {path} is malformed: {problem}. cdk-sklearn stopped and changed nothing. "
        f"To fix it, {fix}."
    )


def _requirement_name(text: str) -> str:
    return canonicalize_name(Requirement(text).name)


def _group_marker(key: str) -> str:
    return f"'{key}' in dependency_groups"


# --- writing: the few TOML forms the lock uses, emitted by hand (tomllib only reads) ----------------


def _string(value: str) -> str:
    """A TOML basic string.

    JSON string escapes are a subset of TOML's (``\\"`` ``\\\\`` ``\\n`` ``\\uXXXX``...); JSON leaves
    DEL (U+007F) raw, which TOML forbids in a basic string, so it is escaped too.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"
