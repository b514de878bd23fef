"""Resolve and install the layer's wheels for a Lambda target with pip.

pip runs as a subprocess of the synth's interpreter (``python -m pip``) with the target's platform tags,
so it picks wheels built for the Lambda runtime, never the host's. Two steps, always: :func:`resolve`
(``--dry-run --report``) gives the exact versions and wheel hashes, which go into the app's lock
(:mod:`cdk_sklearn.packaging.lock`); :func:`install_locked` installs exactly those, hash-checked and
without resolving. ``requirements.lock`` next to the layer's ``python/`` records them too.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion

from cdk_sklearn.packaging.target import LambdaTarget
from lambda_runtime import limits

DEFAULT_INDEX_URL = "https://pypi.org/simple"
# pip's wording for "nothing satisfies this requirement" has been one of these two since pip 10; the
# second names the requirement before the first does in some versions.
_NO_MATCH = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the requirement)\s+(\S+)"
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")
_HASH_MISMATCH = "DO NOT MATCH THE HASHES"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(==\s*([^\s;,]+))?")


class ResolutionError(ValueError):
    """No set of wheels satisfies the requirements for the target; the message says what to change."""


class HashMismatchError(RuntimeError):
    """The index does not serve the locked wheel (another hash, or the version is gone); pip's words."""


@dataclass(frozen=True)
class LockedPackage:
    """One installed distribution, as pip resolved it.

    Attributes
    ----------
    name, version
        The distribution.
    wheel
        The wheel's file name (``numpy-2.5.5-cp313-cp313-manylinux_2_28_aarch64.whl``): which file of
        that version, whatever index serves it. No URL: an install asks the configured index by name,
        version and hash, so a lock never carries one machine's paths or mirror.
    sha256
        The wheel's SHA-256, hex.
    """

    name: str
    version: str
    wheel: str
    sha256: str

    def lock_line(self) -> str:
        """A ``requirements.txt`` line with the hash, so ``pip install --require-hashes`` can replay it."""
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


def pip_command() -> list[str]:
    """The pip of the interpreter running cdk-sklearn, quiet and without the version check."""
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def resolve(
    requirements: Sequence[str], target: LambdaTarget, *, with_dependencies: bool = True
) -> tuple[LockedPackage, ...]:
    """Resolve ``requirements`` for ``target`` into exact versions and wheel hashes, installing nothing.

    pip resolves as for an install (``--dry-run --report``), with the target's platform tags, so the
    result names the wheel each distribution would have on Lambda. pip's own options from the
    environment or its config (``PIP_INDEX_URL``, ``PIP_FIND_LINKS``...) apply.

    Parameters
    ----------
    requirements
        pip requirement strings, e.g. ``("scikit-learn==1.9.1", "pandas")``.
    target
        The Lambda runtime and architecture the wheels must load on.
    with_dependencies
        False resolves only the named distributions (``--no-deps``): full wheels whose dependencies
        are GPU-only (see :mod:`cdk_sklearn.packaging.cpu_wheels`).

    Returns
    -------
    tuple of LockedPackage
        Every distribution the layer needs, sorted by name.

    Raises
    ------
    ResolutionError
        When a requirement has no wheel for the target; the message names the package, the target and
        the runtimes or versions that would work.
    RuntimeError
        When pip fails for another reason (network, index); the message carries pip's output.
    """
    with tempfile.TemporaryDirectory(prefix="cdk-sklearn-resolve-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            *pip_command(),
            "install",
            "--quiet",
            "--dry-run",
            *(() if with_dependencies else ("--no-deps",)),
            "--ignore-installed",
            # pip before 23.1 takes --platform only with --target; nothing is written with --dry-run
            "--target",
            str(Path(scratch) / "target"),
            "--report",
            str(report),
            *target.pip_arguments(),
            *requirements,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            output = strip_ansi(completed.stdout + completed.stderr)
            missing = _NO_MATCH.search(output)
            if missing:
                raise ResolutionError(explain_missing_wheel(missing.group(1), target))
            raise RuntimeError(
                f"pip could not resolve {' '.join(requirements)} for {target.describe()} "
                f"(exit code {completed.returncode}): {pip_error(output)}"
            )
        return read_report(report)


def install_locked(packages: Sequence[LockedPackage], target: LambdaTarget, destination: Path) -> None:
    """Install exactly ``packages`` for ``target`` into ``destination``: no resolution, hash-checked.

    Each distribution is installed from ``name==version --hash=sha256:...`` with ``--no-deps`` and
    ``--require-hashes``, so pip neither picks another version nor accepts a wheel whose bytes differ
    from the locked one.

    Raises
    ------
    HashMismatchError
        When the index serves a wheel whose hash is not the locked one (or none of that version).
    RuntimeError
        When pip fails for another reason; the message carries pip's output.
    """
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cdk-sklearn-install-") as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text("".join(f"{package.lock_line()}\n" for package in packages))
        command = [
            *pip_command(),
            "install",
            "--quiet",
            "--no-compile",  # pip would compile for the HOST Python; bytecode.py compiles for the target
            "--no-deps",
            "--require-hashes",
            "--ignore-installed",
            "--upgrade",
            "--target",
            str(destination),
            *target.pip_arguments(),
            "-r",
            str(requirements),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = _without_warnings(strip_ansi(completed.stdout + completed.stderr))
        if _HASH_MISMATCH in output or _NO_MATCH.search(output):
            raise HashMismatchError(output.strip())
        raise RuntimeError(
            f"pip could not install the locked wheels for {target.describe()} "
            f"(exit code {completed.returncode}):\n{output}"
        )


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
                wheel=wheel_name(download.get("url", "")),
                sha256=hashes.get("sha256", ""),
            )
        )
    return tuple(sorted(packages, key=lambda p: p.name.lower()))


