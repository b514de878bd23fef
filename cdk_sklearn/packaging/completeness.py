"""The installed layer holds exactly what its lock entry's requirements need: no more, no fewer.

A lock entry is installed with ``--no-deps``, so pip installs whatever the entry lists and checks
nothing between the wheels. A distribution missing from the entry (hand-edited, merged badly) would
fail on Lambda at import time; one nothing requires would ship dead weight, or code nobody asked for.
After the install, the wheels' own metadata (``Requires-Dist``) is walked from the entry's
requirements, with markers evaluated for the Lambda target:

* *missing*: a requirement the target needs whose distribution is not installed;
* *conflicting*: one whose installed version is outside the requirement's range;
* *extra*: an installed distribution no requirement reaches. pip evaluates markers for the machine it
  runs on, not for ``--platform``, so a dependency reached by the host's markers counts as reached.

Full wheels installed without their dependencies (GPU-only ones, see :mod:`.cpu_wheels`) are roots
whose own requirements are not followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn.packaging.lock_entry import LockEntry
from cdk_sklearn.packaging.target import LambdaTarget

_ROOT = "the layer's requirements"


@dataclass
class Completeness:
    """What the walk found; each list sorted.

    Attributes
    ----------
    missing
        ``name (required by X)`` per distribution the target needs and the layer lacks.
    extra
        Names of installed distributions nothing requires.
    conflicts
        ``X requires name>=1 but the entry pins name 0.9`` per version outside a requirement's range.
    """

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.conflicts)

    def describe(self) -> str:
        """The problems in one line: ``missing a (required by b); not required by anything: c``."""
        parts = []
        if self.missing:
            parts.append(f"missing {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"not required by anything: {', '.join(self.extra)}")
        return "; ".join([*parts, *self.conflicts])


def target_environment(target: LambdaTarget, python_release: str | None = None) -> dict[str, str]:
    """PEP 508 marker values on the Lambda runtime of ``target``.

    ``python_release`` (``"3.13.5"``) gives ``python_full_version``; without it, ``X.Y.0``.
    """
    version = target.python_version
    full = python_release or f"{version}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": version,
        "sys_platform": "linux",
    }


def check_installed(
    site_packages: Path,
    requirements: Sequence[str],
    without_dependencies: Sequence[str],
    target: LambdaTarget,
    python_release: str | None = None,
) -> Completeness:
    """Compare what is installed in ``site_packages`` with what ``requirements`` need on ``target``.

    Parameters
    ----------
    site_packages
        The folder the entry was installed into (``.dist-info`` folders intact).
    requirements
        The entry's requirements, whose dependencies are followed.
    without_dependencies
        Requirements installed with ``--no-deps``: reached, but their dependencies are not followed.
    target
        The Lambda runtime and architecture the markers are evaluated for.
    python_release
        The runtime's CPython release, when known, for ``python_full_version`` markers.
    """
    installed = {
        canonicalize_name(str(dist.metadata["Name"])): dist
        for dist in metadata.distributions(path=[str(site_packages)])
    }
    lambda_env = target_environment(target, python_release)
    host_env = {key: str(value) for key, value in default_environment().items()}
    missing: set[str] = set()
    conflicts: set[str] = set()
    followed: dict[str, set[str]] = {}  # distribution -> the extras whose requirements were walked
    pending: list[tuple[str, str, tuple[str, ...], bool]] = [
        (text, _ROOT, ("",), True) for text in requirements
    ]
    pending += [(text, _ROOT, ("",), False) for text in without_dependencies]
    while pending:
        text, requirer, extras, follow = pending.pop()
        requirement = _parsed(text)
        if requirement is None:
            continue
        name = canonicalize_name(requirement.name)
        dist = installed.get(name)
        on_lambda = _applies(requirement, lambda_env, extras)
        if on_lambda and dist is None:
            missing.add(f"{requirement.name} (required by {requirer})")
        elif on_lambda and dist is not None and not requirement.specifier.contains(dist.version, True):
            conflicts.add(
                f"{requirer} requires {requirement} but the entry pins {requirement.name} {dist.version}"
            )
        if dist is None or not (on_lambda or _applies(requirement, host_env, extras)):
            continue
        new = ({""} | requirement.extras) - followed.setdefault(name, set())
        followed[name] |= new
        if follow and new:
            label = str(dist.metadata["Name"])
            pending += [(child, label, tuple(new), True) for child in dist.requires or ()]
    extra = sorted(str(installed[name].metadata["Name"]) for name in installed.keys() - followed.keys())
    return Completeness(sorted(missing), extra, sorted(conflicts))


def _parsed(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None  # a wheel's malformed metadata: pip installed it, nothing to follow


def _applies(requirement: Requirement, environment: dict[str, str], extras: Iterable[str]) -> bool:
    # Whether ``requirement`` holds in ``environment`` when its requirer was asked for any of ``extras``.
    marker = requirement.marker
    return marker is None or any(marker.evaluate({**environment, "extra": extra}) for extra in extras)


def incomplete_message(entry: LockEntry, lock: Path | None, found: Completeness) -> str:
    """Why entry ``entry`` of ``lock`` cannot be installed as it is, and the command that fixes it."""
    where = str(lock) if lock else "the layer lock"
    return (
        f"lock entry {entry.key} in {where} ({entry.spec.describe()}) does not list exactly the "
        f"distributions its wheels require: {found.describe()}. cdk-sklearn stopped and changed nothing. "
        f"Was the entry edited by hand? Run `cdk-sklearn lock --upgrade --entry {entry.key}` and review "
        "the new pins."
    )
