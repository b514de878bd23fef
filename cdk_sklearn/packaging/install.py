"""Resolve and install the layer's wheels for a Lambda target with pip, and record the lock.

pip runs as a subprocess of the synth's interpreter (``python -m pip``) with the target's platform tags,
so it downloads wheels built for the Lambda runtime, never the host's. ``--report`` gives the exact
versions and wheel hashes, which become the lock written next to the layer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdk_sklearn.packaging.target import SUPPORTED_RUNTIMES, LambdaTarget

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(==\s*([^\s;,]+))?")


class ResolutionError(ValueError):
    """No set of wheels satisfies the requirements for the target; the message says what to change."""


@dataclass(frozen=True)
class LockedPackage:
    """One installed distribution, as pip resolved it."""

    name: str
    version: str
    url: str
    sha256: str

    def lock_line(self) -> str:
        """A ``requirements.txt`` line with the hash, so ``pip install --require-hashes`` can replay it."""
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


def pip_command() -> list[str]:
    """The pip of the interpreter running cdk-sklearn, quiet and without the version check."""
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def install(
    requirements: Sequence[str], target: LambdaTarget, destination: Path
) -> tuple[LockedPackage, ...]:
    """Install ``requirements`` and their dependencies for ``target`` into ``destination``.

    Parameters
    ----------
    requirements
        pip requirement strings, e.g. ``("scikit-learn==1.9.1", "pandas")``.
    target
        The Lambda runtime and architecture the wheels must load on.
    destination
        The folder that becomes ``/opt/python`` on Lambda.

    Returns
    -------
    tuple of LockedPackage
        Every distribution installed, sorted by name.

    Raises
    ------
    ResolutionError
        When a requirement has no wheel for the target; the message names the package, the target and
        the runtimes or versions that would work.
    RuntimeError
        When pip fails for another reason (network, index); the message carries pip's output.
    """
    destination.mkdir(parents=True, exist_ok=True)
    report = destination.parent / f"{destination.name}.pip-report.json"
    command = [
        *pip_command(),
        "install",
        "--quiet",
        "--no-compile",  # pip would compile for the HOST Python; bytecode.py compiles for the target
        "--ignore-installed",
        "--upgrade",
        "--target",
        str(destination),
        "--report",
        str(report),
        *target.pip_arguments(),
        *requirements,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = completed.stdout + completed.stderr
        missing = _NO_MATCH.search(output)
        if missing:
            raise ResolutionError(explain_missing_wheel(missing.group(1), target))
        raise RuntimeError(
            f"pip could not install {' '.join(requirements)} for {target.describe()} "
            f"(exit code {completed.returncode}):\n{_without_warnings(output)}"
        )
    try:
        return read_report(report)
    finally:
        report.unlink(missing_ok=True)


def install_without_dependencies(
    requirements: Sequence[str], target: LambdaTarget, destination: Path
) -> tuple[LockedPackage, ...]:
    """Install ``requirements`` for ``target`` into ``destination`` with ``--no-deps``.

    For full wheels whose dependencies are partly GPU-only (see :mod:`cdk_sklearn.packaging.cpu_wheels`):
    the caller installs the dependencies it keeps with :func:`install` first.
    """
    if not requirements:
        return ()
    report = destination.parent / f"{destination.name}.no-deps-report.json"
    command = [
        *pip_command(),
        "install",
        "--quiet",
        "--no-compile",
        "--no-deps",
        "--ignore-installed",
        "--target",
        str(destination),
        "--report",
        str(report),
        *target.pip_arguments(),
        *requirements,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"pip could not install {' '.join(requirements)} (without dependencies) for "
            f"{target.describe()} (exit code {completed.returncode}):\n"
            f"{_without_warnings(completed.stdout + completed.stderr)}"
        )
    try:
        return read_report(report)
    finally:
        report.unlink(missing_ok=True)


def read_report(report: Path) -> tuple[LockedPackage, ...]:
    """Parse a ``pip install --report`` file into locked packages."""
    data = json.loads(report.read_text())
    packages = []
    for item in data.get("install", []):
        metadata = item["metadata"]
        download = item.get("download_info", {})
        hashes = download.get("archive_info", {}).get("hashes", {})
        packages.append(
            LockedPackage(
                name=metadata["name"],
                version=metadata["version"],
                url=download.get("url", ""),
                sha256=hashes.get("sha256", ""),
            )
        )
    return tuple(sorted(packages, key=lambda p: p.name.lower()))


def write_lock(packages: Sequence[LockedPackage], target: LambdaTarget, path: Path) -> None:
    """Write the resolved lock as a hash-pinned requirements file with a header naming the target."""
    lines = [
        f"# cdk-sklearn layer lock for {target.describe()}",
        "# Replay: pip install --require-hashes --no-deps --no-compile --target python "
        + " ".join(target.pip_arguments())
        + f" -r {path.name}",
        *(package.lock_line() for package in packages),
    ]
    path.write_text("\n".join(lines) + "\n")


def available_versions(distribution: str, target: LambdaTarget) -> list[str]:
    """Versions of ``distribution`` that have a wheel for ``target``, newest first (empty if none)."""
    command = [*pip_command(), "index", "versions", distribution, "--json", *target.pip_arguments()]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        return []
    try:
        versions = json.loads(completed.stdout).get("versions", [])
    except json.JSONDecodeError:
        return []
    return [str(v) for v in versions]


def explain_missing_wheel(requirement: str, target: LambdaTarget) -> str:
    """Say which requirement has no wheel for ``target`` and what would work instead.

    Asks the index which runtimes (same architecture) have a wheel of the exact pinned version, and
    which is the newest version with a wheel for this runtime.
    """
    match = _REQUIREMENT_NAME.match(requirement)
    name = match.group(1) if match else requirement
    pinned = match.group(4) if match else None
    here = available_versions(name, target)
    wanted = f"{name} {pinned}" if pinned else name
    message = f"{wanted} has no wheel for {target.describe()}"
    advice: list[str] = []
    if pinned:
        others = [
            runtime
            for runtime in SUPPORTED_RUNTIMES
            if runtime != target.runtime
            and pinned in available_versions(name, LambdaTarget(runtime, target.architecture))
        ]
        if others:
            advice.append(f"use runtime {_runtime_range(others)}")
        if here:
            advice.append(f"retrain with {name}<={here[0]} (the newest with a wheel for {target.runtime})")
    elif here:
        advice.append(f"pin a version that has one, e.g. {name}=={here[0]}")
    if not advice:
        advice.append(
            f"check the name and that {name} publishes Linux wheels (source builds are not possible)"
        )
    return f"{message}; {' or '.join(advice)}"


def _runtime_range(runtimes: list[str]) -> str:
    ordered = [r for r in SUPPORTED_RUNTIMES if r in runtimes]
    tail = SUPPORTED_RUNTIMES[SUPPORTED_RUNTIMES.index(ordered[0]) :]
    if tuple(ordered) == tail and len(ordered) > 1:
        return f"{ordered[0]}+"
    return " or ".join(ordered)


def _without_warnings(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.startswith("WARNING: Location"))