def wheel_name(url: str) -> str:
    """The file name a URL ends with (the wheel's name), ``""`` for none."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


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
    """Versions of ``distribution`` that have a wheel for ``target``, newest first (empty if none).

    Read from the package index's file listing (PEP 691 JSON of ``$PIP_INDEX_URL``, default PyPI),
    never from pip's output, so the answer does not depend on the pip version. A wheel counts when one
    of its tags is one pip accepts for the target (:func:`target_tags`); yanked files and pre-releases
    do not. Empty when the index cannot be read.
    """
    tags = target_tags(target)
    versions = set()
    for filename in index_files(distribution):
        try:
            _, version, _, wheel_tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if not version.is_prerelease and not wheel_tags.isdisjoint(tags):
            versions.add(version)
    return [str(version) for version in sorted(versions, reverse=True)]


def target_tags(target: LambdaTarget) -> frozenset[Tag]:
    """The wheel tags pip accepts for ``target`` given its ``--platform`` options.

    pip extends a ``manylinux_2_X`` platform to every older glibc (and ``manylinux2014`` to
    ``manylinux2010`` and ``manylinux1``); the interpreter tags are CPython's for the runtime's version,
    with ``abi3`` and pure-Python wheels.
    """
    newest = max(_glibc_minor(tag) for tag in target.platform_tags)
    machine = target.machine
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 4, -1)]
    platforms += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}"]
    version = target.version_tuple
    return frozenset(
        (
            *cpython_tags(version, abis=[target.abi], platforms=platforms),
            *compatible_tags(version, interpreter=target.abi, platforms=platforms),
        )
    )


def index_files(distribution: str) -> tuple[str, ...]:
    """File names the index lists for ``distribution`` (yanked ones left out); empty when unreadable."""
    return _index_files(os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX_URL, canonicalize_name(distribution))


@functools.lru_cache(maxsize=64)
def _index_files(index_url: str, name: str) -> tuple[str, ...]:
    request = urllib.request.Request(
        f"{index_url.rstrip('/')}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            listing = json.load(response)
    except (OSError, ValueError):
        return ()
    files = listing.get("files", []) if isinstance(listing, dict) else []
    return tuple(
        str(item["filename"])
        for item in files
        if isinstance(item, dict) and "filename" in item and not item.get("yanked")
    )


def _glibc_minor(platform_tag: str) -> int:
    if platform_tag.startswith("manylinux2014_"):
        return 17
    match = re.match(r"manylinux_2_(\d+)_", platform_tag)
    return int(match.group(1)) if match else 17


def explain_missing_wheel(requirement: str, target: LambdaTarget) -> str:
    """Say, in one line, which requirement has no wheel for ``target`` and what would work instead.

    Asks the index which runtimes (same architecture) have a wheel of the exact pinned version, and
    which is the newest version with a wheel for this runtime.

    Parameters
    ----------
    requirement
        The requirement pip could not satisfy, as pip printed it (ANSI colours are removed).
    target
        The layer's runtime and architecture.

    Returns
    -------
    str
        E.g. ``scikit-learn 1.9.1 has no wheel for python3.11 on Amazon Linux 2 (glibc 2.26, arm64);
        use runtime python3.12+ or retrain with scikit-learn<=1.7.0 (the newest with a wheel for
        python3.11)``.
    """
    clean = strip_ansi(requirement).strip().strip("'\"")
    match = _REQUIREMENT_NAME.match(clean)
    name = match.group(1) if match else clean
    pinned = match.group(4) if match else None
    here = available_versions(name, target)
    wanted = f"{name} {pinned}" if pinned else name
    message = f"{wanted} has no wheel for {target.describe()}"
    advice: list[str] = []
    if pinned:
        others = [
            runtime
            for runtime in limits.RUNTIMES
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


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor moves) some pip versions print."""
    return _ANSI.sub("", text)


def _runtime_range(runtimes: list[str]) -> str:
    ordered = [r for r in limits.RUNTIMES if r in runtimes]
    tail = limits.RUNTIMES[limits.RUNTIMES.index(ordered[0]) :]
    if tuple(ordered) == tail and len(ordered) > 1:
        return f"{ordered[0]}+"
    return " or ".join(ordered)


def pip_error(output: str) -> str:
    """pip's ``ERROR:`` lines of ``output``, joined into one line (all of it when there are none)."""
    lines = [line.strip() for line in strip_ansi(output).splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines if line.startswith("ERROR:")]
    return " ".join(errors or [line for line in lines if not line.startswith("WARNING:")])


def _without_warnings(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.startswith("WARNING: Location"))
