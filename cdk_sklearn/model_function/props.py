"""The props of a model function: everything that makes it, validated once when made."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from cdk_sklearn.function_code import resolve_code_paths
from cdk_sklearn.layer import LayerProps
from cdk_sklearn.model.artifact import is_onnx_file
from cdk_sklearn.model.engine import ENGINE_CHOICES, onnx_runtime_problem
from cdk_sklearn.validation import (
    PropsError,
    check_bool,
    check_choice,
    check_int,
    check_namespace,
    check_strings,
)
from lambda_runtime import contract, limits

DEFAULT_ONNX_TOLERANCE = 1e-5
"""The ``onnx_tolerance`` default (the converter's own default, which this module does not import: the
converter is only loaded when a conversion runs)."""

LATEST_RUNTIME = limits.RUNTIMES[-1]
"""The newest Python runtime; cdk-nag's AwsSolutions-L1 expects it, older ones get a written reason."""

PROP_FOR_ENVIRONMENT: Mapping[str, str] = {
    contract.ENV_MODEL_URI: "model_path",
    contract.ENV_MODEL_SHA256: "model_path",
    contract.ENV_MODEL_FORMAT: "model_path (the format is read from the file)",
    contract.ENV_MODEL_NAME: "model_name",
    contract.ENV_MODEL_SKLEARN_VERSION: "model_path (the version is read from the file)",
    contract.ENV_MAX_BODY_BYTES: "max_body_bytes",
    contract.ENV_SKOPS_TRUSTED_TYPES: "skops_trusted_types",
    contract.ENV_ROUTE_PREFIX: "shared_api (the prefix is /models/<model_name>)",
    contract.ENV_METRICS_NAMESPACE: "metrics_namespace",
}
"""Each variable the construct sets from the contract, and the prop a user sets it with instead."""

# What Lambda refuses at deploy (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html):
# keys it reserves, names outside its pattern, and more than 4 KB of variables in all.
_RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
_RESERVED_PREFIXES = ("AWS_LAMBDA_",)
# Where the runtime reads its credentials and S3 endpoint from: set by Lambda, never by a user's prop.
_REDIRECTING_PREFIXES = ("AWS_CONTAINER_", "AWS_ENDPOINT_URL")
_ENVIRONMENT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
ENVIRONMENT_MAX_BYTES = 4096


class ModelFunctionSettings(TypedDict, total=False):
    """The props of a model function as keyword arguments (and cdk.json keys); see
    :class:`ModelFunctionProps`. A construct's settings that compose them include these keys (``layer``
    may also be its cdk.json object)."""

    model_path: str | os.PathLike[str]
    runtime: str | lambda_.Runtime
    architecture: str | lambda_.Architecture
    memory_size: int
    timeout_seconds: int
    ephemeral_storage_mb: int
    log_retention_days: int
    tracing: bool
    environment: Mapping[str, str]
    metrics_namespace: str
    code_paths: Sequence[str | os.PathLike[str]]
    skops_trusted_types: Sequence[str]
    layer: LayerProps | Mapping[str, Any]
    engine: str
    sample_input: str | os.PathLike[str] | None
    onnx_tolerance: float


