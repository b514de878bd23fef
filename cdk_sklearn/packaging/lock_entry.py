"""The layer lock's data: what decides a layer's resolution (:class:`LayerSpec`) and one layer's
locked resolution (:class:`LockEntry`); and :class:`LockError`, raised wherever the lock cannot be used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.target import LambdaTarget

ENGINES: tuple[str, ...] = ("sklearn", "onnx")
"""Engines a layer entry may name: the scikit-learn engine's layer, and the ONNX engine's (numpy +
onnxruntime)."""


class LockError(ValueError):
    """The lock file is malformed, or the index does not serve its wheels; the message says how to fix it."""


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
