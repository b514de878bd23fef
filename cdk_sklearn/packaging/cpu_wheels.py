"""CPU-only builds of GPU-capable libraries, and what to do when a version has none.

XGBoost's default Linux wheel (``xgboost``) depends on ``nvidia-nccl-cu12``/``cu13`` (hundreds of MB)
that only multi-GPU training loads; ``xgboost-cpu`` is the same module without it. The model's
requirements ask for ``xgboost-cpu==<training version>``
(:data:`cdk_sklearn.model.artifact.CPU_DISTRIBUTIONS`). ``xgboost-cpu`` was first published for 2.1
and not for every version and platform (none for python3.11's manylinux2014 tags from 3.0 on, for
instance), so availability is asked of pip for the exact target, never assumed. When the CPU build
does not exist, the full wheel is installed *without dependencies* and its other dependencies are
added by name, dropping the ``nvidia-*`` ones: the library runs on CPU without them.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdk_sklearn.packaging.install import pip_command
from cdk_sklearn.packaging.target import LambdaTarget

# CPU-only distribution -> the full one it falls back to.
CPU_FALLBACKS: dict[str, str] = {"xgboost-cpu": "xgboost"}
# Dependencies of the full wheel that only GPU code loads.
_GPU_ONLY = re.compile(r"^nvidia-", re.IGNORECASE)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class WheelPlan:
    """How to install a layer's requirements.

    Attributes
    ----------
    requirements
        Resolved together, with dependencies.
    without_dependencies
        Installed afterwards with ``--no-deps`` (full wheels whose GPU-only dependencies are skipped).
    notes
        One line per substitution, for the build log.
    """

    requirements: tuple[str, ...]
    without_dependencies: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def wheel_metadata(requirement: str, target: LambdaTarget) -> dict[str, object] | None:
    """The metadata of the wheel pip would pick for ``requirement`` on ``target``, or None if none exists.

    ``pip install --dry-run --no-deps`` with the target's platform tags: pip reads the index and the
    wheel's metadata (PEP 658) without downloading or installing the wheel.
    """
    with tempfile.TemporaryDirectory(prefix="cdk-sklearn-wheel-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            *pip_command(),
            "install",
            "--dry-run",
            "--no-deps",
            "--ignore-installed",
            "--quiet",
            "--target",
            str(Path(scratch) / "target"),
            "--report",
            str(report),
            *target.pip_arguments(),
            requirement,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0 or not report.is_file():
            return None
        installs = json.loads(report.read_text()).get("install", [])
    if not installs:
        return None
    metadata = installs[0].get("metadata", {})
    return metadata if isinstance(metadata, dict) else None


def runtime_dependencies(metadata: dict[str, object]) -> tuple[list[str], list[str]]:
    """Split a wheel's ``Requires-Dist`` into (kept, GPU-only) requirement strings; extras are skipped."""
    kept: list[str] = []
    dropped: list[str] = []
    requires = metadata.get("requires_dist") or []
    assert isinstance(requires, list)
    for entry in requires:
        requirement, _, marker = str(entry).partition(";")
        if "extra" in marker:
            continue  # optional features the model does not ask for
        name = _NAME.match(requirement)
        if name is None:
            continue
        (dropped if _GPU_ONLY.match(name.group(1)) else kept).append(requirement.strip())
    return kept, dropped


def plan_cpu_wheels(
    requirements: Sequence[str],
    target: LambdaTarget,
    metadata: Callable[[str, LambdaTarget], dict[str, object] | None] = wheel_metadata,
) -> WheelPlan:
    """Keep each CPU-only requirement that has a wheel for ``target``; replace the others.

    Parameters
    ----------
    requirements
        The layer's requirement strings.
    target
        The Lambda runtime and architecture.
    metadata
        How to look a wheel up (pip by default; tests pass a table).

    Returns
    -------
    WheelPlan
        Unchanged requirements when every CPU-only build exists.
    """
    resolved: list[str] = []
    no_deps: list[str] = []
    notes: list[str] = []
    for requirement in requirements:
        name = _NAME.match(requirement)
        fallback = CPU_FALLBACKS.get(name.group(1).lower()) if name else None
        if name is None or fallback is None or metadata(requirement, target) is not None:
            resolved.append(requirement)
            continue
        full = fallback + requirement[name.end() :]
        full_metadata = metadata(full, target)
        if full_metadata is None:
            resolved.append(requirement)  # neither exists: let the install explain it
            continue
        kept, dropped = runtime_dependencies(full_metadata)
        no_deps.append(full)
        resolved += [dependency for dependency in kept if dependency not in resolved]
        skipped = (
            f"without its GPU-only dependencies ({', '.join(dropped)}), which CPU prediction never loads"
            if dropped
            else "(the full wheel: its library may hold GPU code, hundreds of MB on x86_64)"
        )
        notes.append(f"{requirement} has no wheel for {target.describe()}: installing {full} {skipped}")
    return WheelPlan(tuple(resolved), tuple(no_deps), tuple(notes))