@dataclass(frozen=True, kw_only=True)
class ModelFunctionProps:
    """Everything that makes a model function, validated once when made.

    Parameters
    ----------
    model_path
        The model file (joblib, pickle, skops, or a verified ``.onnx``). Must exist at synth time.
    runtime, architecture
        Lambda Python runtime and architecture, as names or ``aws_lambda`` objects.
    memory_size, timeout_seconds, ephemeral_storage_mb
        Within Lambda's limits (:mod:`lambda_runtime.limits`).
    log_retention_days
        A retention period CloudWatch Logs accepts.
    tracing
        X-Ray active tracing.
    environment
        Extra environment variables; none of those the construct sets from the contract
        (:data:`PROP_FOR_ENVIRONMENT` names the prop to use instead).
    metrics_namespace
        The CloudWatch namespace of the runtime's metrics (the function's ``METRICS_NAMESPACE``).
    code_paths
        The user's modules shipped beside the runtime.
    skops_trusted_types
        Types of a ``.skops`` model trusted beyond skops' defaults.
    layer
        The layer's props.
    engine, sample_input, onnx_tolerance
        Which engine serves the model, the rows an ONNX conversion is verified on, its tolerance.
    on_managed_instances
        Whether the function runs on Lambda Managed Instances (set by the endpoint's
        ``compute="managed_instances"``, not a setting of its own): ``memory_size`` may then go up to
        32,768 MB (:data:`lambda_runtime.limits.MANAGED_INSTANCES_MEMORY_MB`) instead of 10,240.
    owner
        The construct named in error messages.
    """

    model_path: Path
    runtime: str = limits.DEFAULT_RUNTIME
    architecture: str = limits.DEFAULT_ARCHITECTURE
    memory_size: int = limits.DEFAULT_MEMORY_MB
    timeout_seconds: int = limits.DEFAULT_TIMEOUT_SECONDS
    ephemeral_storage_mb: int = limits.DEFAULT_EPHEMERAL_STORAGE_MB
    log_retention_days: int = limits.DEFAULT_LOG_RETENTION_DAYS
    tracing: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)
    metrics_namespace: str = contract.DEFAULT_METRICS_NAMESPACE
    code_paths: tuple[str | os.PathLike[str], ...] = ()
    skops_trusted_types: tuple[str, ...] = ()
    layer: LayerProps = field(default_factory=LayerProps)
    engine: str = "sklearn"
    sample_input: Path | None = None
    onnx_tolerance: float = DEFAULT_ONNX_TOLERANCE
    on_managed_instances: bool = False
    owner: str = field(default="SklearnLambdaEndpoint", compare=False, repr=False)

    def __post_init__(self) -> None:
        o = self.owner
        self._check_model_path()
        object.__setattr__(self, "runtime", _name_of(o, "runtime", self.runtime, limits.RUNTIMES))
        arch = _name_of(o, "architecture", self.architecture, limits.ARCHITECTURES)
        object.__setattr__(self, "architecture", arch)
        check_bool("on_managed_instances", self.on_managed_instances, owner=o)
        self._check_memory()
        check_int("timeout_seconds", self.timeout_seconds, *limits.TIMEOUT_SECONDS, owner=o)
        check_int("ephemeral_storage_mb", self.ephemeral_storage_mb, *limits.EPHEMERAL_STORAGE_MB, owner=o)
        if (
            not isinstance(self.log_retention_days, int)
            or isinstance(self.log_retention_days, bool)
            or self.log_retention_days not in limits.LOG_RETENTION_DAYS
        ):
            allowed = ", ".join(map(str, limits.LOG_RETENTION_DAYS))
            raise PropsError(o, "log_retention_days", self.log_retention_days, allowed)
        check_bool("tracing", self.tracing, owner=o)
        self._check_environment()
        self._check_code()
        if not isinstance(self.layer, LayerProps):
            raise PropsError(o, "layer", self.layer, "a LayerProps (or its cdk.json object)")
        self._check_engine()

    def _check_memory(self) -> None:
        low, on_demand_top = limits.MEMORY_MB
        top = limits.MANAGED_INSTANCES_MEMORY_MB[1]
        if self.on_managed_instances:
            # The managed-instances floor (2048) is checked with the other rules of that compute mode.
            check_int("memory_size", self.memory_size, low, top, owner=self.owner)
            return
        size = self.memory_size
        if isinstance(size, int) and not isinstance(size, bool) and on_demand_top < size <= top:
            raise PropsError(
                self.owner,
                "memory_size",
                size,
                f"an integer from {low} to {on_demand_top} (on-demand Lambda's limit); functions on Lambda "
                f"Managed Instances go up to {top}: set compute='managed_instances' for more memory",
            )
        check_int("memory_size", size, low, on_demand_top, owner=self.owner)

    def _check_model_path(self) -> None:
        if not isinstance(self.model_path, str | os.PathLike):
            raise PropsError(self.owner, "model_path", self.model_path, "the path of a model file")
        path = Path(self.model_path)
        if not path.exists():
            raise PropsError(
                self.owner,
                "model_path",
                str(path),
                f"an existing model file (relative paths are read from {Path.cwd()}; save the model with "
                "joblib.dump, pickle.dump or skops.io.dump first)",
            )
        if not path.is_file():
            raise PropsError(self.owner, "model_path", str(path), "a file, not a directory")
        object.__setattr__(self, "model_path", path)

    def _check_environment(self) -> None:
        env, o = self.environment, self.owner
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise PropsError(o, "environment", env, "an object of string names to string values")
        for name in sorted(env):
            if name in PROP_FOR_ENVIRONMENT:
                raise PropsError(
                    o,
                    "environment",
                    {name: env[name]},
                    f"names the construct does not set itself: set {name} with the prop "
                    f"{PROP_FOR_ENVIRONMENT[name]} instead",
                )
        _check_lambda_environment(o, env)
        object.__setattr__(self, "environment", dict(env))
        check_namespace("metrics_namespace", self.metrics_namespace, owner=o)

    def _check_code(self) -> None:
        o = self.owner
        if isinstance(self.code_paths, str | os.PathLike) or not isinstance(self.code_paths, Sequence):
            raise PropsError(o, "code_paths", self.code_paths, "a list of .py files and package folders")
        try:
            resolve_code_paths(self.code_paths)
        except ValueError as exc:
            raise PropsError(o, "code_paths", list(self.code_paths), str(exc)) from None
        object.__setattr__(self, "code_paths", tuple(self.code_paths))
        trusted = check_strings(
            "skops_trusted_types", self.skops_trusted_types, what="a list of type names", owner=o
        )
        object.__setattr__(self, "skops_trusted_types", trusted)

    def _check_engine(self) -> None:
        o = self.owner
        check_choice("engine", self.engine, ENGINE_CHOICES, owner=o)
        tolerance = self.onnx_tolerance
        if (
            not isinstance(tolerance, int | float)
            or isinstance(tolerance, bool)
            or not math.isfinite(tolerance)
            or tolerance < 0
        ):
            raise PropsError(
                o,
                "onnx_tolerance",
                tolerance,
                "a finite number >= 0: the largest absolute difference allowed between scikit-learn's and "
                "the graph's probabilities or regression outputs (default 1e-5)",
            )
        object.__setattr__(self, "onnx_tolerance", float(tolerance))
        committed_graph = is_onnx_file(self.model_path)
        if self.sample_input is not None:
            if not isinstance(self.sample_input, str | os.PathLike) or not Path(self.sample_input).is_file():
                raise PropsError(
                    o,
                    "sample_input",
                    self.sample_input,
                    "an existing file of rows like those the endpoint will receive (CSV with a header, "
                    "Parquet, .npy or JSON records)",
                )
            object.__setattr__(self, "sample_input", Path(self.sample_input))
        elif self.engine != "sklearn" and not committed_graph:
            raise PropsError(
                o,
                "sample_input",
                None,
                f"a file of sample rows with engine={self.engine!r}: the graph is verified on them against "
                "the model at synth (or pass a committed .onnx with its report as model_path)",
            )
        problem = onnx_runtime_problem(self.runtime)
        if problem is not None and (self.engine == "onnx" or committed_graph):
            raise PropsError(
                o, "runtime", self.runtime, f"python3.12 or newer for the ONNX engine; {problem}"
            )

    @property
    def runtime_object(self) -> lambda_.Runtime:
        """The ``aws_lambda.Runtime`` of the function."""
        # The library's own objects (not equal-named new ones): CDK compares runtimes by identity in places.
        runtime: lambda_.Runtime = getattr(
            lambda_.Runtime, "PYTHON_" + self.runtime[len("python") :].replace(".", "_")
        )
        return runtime

    @property
    def architecture_object(self) -> lambda_.Architecture:
        """The ``aws_lambda.Architecture`` of the function."""
        return lambda_.Architecture.ARM_64 if self.architecture == "arm64" else lambda_.Architecture.X86_64

    @property
    def retention(self) -> logs.RetentionDays:
        """The ``aws_logs.RetentionDays`` of ``log_retention_days``."""
        return retention_days(self.log_retention_days)


