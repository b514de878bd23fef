"""The model-function core: what every construct that runs a model on Lambda builds the same way.

:class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`, :class:`~cdk_sklearn.batch.SklearnBatchScoring` (with
a function of its own) and the compute modes to come all need the same five things for a model file: the
model as an S3 asset, the shared layer, a log group, a least-privilege role and the function, with the same
cdk-nag acknowledgments. :class:`ModelFunctionProps` holds (and validates, once) every prop that makes the
function; :func:`prepare_model` inspects the model and decides its engine before any construct exists;
:func:`build_model_function` creates the five resources under the caller's scope, with the construct IDs
the endpoint always had (``ModelAsset``, ``FunctionLogs``, ``FunctionRole``, ``Function``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_sklearn.fit.check import Fit, check_fit
from cdk_sklearn.function_code import function_code, resolve_code_paths
from cdk_sklearn.layer import LayerProps, SklearnLayer
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model, is_onnx_file
from cdk_sklearn.model.engine import (
    ENGINE_CHOICES,
    EngineChoice,
    EngineError,
    choose_engine,
    onnx_runtime_problem,
)
from cdk_sklearn.model.skops_trust import check_trusted
from cdk_sklearn.nag import (
    acknowledge,
    acknowledge_compliance,
    acknowledge_inline_policy,
    acknowledge_log_group,
)
from cdk_sklearn.packaging.libraries import openmp_environment
from cdk_sklearn.validation import PropsError, check_bool, check_choice, check_int, check_strings
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

# CloudWatch namespaces: up to 255 of these characters; "AWS/" is reserved for AWS services.
_NAMESPACE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._/#:-")


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
    owner: str = field(default="SklearnLambdaEndpoint", compare=False, repr=False)

    def __post_init__(self) -> None:
        o = self.owner
        self._check_model_path()
        object.__setattr__(self, "runtime", _name_of(o, "runtime", self.runtime, limits.RUNTIMES))
        arch = _name_of(o, "architecture", self.architecture, limits.ARCHITECTURES)
        object.__setattr__(self, "architecture", arch)
        check_int("memory_size", self.memory_size, *limits.MEMORY_MB, owner=o)
        check_int("timeout_seconds", self.timeout_seconds, *limits.TIMEOUT_SECONDS, owner=o)
        check_int("ephemeral_storage_mb", self.ephemeral_storage_mb, *limits.EPHEMERAL_STORAGE_MB, owner=o)
        if self.log_retention_days not in limits.LOG_RETENTION_DAYS:
            allowed = ", ".join(map(str, limits.LOG_RETENTION_DAYS))
            raise PropsError(o, "log_retention_days", self.log_retention_days, allowed)
        check_bool("tracing", self.tracing, owner=o)
        self._check_environment()
        self._check_code()
        if not isinstance(self.layer, LayerProps):
            raise PropsError(o, "layer", self.layer, "a LayerProps (or its cdk.json object)")
        self._check_engine()

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
        object.__setattr__(self, "environment", dict(env))
        namespace = self.metrics_namespace
        if (
            not isinstance(namespace, str)
            or not 1 <= len(namespace) <= 255
            or not set(namespace) <= _NAMESPACE_CHARS
            or namespace.startswith("AWS/")
        ):
            raise PropsError(
                o,
                "metrics_namespace",
                namespace,
                "1 to 255 of letters, digits, space and . _ / # : -, not starting with 'AWS/'",
            )

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


def _name_of(owner: str, prop: str, value: object, allowed: Sequence[str]) -> str:
    # aws_lambda.Runtime and Architecture objects carry the name Lambda uses ("python3.13", "arm64").
    return check_choice(prop, getattr(value, "name", value), allowed, owner=owner)


def retention_days(days: int) -> logs.RetentionDays:
    """The ``aws_logs.RetentionDays`` of ``days`` (one of ``limits.LOG_RETENTION_DAYS``)."""
    return logs.RetentionDays(limits.LOG_RETENTION_NAMES[days])


@dataclass(frozen=True)
class PreparedModel:
    """What synth decided about a model before any construct exists.

    Attributes
    ----------
    choice
        The engine and the file it serves.
    fit
        The memory and INIT estimates at the function's settings.
    """

    choice: EngineChoice
    fit: Fit

    def summary(self, memory_size: int) -> str:
        """The synth line: the engine and why, then memory and INIT against the settings."""
        return f"engine {self.choice.engine}; {self.choice.detail}; {self.fit.summary(memory_size)}"


def prepare_model(props: ModelFunctionProps, *, cold_start: str = "none") -> PreparedModel:
    """Inspect the model, decide its engine and check it fits the function, before any construct exists.

    Parameters
    ----------
    props
        The function's props.
    cold_start
        The cold-start strategy (``none``, ``provisioned``, ``snapstart``): what INIT may take depends on it.

    Raises
    ------
    PropsError
        The file is not a model, a ``.skops`` file needs types ``skops_trusted_types`` leaves out, or
        ``memory_size`` is below the model's estimated peak (the message gives the value to set).
    EngineError
        ``engine="onnx"`` and the model cannot be served by the ONNX engine (the reason in one line).
    """
    choice = _choose_engine(props)
    fit = check_fit(
        choice.model,
        choice.engine,
        memory_size=props.memory_size,
        timeout_seconds=props.timeout_seconds,
        strategy=cold_start,
        owner=props.owner,
    )
    return PreparedModel(choice, fit)


def _choose_engine(props: ModelFunctionProps) -> EngineChoice:
    source = inspect_model(props.model_path)
    if source.format == "skops":
        # Types skops would refuse at load must fail here, not as a 503 after deploy.
        check_trusted(source.path, props.skops_trusted_types)
    try:
        return choose_engine(
            source,
            engine=props.engine,
            runtime=props.runtime,
            sample_input=props.sample_input,
            tolerance=props.onnx_tolerance,
            trusted_types=props.skops_trusted_types,
        )
    except EngineError as exc:
        raise EngineError(
            f"{props.owner}: engine={props.engine!r} cannot serve {props.model_path.name}: {exc}"
        ) from None


@dataclass(frozen=True)
class ModelFunction:
    """What :func:`build_model_function` created.

    Attributes
    ----------
    model_asset
        The model file (or its verified graph) as uploaded to the CDK assets bucket.
    layer
        The stack's shared :class:`~cdk_sklearn.layer.SklearnLayer` for this model.
    log_group
        The function's log group, with retention.
    role
        The function's role: its own logs and its model object only.
    function
        The function.
    """

    model_asset: s3_assets.Asset
    layer: SklearnLayer
    log_group: logs.LogGroup
    role: iam.Role
    function: lambda_.Function


@dataclass(frozen=True, kw_only=True)
class FunctionRole:
    """What differs between the functions built on the core: their handler, words and extras.

    Attributes
    ----------
    handler
        The handler string (``lambda_runtime.handler.handler`` or the batch entry).
    description
        The function's description, ahead of the model's hash.
    role_description
        The IAM role's description.
    environment
        Variables this kind of function adds (the endpoint's model name, body limit, route prefix).
    what
        How the nag reasons refer to the function (``endpoint``, ``job``).
    reserved_concurrency
        A hard cap on concurrent executions, or None.
    snap_start
        The SnapStart configuration, or None.
    """

    handler: str
    description: str
    role_description: str
    environment: Mapping[str, str] = field(default_factory=dict)
    what: str = "endpoint"
    reserved_concurrency: int | None = None
    snap_start: lambda_.SnapStartConf | None = None


def build_model_function(
    scope: Construct, props: ModelFunctionProps, choice: EngineChoice, kind: FunctionRole
) -> ModelFunction:
    """Create the model asset, the shared layer, the log group, the role and the function under ``scope``.

    Parameters
    ----------
    scope
        The construct the resources belong to (their IDs are ``ModelAsset``, ``FunctionLogs``,
        ``FunctionRole`` and ``Function`` under it; the layer is the stack's).
    props
        The function's validated props.
    choice
        The engine and the model file it serves (:func:`prepare_model`).
    kind
        What this kind of function adds.
    """
    # With the ONNX engine the asset is the verified graph, never the pickle it was converted from.
    model = choice.model
    model_asset = s3_assets.Asset(scope, "ModelAsset", path=str(model.path.resolve()))
    code, code_bytes = function_code(props.runtime, props.layer.bytecode_python, props.code_paths)
    layer = shared_sklearn_layer(scope, model=model, props=props, code_bytes=code_bytes)
    log_group = logs.LogGroup(
        scope, "FunctionLogs", retention=props.retention, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    role = model_function_role(
        scope, log_group=log_group, model_asset=model_asset, description=kind.role_description
    )
    engine_words = " as ONNX" if choice.engine == "onnx" else ""
    function = lambda_.Function(
        scope,
        "Function",
        runtime=props.runtime_object,
        architecture=props.architecture_object,
        handler=kind.handler,
        code=code,
        layers=[layer.layer_version],
        memory_size=props.memory_size,
        timeout=cdk.Duration.seconds(props.timeout_seconds),
        ephemeral_storage_size=cdk.Size.mebibytes(props.ephemeral_storage_mb),
        reserved_concurrent_executions=kind.reserved_concurrency,
        snap_start=kind.snap_start,
        tracing=lambda_.Tracing.ACTIVE if props.tracing else None,
        log_group=log_group,
        role=role,
        description=f"{kind.description} {props.model_path.name}{engine_words} ({model.sha256[:12]})",
        environment=function_environment(props, model, model_asset, kind.environment),
    )
    _acknowledge(props, role, function, kind.what)
    _acknowledge_compliance(log_group, role, function, kind)
    return ModelFunction(model_asset, layer, log_group, role, function)


def function_environment(
    props: ModelFunctionProps,
    model: ModelArtifact,
    model_asset: s3_assets.Asset,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """The function's environment: threads for its vCPUs, the model, the caller's extras, the user's."""
    env = {
        # Each OpenMP runtime in the process (scikit-learn's, LightGBM's) sized to the vCPUs the
        # function gets rather than the host's cores; the user's environment wins.
        **openmp_environment(props.memory_size),
        contract.ENV_MODEL_URI: model_uri(model_asset),
        **model.runtime_environment(),
        **extra,
    }
    if props.metrics_namespace != contract.DEFAULT_METRICS_NAMESPACE:
        env[contract.ENV_METRICS_NAMESPACE] = props.metrics_namespace
    if props.skops_trusted_types:
        env[contract.ENV_SKOPS_TRUSTED_TYPES] = ",".join(props.skops_trusted_types)
    env.update(props.environment)
    return env


def _acknowledge(props: ModelFunctionProps, role: iam.Role, function: lambda_.Function, what: str) -> None:
    if props.tracing:
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "tracing=True: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN, so "
            "Lambda's tracing policy must name '*' (https://docs.aws.amazon.com/xray/latest/devguide/"
            "security_iam_id-based-policy-examples.html).",
        )
    if props.runtime != LATEST_RUNTIME:
        acknowledge(
            function,
            "AwsSolutions-L1",
            f"{props.runtime} is the runtime chosen for this {what} (the default python3.13 is the newest "
            "one whose layer is boot-tested under its CPython); python3.14 is supported via runtime=.",
        )


# Why the compliance packs' Lambda findings do not apply, per kind of caller (FunctionRole.what).
_SYNCHRONOUS_CALLER = {
    "endpoint": "API Gateway (or the Function URL) invokes the function synchronously and returns its "
    "error to the caller",
    "job": "Step Functions invokes the function synchronously (RequestResponse), retries it and counts "
    "its failures against the map's tolerated failures",
}
_CONCURRENCY_CAP = {
    "endpoint": "The stage throttling (HTTP/REST API) bounds the request rate; set reserved_concurrency "
    "to also reserve and cap concurrent executions (a Function URL has no stage, so cap it that way).",
    "job": "The Distributed Map's max_concurrency (default 50) caps how many calls run at once.",
}


def _acknowledge_compliance(
    log_group: logs.LogGroup, role: iam.Role, function: lambda_.Function, kind: FunctionRole
) -> None:
    acknowledge_log_group(log_group)
    acknowledge_inline_policy(role.node.try_find_child("DefaultPolicy"))
    caller = _SYNCHRONOUS_CALLER.get(kind.what, _SYNCHRONOUS_CALLER["endpoint"])
    acknowledge_compliance(
        function,
        "LambdaDLQ",
        f"{caller}. A dead-letter queue receives only failed asynchronous invocations, which this "
        f"{kind.what} never gets.",
    )
    acknowledge_compliance(
        function,
        "LambdaInsideVPC",
        f"This {kind.what} reaches only S3 (its model object; a job's input and output prefixes) and "
        "CloudWatch Logs, through their public "
        "endpoints over TLS with SigV4; it uses no resource inside a VPC, and a VPC would add NAT or "
        "endpoint charges and cold-start work without narrowing what it can reach (its role does).",
    )
    if kind.reserved_concurrency is None:
        acknowledge_compliance(
            function,
            "LambdaConcurrency",
            "reserved_concurrency is unset: the function shares the account's concurrency pool. "
            + _CONCURRENCY_CAP.get(kind.what, _CONCURRENCY_CAP["endpoint"]),
        )


def shared_sklearn_layer(
    scope: Construct, *, model: ModelArtifact, props: ModelFunctionProps, code_bytes: int
) -> SklearnLayer:
    """The stack's scikit-learn layer for this model, runtime and architecture, created once.

    One layer per stack for each (pins, extras, runtime, architecture): functions whose models agree
    (several endpoints, an endpoint and a batch job) share it, so it is built, uploaded and published
    once.
    """
    layer = props.layer
    key = json.dumps(
        [
            sorted(model.requirements),
            sorted(layer.extra_requirements),
            props.runtime,
            props.architecture,
            layer.bytecode_python,
            # Appended only when set: the default layer keeps the construct ID it always had.
            *(["slim"] if layer.slim else []),
            # The closure check of a layer covers the user code shipped beside it.
            *([sorted(map(str, props.code_paths))] if props.code_paths else []),
        ]
    )
    layer_id = f"SklearnLayer{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(layer_id)
    if isinstance(existing, SklearnLayer):
        return existing
    return SklearnLayer(
        stack,
        layer_id,
        model=model,
        runtime=props.runtime_object,
        architecture=props.architecture_object,
        function_code_bytes=code_bytes,
        code_paths=props.code_paths,
        props=layer,
    )


def model_uri(asset: s3_assets.Asset) -> str:
    """``s3://bucket/key`` of an uploaded model file, the function's ``MODEL_URI``."""
    return f"s3://{asset.s3_bucket_name}/{asset.s3_object_key}"


def model_function_role(
    scope: Construct, *, log_group: logs.LogGroup, model_asset: s3_assets.Asset, description: str
) -> iam.Role:
    """The role of a function that serves or scores ``model_asset``: it writes to ``log_group`` and reads
    that one model object; callers add what else their function needs (a batch job's prefixes)."""
    # Instead of AWSLambdaBasicExecutionRole (logs on every log group of the account).
    role = iam.Role(
        scope,
        "FunctionRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    log_group.grant_write(role)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[model_asset.bucket.arn_for_objects(model_asset.s3_object_key)],
        )
    )
    return role


def settings_of(given: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """Pop the ``names`` present in ``given`` (the keyword settings a composing construct received)."""
    return {name: given.pop(name) for name in names if name in given}


FUNCTION_SETTINGS: tuple[str, ...] = tuple(ModelFunctionSettings.__annotations__)
"""Every prop of a model function, by name."""
