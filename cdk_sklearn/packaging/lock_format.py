"""The layer lock's file format: PEP 751 TOML read and checked into entries, and written back.

Reading checks that the file holds together (every entry's table, package markers, one wheel with a
sha256 per package, pins that satisfy their requirements) and raises :class:`LockError` naming the
entry and the fix. Writing emits the few TOML forms the lock uses by hand (``tomllib`` only reads),
in key and name order, so diffs stay stable.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from cdk_sklearn.packaging.install import LockedPackage, wheel_name
from cdk_sklearn.packaging.lock_entry import LayerSpec, LockEntry, LockError
from cdk_sklearn.packaging.target import LambdaTarget

_TOOL = "cdk-sklearn"
_LOCK_VERSION = "1.0"
_MARKER = re.compile(r"^'([a-z0-9][a-z0-9-]*)' in dependency_groups$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
"""A wheel's sha256 as the lock records it: 64 lower-case hex digits."""
_HEADER = (
    "# The cdk-sklearn layer lock (PEP 751): the exact wheels of each Lambda layer of this CDK app.\n"
    "# Written by `cdk synth`; commit it. Every synth installs these wheels, hash-checked, instead of\n"
    "# resolving again. `cdk-sklearn lock --upgrade [--entry KEY]` re-resolves on purpose.\n"
)


# The lock is only ever installed on Lambda's Linux CPython.
_ENVIRONMENT = "sys_platform == 'linux' and platform_python_implementation == 'CPython'"


# --- reading ---------------------------------------------------------------------------------------


def read_entries(path: Path, tolerate: frozenset[str]) -> dict[str, LockEntry]:
    """The entries of the lock file at ``path``, checked.

    Parameters
    ----------
    path
        An existing lock file.
    tolerate
        Keys whose packages may be broken (they are about to be re-resolved); their entries come back
        with no packages.

    Raises
    ------
    LockError
        When the file is not valid TOML or does not hold together.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _malformed(path, f"it is not valid TOML ({exc})") from exc
    return _parse(path, data, tolerate)


def all_keys(path: Path) -> frozenset[str]:
    """The entry keys of the lock at ``path`` from its tool table alone; empty when it is not TOML.

    An upgrade of every entry reads the keys this way, so it can repair broken package lists.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return frozenset()  # read_entries reports it
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
    wheel, hashes = wheels[0].get("name"), wheels[0].get("hashes")
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    if wheel is None and isinstance(wheels[0].get("url"), str):
        wheel = wheel_name(wheels[0]["url"])  # written by cdk-sklearn before 2026-12: a URL, no name
    problem = wheel_problem(name, version, wheel)
    if problem:
        raise _malformed(path, f"{where} {problem}", key)
    if not isinstance(sha256, str) or not SHA256.match(sha256):
        raise _malformed(
            path, f"{where} wheel has no sha256 of 64 lower-case hex digits (got {sha256!r})", key
        )
    assert isinstance(wheel, str)
    return LockedPackage(name, version, wheel, sha256)


def wheel_problem(name: str, version: str, wheel: object) -> str | None:
    """What is wrong with ``wheel`` as the file name of ``name==version``'s wheel, or ``None``."""
    if not isinstance(wheel, str) or not wheel:
        return "wheel has no file name"
    try:
        wheel_distribution, wheel_version, _, _ = parse_wheel_filename(wheel)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        return f"wheel {wheel!r} is not a wheel file name ({exc})"
    if wheel_distribution != canonicalize_name(name) or wheel_version != Version(version):
        return f"wheel {wheel!r} is not a wheel of {name} {version}"
    return None


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


def _group_marker(key: str) -> str:
    return f"'{key}' in dependency_groups"


# --- writing: the few TOML forms the lock uses, emitted by hand (tomllib only reads) ----------------


def render(entries: Mapping[str, LockEntry]) -> str:
    """The file's text: PEP 751, entries and packages in key and name order (stable diffs)."""
    keys = sorted(entries)
    lines = [
        _HEADER.rstrip("\n"),
        f"lock-version = {_string(_LOCK_VERSION)}",
        f"environments = [{_string(_ENVIRONMENT)}]",
        f"dependency-groups = {_array(keys)}",
        "default-groups = []",
        f"created-by = {_string(_TOOL)}",
    ]
    for key in keys:
        for package in entries[key].packages:
            lines += _package_lines(key, package)
    for key in keys:
        lines += _layer_lines(key, entries[key])
    return "\n".join(lines) + "\n"


def _package_lines(key: str, package: LockedPackage) -> list[str]:
    # No url: the index that resolved it (a mirror, a local folder) is not part of what is locked.
    wheel = f"{{ name = {_string(package.wheel)}, hashes = {{ sha256 = {_string(package.sha256)} }} }}"
    return [
        "",
        "[[packages]]",
        f"name = {_string(package.name)}",
        f"version = {_string(package.version)}",
        f"marker = {_string(_group_marker(key))}",
        f"wheels = [{wheel}]",
    ]


def _layer_lines(key: str, entry: LockEntry) -> list[str]:
    lines = [
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
    return lines


def _string(value: str) -> str:
    """A TOML basic string.

    JSON string escapes are a subset of TOML's (``\\"`` ``\\\\`` ``\\n`` ``\\uXXXX``...); JSON leaves
    DEL (U+007F) raw, which TOML forbids in a basic string, so it is escaped too.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _array(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"