def _check_lambda_environment(owner: str, env: Mapping[str, str]) -> None:
    for name in sorted(env):
        if not _ENVIRONMENT_NAME.fullmatch(name):
            raise PropsError(
                owner, "environment", {name: env[name]}, "names of a letter then letters, digits, _"
            )
        if name in _RESERVED_ENVIRONMENT or name.startswith(_RESERVED_PREFIXES):
            raise PropsError(
                owner, "environment", {name: env[name]}, "names Lambda does not reserve for itself"
            )
        if name.startswith(_REDIRECTING_PREFIXES):
            raise PropsError(
                owner,
                "environment",
                {name: env[name]},
                "names other than AWS_CONTAINER_* and AWS_ENDPOINT_URL*: they would redirect where the "
                "function reads its credentials and its model",
            )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
    if size > ENVIRONMENT_MAX_BYTES:
        raise PropsError(
            owner,
            "environment",
            f"{size} bytes",
            f"at most {ENVIRONMENT_MAX_BYTES} bytes of names and values in all",
        )


def _name_of(owner: str, prop: str, value: object, allowed: Sequence[str]) -> str:
    # aws_lambda.Runtime and Architecture objects carry the name Lambda uses ("python3.13", "arm64").
    return check_choice(prop, getattr(value, "name", value), allowed, owner=owner)


def retention_days(days: int) -> logs.RetentionDays:
    """The ``aws_logs.RetentionDays`` of ``days`` (one of ``limits.LOG_RETENTION_DAYS``)."""
    return logs.RetentionDays(limits.LOG_RETENTION_NAMES[days])


FUNCTION_SETTINGS: tuple[str, ...] = tuple(ModelFunctionSettings.__annotations__)
"""Every prop of a model function, by name."""
