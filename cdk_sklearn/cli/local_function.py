"""The function ``cdk-sklearn serve`` stands in for: its memory, the environment Lambda would give it,
and what the model needs that this Python environment lacks.

Lambda gives a function CPU in proportion to its memory, and the construct sets ``OMP_NUM_THREADS``
to match (:func:`cdk_sklearn.packaging.libraries.openmp_environment`); Lambda itself sets
``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, from which the ONNX engine sizes its session. A local server
without them starts one OpenMP thread per core of the machine, and a 1-row request that takes 10 ms
on the function can take seconds on a busy laptop. So ``serve`` runs with the same variables, for the
memory of ``--memory-mb``, of ``--env`` in ``./cdk.json``, or the construct's default, and says which.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_sklearn.model.artifact import CPU_DISTRIBUTIONS, MODULE_DISTRIBUTIONS, ModelArtifact
from cdk_sklearn.packaging.libraries import openmp_environment
from lambda_runtime import contract, limits

MEMORY_VARIABLE = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
"""Set by Lambda in every function's environment: the memory size, MB."""
THREADS_VARIABLE = "OMP_NUM_THREADS"
FOREIGN_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Thread settings a shell may carry that the function does not have; they would override
``OMP_NUM_THREADS`` for the BLAS libraries, so ``serve`` leaves them out."""


@dataclass(frozen=True)
class LocalFunction:
    """The settings of the function ``serve`` imitates.

    Attributes
    ----------
    memory_mb
        Its memory size, MB.
    source
        Where the memory size came from, in words (``--memory-mb``, ``cdk.json environment 'prod'``).
    variables
        The ``environment`` of the cdk.json environment: it wins over the construct's, as on Lambda.
    model_name
        The cdk.json environment's ``model_name``, if it sets one.
    skops_trusted_types
        The cdk.json environment's ``skops_trusted_types``.
    extra_requirements
        The cdk.json environment's ``extra_requirements`` (flat or in its ``layer`` section).
    managed_instances
        The cdk.json environment runs on Lambda Managed Instances (``compute``): one thread per process.
    """

    memory_mb: int = limits.DEFAULT_MEMORY_MB
    source: str = "the construct's default"
    variables: Mapping[str, str] = field(default_factory=dict)
    model_name: str | None = None
    skops_trusted_types: tuple[str, ...] = ()
    extra_requirements: tuple[str, ...] = ()
    managed_instances: bool = False

    def environment(self) -> dict[str, str]:
        """The variables the function gets beyond the model's own: threads, memory, the user's."""
        threads = openmp_environment(self.memory_mb, managed_instances=self.managed_instances)
        env = {**threads, MEMORY_VARIABLE: str(self.memory_mb)}
        if self.skops_trusted_types:
            env[contract.ENV_SKOPS_TRUSTED_TYPES] = ",".join(self.skops_trusted_types)
        env.update(self.variables)
        return env

    def apply(self, environ: MutableMapping[str, str]) -> str:
        """Set :meth:`environment` in ``environ`` (``os.environ``), drop foreign thread settings; describe it.

        Returns
        -------
        str
            One line for the banner, such as ``threads: OMP_NUM_THREADS=1 (memory 1024 MB from the
            construct's default, like the function)``.
        """
        wanted = self.environment()
        threads = wanted[THREADS_VARIABLE]
        if THREADS_VARIABLE in self.variables:
            why = "set by the cdk.json environment's environment, as on the function"
        elif self.managed_instances:
            why = (
                "the cdk.json environment's compute is managed_instances: one per worker process, "
                "like the function"
            )
        else:
            why = f"memory {self.memory_mb} MB from {self.source}, like the function"
        notes = []
        for name in (THREADS_VARIABLE, *FOREIGN_THREAD_VARIABLES):
            shell = environ.get(name)
            if shell is not None and shell != wanted.get(name):
                notes.append(f"; your shell's {name}={shell} is not used")
            if name not in wanted:
                environ.pop(name, None)
        environ.update(wanted)
        return f"threads: {THREADS_VARIABLE}={threads} ({why})" + "".join(notes)


def local_function(memory_mb: int | None, env: str | None, folder: Path) -> LocalFunction:
    """The function to imitate: ``--memory-mb``, then ``--env``'s settings in ``folder/cdk.json``.

    Raises
    ------
    ValueError
        ``memory_mb`` is out of Lambda's range; ``--env`` names no environment of ``folder/cdk.json``
        (or there is none); or one of that environment's settings read here is malformed.
    """
    settings: Mapping[str, Any] = _cdk_json_environment(env, folder) if env is not None else {}
    where = f"cdk.json environment {env!r}"
    low, high = limits.MEMORY_MB
    if memory_mb is not None:
        if not low <= memory_mb <= high:
            raise ValueError(
                f"--memory-mb must be between {low} and {high} (Lambda's range), got {memory_mb}"
            )
        memory, source = memory_mb, "--memory-mb"
    elif "memory_size" in settings:
        memory, source = settings["memory_size"], where
        if isinstance(memory, bool) or not isinstance(memory, int) or not low <= memory <= high:
            raise ValueError(f"{where}: memory_size must be an integer from {low} to {high}, got {memory!r}")
    else:
        memory = limits.DEFAULT_MEMORY_MB
        source = "the construct's default" + (f" ({where} sets no memory_size)" if env is not None else "")
    layer = settings.get("layer")
    extras = settings.get("extra_requirements")
    if extras is None and isinstance(layer, dict):
        extras = layer.get("extra_requirements")
    return LocalFunction(
        memory_mb=memory,
        source=source,
        variables=_strings_mapping(settings.get("environment") or {}, f"{where}: environment"),
        model_name=_optional_string(settings.get("model_name"), f"{where}: model_name"),
        skops_trusted_types=_strings(
            settings.get("skops_trusted_types") or (), f"{where}: skops_trusted_types"
        ),
        extra_requirements=_strings(extras or (), f"{where}: extra_requirements"),
        managed_instances=settings.get("compute") == "managed_instances",
    )


def _cdk_json_environment(name: str, folder: Path) -> Mapping[str, Any]:
    path = folder / "cdk.json"
    if not path.is_file():
        raise ValueError(
            f"--env {name}: there is no cdk.json in {folder}; run serve in the CDK app's folder, or leave "
            "out --env and pass --memory-mb"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"--env {name}: {path} is not valid JSON ({exc}); fix it, or pass --memory-mb"
        ) from None
    context = data.get("context") if isinstance(data, dict) else None
    environments = context.get("environments") if isinstance(context, dict) else None
    if not isinstance(environments, dict) or name not in environments:
        known = ", ".join(sorted(environments)) if isinstance(environments, dict) else "none"
        raise ValueError(
            f"--env {name}: cdk.json has no environment {name!r} under context.environments (it has: "
            f"{known}); pass one of those"
        )
    settings = environments[name]
    if not isinstance(settings, dict):
        raise ValueError(f"cdk.json environment {name!r} must be an object of settings, got {settings!r}")
    return settings


def _strings_mapping(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{where} must be an object of strings, got {value!r}")
    return {str(k): v for k, v in value.items()}


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)


def _optional_string(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    return value


def missing_locally(artifact: ModelArtifact, extra_requirements: tuple[str, ...] = ()) -> str | None:
    """What the model needs at run time that this Python cannot import, and the command that installs it.

    The requirements are the layer's (:func:`cdk_sklearn.packaging.build.merge_requirements` of the
    model's and ``extra_requirements``), at the versions the app's layer lock pins when it has them, so
    ``serve`` runs what the function would. ``None`` when nothing is missing.
    """
    from cdk_sklearn.packaging.build import merge_requirements, parse_requirement

    requirements = merge_requirements(artifact.requirements, extra_requirements)
    modules = {_canonical(d): m for m, d in MODULE_DISTRIBUTIONS.items()}
    modules.update({_canonical(d): m for m, d in CPU_DISTRIBUTIONS.items()})
    missing = []
    for text in requirements:
        requirement = parse_requirement(text)
        module = modules.get(_canonical(requirement.name))
        if module is not None and importlib.util.find_spec(module) is None:
            missing.append((module, requirement))
    if not missing:
        return None
    locked = _locked_versions(requirements)
    installs = []
    usual = {_canonical(d): m for m, d in CPU_DISTRIBUTIONS.items()}
    for _, requirement in missing:
        # Locally, the usual distribution (xgboost), not the layer's Linux-only CPU build (xgboost-cpu).
        name = usual.get(_canonical(requirement.name), requirement.name)
        version = locked.get(_canonical(requirement.name))
        spec = str(requirement.specifier) or (f"=={version}" if version else "")
        installs.append(f"{name}{spec}")
    what = ", ".join(sorted({m for m, _ in missing}))
    command = f"{sys.executable} -m pip install " + " ".join(f"'{i}'" for i in installs)
    return (
        f"the model needs {what} at run time (the function's layer ships it), which this Python environment "
        f"({sys.prefix}) does not have; install it here and run serve again:\n  {command}"
    )


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _locked_versions(requirements: tuple[str, ...]) -> dict[str, str]:
    """Distribution -> version in the app's layer lock entry for exactly ``requirements``, if any."""
    from cdk_sklearn.packaging.build import parse_requirement
    from cdk_sklearn.packaging.lock import Lock, LockError, lock_path

    path = lock_path()
    if not path.is_file():
        return {}
    try:
        entries = Lock.read(path).entries.values()
    except LockError:
        return {}
    wanted = sorted(str(parse_requirement(r)) for r in requirements)
    for entry in entries:
        if sorted(entry.spec.requirements) == wanted:
            return {_canonical(p.name): p.version for p in entry.packages}
    return {}
