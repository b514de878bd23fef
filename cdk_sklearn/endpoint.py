"""``SklearnLambdaEndpoint``: a scikit-learn model served by AWS Lambda behind an HTTPS front door.

What it creates, in data-flow order:

1. the model file as an S3 asset (uploaded as-is by ``cdk deploy``);
2. a layer with the scikit-learn version the model was trained with (:class:`SklearnLayer`);
3. the function, whose code is the ``lambda_runtime`` package, told where the model is
   (``MODEL_URI``) and which bytes it must be (``MODEL_SHA256``);
4. the alias ``live`` on the current version, optionally with provisioned concurrency;
5. an HTTP API whose every route invokes the alias, never ``$LATEST``: provisioned
   concurrency is attached to the alias, so traffic to ``$LATEST`` would pay for warm
   environments and still cold start.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack, cast, overload

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct, IConstruct

from cdk_sklearn.cold_start import ColdStart
from cdk_sklearn.front_door import FrontDoor, FrontDoorProps, SharedHttpApi, build_front_door
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
from cdk_sklearn.monitoring import EndpointMonitoring, MonitoringProps
from cdk_sklearn.nag import acknowledge
from cdk_sklearn.packaging.libraries import openmp_environment
from cdk_sklearn.rollout import STRATEGIES as ROLLOUT_STRATEGIES
from cdk_sklearn.rollout import RolloutProps, SafeRollout
from cdk_sklearn.validation import PropsError, check_bool, check_choice, check_int, check_strings, invalid
from lambda_runtime import contract, limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME

OWNER = "SklearnLambdaEndpoint"
HANDLER = "lambda_runtime.handler.handler"
_RUNTIME_OBJECTS: Mapping[str, lambda_.Runtime] = {
    "python3.11": lambda_.Runtime.PYTHON_3_11,
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
    "python3.14": lambda_.Runtime.PYTHON_3_14,
}
_ARCHITECTURE_OBJECTS: Mapping[str, lambda_.Architecture] = {
    "arm64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}
ROLLOUTS: tuple[str, ...] = (*ROLLOUT_STRATEGIES, "none")
DEFAULT_ONNX_TOLERANCE = 1e-5
"""The ``onnx_tolerance`` default (``cdk_sklearn.model.onnx_convert.DEFAULT_TOLERANCE``, which this module
does not import: the converter is only loaded when a conversion runs)."""
# The newest Python runtime cdk-nag's AwsSolutions-L1 expects; older ones get a written reason.
LATEST_RUNTIME = limits.RUNTIMES[-1]


class EndpointSettings(TypedDict, total=False):
    """The props of :class:`SklearnLambdaEndpoint` as keyword arguments (and cdk.json keys).

    Each is documented on :class:`SklearnLambdaEndpoint`; type checkers and editors see them at the
    call site through ``**settings: Unpack[EndpointSettings]``.
    """

    model_path: Required[str | os.PathLike[str]]
    runtime: str | lambda_.Runtime
    architecture: str | lambda_.Architecture
    memory_size: int
    timeout_seconds: int
    ephemeral_storage_mb: int
    reserved_concurrency: int | None
    model_name: str
    max_body_bytes: int
    environment: Mapping[str, str]
    log_retention_days: int
    tracing: bool
    code_paths: Sequence[str | os.PathLike[str]]
    skops_trusted_types: Sequence[str]
    extra_requirements: Sequence[str]
    bytecode_python: str | None
    layer_slim: bool
    cold_start: ColdStart | Mapping[str, Any] | None
    provisioned_concurrency: int
    front_door: str
    auth: str
    jwt_issuer: str | None
    jwt_audience: Sequence[str]
    throttle_rate_limit: float
    throttle_burst_limit: int
    cors_allow_origins: Sequence[str]
    shared_api: SharedHttpApi | None
    monitoring: bool
    alarm_email: str | None
    latency_p99_threshold_ms: float
    server_error_rate_percent: float
    rollout: str
    engine: str
    sample_input: str | os.PathLike[str] | None
    onnx_tolerance: float


SETTINGS: tuple[str, ...] = tuple(EndpointSettings.__annotations__)
"""Every prop of :class:`SklearnLambdaEndpoint`, in the order the README documents them."""

# Flat props that belong to a part's props type: prop -> (part, that type's field).
_LAYER = {
    "extra_requirements": "extra_requirements",
    "bytecode_python": "bytecode_python",
    "layer_slim": "slim",
}
_FRONT_DOOR = {
    name: name
    for name in (
        "front_door",
        "auth",
        "jwt_issuer",
        "jwt_audience",
        "throttle_rate_limit",
        "throttle_burst_limit",
        "cors_allow_origins",
    )
}
_MONITORING = {
    name: name for name in ("alarm_email", "latency_p99_threshold_ms", "server_error_rate_percent")
}


@dataclass(frozen=True, kw_only=True)
class EndpointProps:
    """The validated props of a :class:`SklearnLambdaEndpoint`: its own, and its parts' props.

    Build it with :meth:`from_settings` (what the constructor and the cdk.json loader do); every value
    is checked once, by the props type that owns it, before any construct exists.

    Attributes
    ----------
    model_path, runtime, architecture, memory_size, timeout_seconds, ephemeral_storage_mb,
    reserved_concurrency, model_name, max_body_bytes, environment, log_retention_days, shared_api
        The endpoint's own props (see :class:`SklearnLambdaEndpoint`).
    layer
        The layer's props (``extra_requirements``, ``bytecode_python``, ``layer_slim``).
    cold_start
        The cold-start strategy (``cold_start``, with ``provisioned_concurrency`` folded in).
    front_door
        The front door's props (``front_door``, ``auth``, ``jwt_*``, ``throttle_*``, ``cors_allow_origins``).
    monitoring
        The monitoring's props, or None when ``monitoring=False``.
    rollout
        The rollout's props, or None when ``rollout="none"``.
    engine, sample_input, onnx_tolerance
        Which engine serves the model (``sklearn``, ``onnx``, ``auto``), the rows an ONNX conversion is
        verified on, and its tolerance (see :class:`SklearnLambdaEndpoint`).
    """

    model_path: Path
    runtime: str = DEFAULT_RUNTIME
    architecture: str = DEFAULT_ARCHITECTURE
    memory_size: int = limits.DEFAULT_MEMORY_MB
    timeout_seconds: int = limits.DEFAULT_TIMEOUT_SECONDS
    ephemeral_storage_mb: int = limits.DEFAULT_EPHEMERAL_STORAGE_MB
    reserved_concurrency: int | None = None
    model_name: str = contract.DEFAULT_MODEL_NAME
    max_body_bytes: int = contract.DEFAULT_MAX_BODY_BYTES
    environment: Mapping[str, str] = field(default_factory=dict)
    log_retention_days: int = limits.DEFAULT_LOG_RETENTION_DAYS
    tracing: bool = False
    code_paths: tuple[str | os.PathLike[str], ...] = ()
    skops_trusted_types: tuple[str, ...] = ()
    shared_api: SharedHttpApi | None = None
    layer: LayerProps = field(default_factory=lambda: LayerProps(owner=OWNER))
    cold_start: ColdStart = field(default_factory=ColdStart)
    front_door: FrontDoorProps = field(default_factory=lambda: FrontDoorProps(owner=OWNER))
    monitoring: MonitoringProps | None = field(default_factory=lambda: MonitoringProps(owner=OWNER))
    rollout: RolloutProps | None = field(default_factory=lambda: RolloutProps(owner=OWNER))
    engine: str = "sklearn"
    sample_input: Path | None = None
    onnx_tolerance: float = DEFAULT_ONNX_TOLERANCE

    def __post_init__(self) -> None:
        self._check_model_path()
        object.__setattr__(self, "runtime", _name_of("runtime", self.runtime, limits.RUNTIMES))
        object.__setattr__(
            self, "architecture", _name_of("architecture", self.architecture, limits.ARCHITECTURES)
        )
        check_int("memory_size", self.memory_size, *limits.MEMORY_MB)
        check_int("timeout_seconds", self.timeout_seconds, *limits.TIMEOUT_SECONDS)
        check_int("ephemeral_storage_mb", self.ephemeral_storage_mb, *limits.EPHEMERAL_STORAGE_MB)
        if self.reserved_concurrency is not None:
            check_int("reserved_concurrency", self.reserved_concurrency, 1)
        if not contract.is_valid_model_name(self.model_name):
            raise invalid("model_name", self.model_name, contract.MODEL_NAME_RULE)
        check_int("max_body_bytes", self.max_body_bytes, 1, contract.SYNC_PAYLOAD_LIMIT_BYTES)
        self._check_environment()
        check_bool("tracing", self.tracing)
        if isinstance(self.code_paths, str | os.PathLike) or not isinstance(self.code_paths, Sequence):
            raise invalid("code_paths", self.code_paths, "a list of .py files and package folders")
        try:
            resolve_code_paths(self.code_paths)
        except ValueError as exc:
            raise invalid("code_paths", list(self.code_paths), str(exc)) from None
        object.__setattr__(self, "code_paths", tuple(self.code_paths))
        trusted = check_strings("skops_trusted_types", self.skops_trusted_types, what="a list of type names")
        object.__setattr__(self, "skops_trusted_types", trusted)
        if self.log_retention_days not in limits.LOG_RETENTION_DAYS:
            raise invalid(
                "log_retention_days", self.log_retention_days, ", ".join(map(str, limits.LOG_RETENTION_DAYS))
            )
        self._check_engine()
        self._check_parts_together()

    def _check_engine(self) -> None:
        check_choice("engine", self.engine, ENGINE_CHOICES)
        tolerance = self.onnx_tolerance
        if (
            not isinstance(tolerance, int | float)
            or isinstance(tolerance, bool)
            or not math.isfinite(tolerance)
            or tolerance < 0
        ):
            raise invalid(
                "onnx_tolerance",
                tolerance,
                "a finite number >= 0: the largest absolute difference allowed between scikit-learn's and "
                "the graph's probabilities or regression outputs (default 1e-5)",
            )
        object.__setattr__(self, "onnx_tolerance", float(tolerance))
        committed_graph = is_onnx_file(self.model_path)
        if self.sample_input is not None:
            if not isinstance(self.sample_input, str | os.PathLike) or not Path(self.sample_input).is_file():
                raise invalid(
                    "sample_input",
                    self.sample_input,
                    "an existing file of rows like those the endpoint will receive (CSV with a header, "
                    "Parquet, .npy or JSON records)",
                )
            object.__setattr__(self, "sample_input", Path(self.sample_input))
        elif self.engine != "sklearn" and not committed_graph:
            raise invalid(
                "sample_input",
                None,
                f"a file of sample rows with engine={self.engine!r}: the graph is verified on them against "
                "the model at synth (or pass a committed .onnx with its report as model_path)",
            )
        problem = onnx_runtime_problem(self.runtime)
        if problem is not None and (self.engine == "onnx" or committed_graph):
            raise invalid("runtime", self.runtime, f"python3.12 or newer for the ONNX engine; {problem}")

    def _check_model_path(self) -> None:
        if not isinstance(self.model_path, str | os.PathLike):
            raise invalid("model_path", self.model_path, "the path of a model file")
        path = Path(self.model_path)
        if not path.exists():
            raise invalid(
                "model_path",
                str(path),
                f"an existing model file (relative paths are read from {Path.cwd()}; save the model with "
                "joblib.dump, pickle.dump or skops.io.dump first)",
            )
        if not path.is_file():
            raise invalid("model_path", str(path), "a file, not a directory")
        object.__setattr__(self, "model_path", path)

    def _check_environment(self) -> None:
        env = self.environment
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise invalid("environment", env, "an object of string names to string values")
        reserved = sorted(set(contract.CONSTRUCT_ENVIRONMENT) & set(env))
        if reserved:
            raise invalid(
                "environment",
                reserved,
                f"names other than {', '.join(contract.CONSTRUCT_ENVIRONMENT)}: the construct sets them",
            )
        object.__setattr__(self, "environment", dict(env))

    def _check_parts_together(self) -> None:
        # Rules that span two parts' props; each part checked its own values when its props were made.
        try:
            self.cold_start.check_function(self.runtime, self.ephemeral_storage_mb)
        except PropsError as exc:
            raise exc.relabel(OWNER, {"cold_start": "cold_start"}, "cold_start.") from None
        top = self.cold_start.max or self.cold_start.min
        reserved = self.reserved_concurrency
        if self.cold_start.strategy == "provisioned" and reserved is not None and reserved < top:
            raise invalid(
                "reserved_concurrency", reserved, f"at least the provisioned concurrency it must hold ({top})"
            )
        if self.shared_api is not None:
            if not isinstance(self.shared_api, SharedHttpApi):
                raise invalid("shared_api", self.shared_api, "a SharedHttpApi construct")
            if self.front_door.front_door != "http_api":
                raise invalid("front_door", self.front_door.front_door, "http_api (the kind of a shared_api)")
            self.shared_api.check_model_name(self.model_name)

    @classmethod
    def from_settings(cls, **settings: Unpack[EndpointSettings]) -> EndpointProps:
        """Check the flat props (keyword arguments or a cdk.json environment) and compose them.

        Raises
        ------
        TypeError
            An unknown prop (the message lists every allowed one).
        PropsError
            A value its owner cannot build; the message names the prop as the user wrote it.
        """
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise TypeError(f"{OWNER}: unknown prop(s) {', '.join(unknown)}; allowed: {', '.join(SETTINGS)}")
        if "model_path" not in settings:
            raise TypeError(f"{OWNER}: model_path is required (the model file to serve)")
        given: dict[str, Any] = dict(settings)
        parts = {
            "layer": _part(LayerProps, _LAYER, given),
            "cold_start": _cold_start(given),
            "front_door": _part(FrontDoorProps, _FRONT_DOOR, given),
            "monitoring": _monitoring(given),
            "rollout": _rollout(given),
        }
        return cls(**given, **parts)


# The apps already told that some endpoint's alarms reach nobody: one line per app, not per endpoint.
_TOLD: list[IConstruct] = []


def _notice_unheard_alarms(endpoint: Construct) -> None:
    root = endpoint.node.root
    if any(told is root for told in _TOLD):
        return
    _TOLD.append(root)
    print(
        f"cdk-sklearn: the alarms of {endpoint.node.path} (and of any other endpoint without alarm_email in "
        "this app) notify an SNS topic nobody subscribes to; set alarm_email, or subscribe to the "
        "AlarmTopicArn output",
        file=sys.stderr,
    )


def _name_of(prop: str, value: object, allowed: Sequence[str]) -> str:
    # aws_lambda.Runtime and Architecture objects carry the name Lambda uses ("python3.13", "arm64").
    name = getattr(value, "name", value)
    return check_choice(prop, name, allowed, owner=OWNER)


def _part(kind: Any, names: Mapping[str, str], given: dict[str, Any]) -> Any:
    values = {field_name: given.pop(prop) for prop, field_name in names.items() if prop in given}
    try:
        return kind(**values, owner=OWNER)
    except PropsError as exc:
        raise exc.relabel(OWNER, {field_name: prop for prop, field_name in names.items()}) from None


def _cold_start(given: dict[str, Any]) -> ColdStart:
    value = given.pop("cold_start", None)
    provisioned = given.pop("provisioned_concurrency", 0)
    check_int("provisioned_concurrency", provisioned, 0)
    if provisioned and value is not None:
        raise invalid(
            "provisioned_concurrency",
            provisioned,
            "0 when cold_start is set (use cold_start min/max instead; SnapStart cannot be combined "
            "with provisioned concurrency)",
        )
    if provisioned:
        return ColdStart(strategy="provisioned", min=provisioned)
    return ColdStart.from_config(value, owner=OWNER)


def _monitoring(given: dict[str, Any]) -> MonitoringProps | None:
    enabled = check_bool("monitoring", given.pop("monitoring", True))
    props = _part(MonitoringProps, _MONITORING, given)
    if not enabled:
        if props.alarm_email is not None:
            raise invalid("alarm_email", props.alarm_email, "None when monitoring is off (no alarms to send)")
        return None
    return cast(MonitoringProps, props)


def _rollout(given: dict[str, Any]) -> RolloutProps | None:
    strategy = check_choice("rollout", given.pop("rollout", "canary"), ROLLOUTS)
    return None if strategy == "none" else RolloutProps(strategy=strategy, owner=OWNER)


def retention_days(days: int) -> logs.RetentionDays:
    """The ``aws_logs.RetentionDays`` of ``days`` (one of ``limits.LOG_RETENTION_DAYS``)."""
    return logs.RetentionDays(limits.LOG_RETENTION_NAMES[days])


def runtime_object(name: str) -> lambda_.Runtime:
    """The ``aws_lambda.Runtime`` named ``name`` (one of the supported runtimes)."""
    return _RUNTIME_OBJECTS[name]


def architecture_object(name: str) -> lambda_.Architecture:
    """The ``aws_lambda.Architecture`` named ``name`` (``arm64`` or ``x86_64``)."""
    return _ARCHITECTURE_OBJECTS[name]


def shared_sklearn_layer(
    scope: Construct,
    *,
    model: ModelArtifact,
    runtime: str,
    architecture: str,
    layer: LayerProps,
    code_bytes: int,
    code_paths: Sequence[str | os.PathLike[str]] = (),
) -> SklearnLayer:
    """The stack's scikit-learn layer for this model, runtime and architecture, created once.

    One layer per stack for each (pins, extras, runtime, architecture): functions whose models agree
    (several endpoints, an endpoint and a batch job) share it, so it is built, uploaded and published
    once.
    """
    key = json.dumps(
        [
            sorted(model.requirements),
            sorted(layer.extra_requirements),
            runtime,
            architecture,
            layer.bytecode_python,
            # Appended only when set: the default layer keeps the construct ID it always had.
            *(["slim"] if layer.slim else []),
            # The closure check of a layer covers the user code shipped beside it.
            *([sorted(map(str, code_paths))] if code_paths else []),
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
        runtime=runtime_object(runtime),
        architecture=architecture_object(architecture),
        extra_requirements=layer.extra_requirements,
        bytecode_python=layer.bytecode_python,
        function_code_bytes=code_bytes,
        slim=layer.slim,
        code_paths=code_paths,
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


class SklearnLambdaEndpoint(Construct):
    """Serve a scikit-learn model from AWS Lambda behind an HTTPS front door.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    props
        Already-validated :class:`EndpointProps` (what the cdk.json loader makes); or pass the props
        below as keyword arguments.
    model_path
        The model file (joblib, pickle or skops). Must exist at synth time.
    runtime
        Lambda Python runtime, ``python3.11`` to ``python3.14``, as a name or an ``aws_lambda.Runtime``.
        Default ``python3.13``.
    architecture
        ``arm64`` (default; about 20% cheaper per GB-second) or ``x86_64``, as a name or an
        ``aws_lambda.Architecture``.
    memory_size
        Function memory in MB, 128 to 10240. Default 1024 (CPU share grows with memory).
    timeout_seconds
        Function timeout, 1 to 900 seconds. Default 30, which is also the HTTP API's
        integration limit.
    provisioned_concurrency
        Execution environments kept initialised on the ``live`` alias. Default 0 (none).
    extra_requirements
        More pip requirements for the layer (e.g. ``("lightgbm==4.6.0",)``). Default none.
    model_name
        The model's name in the Open Inference Protocol routes and the metrics: 1 to 128 letters,
        digits, '.', '_' and '-', starting with a letter or a digit. Default ``"model"``.
    max_body_bytes
        Largest request body the handler accepts before answering 413; at most 6 MB, the
        synchronous invocation limit. Default 5 MB.
    environment
        Extra environment variables for the function (not the ones the construct sets from the
        contract: ``MODEL_URI``, ``MODEL_SHA256``, ...). Default none.
    bytecode_python
        A Python interpreter of the runtime's version used to precompile ``.pyc`` files.
        Default: the host interpreter when its version matches, else none (with a warning).
    layer_slim
        Build the layer sourceless (``.pyc`` only, about 15% smaller; see ``SklearnLayer``). Default False.
    cold_start
        A :class:`~cdk_sklearn.cold_start.ColdStart` or its cdk.json object, e.g.
        ``{"strategy": "provisioned", "min": 2, "max": 10}`` or ``{"strategy": "snapstart"}``.
        Default none. ``provisioned_concurrency=N`` is shorthand for a fixed ``min`` of N.
    ephemeral_storage_mb
        /tmp size, 512 to 10240 MB (at most 512 with SnapStart). Default 512.
    front_door
        ``http_api`` (default), ``rest_api`` or ``function_url`` (no per-request charge).
    auth
        ``iam`` (default: SigV4-signed requests), ``jwt`` (HTTP API), ``api_key`` (REST API) or
        ``none`` (a public endpoint; must be chosen explicitly).
    jwt_issuer, jwt_audience
        The JWT authorizer's issuer URL and accepted audiences (``auth="jwt"``).
    throttle_rate_limit, throttle_burst_limit
        Stage throttling, requests per second and burst. Default 100 and 200. A Function URL has
        no stage: set ``reserved_concurrency`` to cap it.
    reserved_concurrency
        Hard cap on concurrent executions (a cost cap). Default none (the account's pool).
    cors_allow_origins
        Origins allowed to call the endpoint from a browser. Default none (CORS off).
    log_retention_days
        Retention of the function's and the access logs, a CloudWatch Logs value. Default 30.
    monitoring
        A CloudWatch dashboard and alarms for the endpoint (see
        :class:`~cdk_sklearn.monitoring.EndpointMonitoring`). Default True.
    alarm_email
        An address subscribed to the endpoint's alarm topic (output ``AlarmTopicArn``). Default none:
        the alarms notify the topic, and synthesis says once per app that nobody is subscribed.
    code_paths
        Your own modules the model needs (``.py`` files and package folders, e.g.
        ``["features.py", "mypkg/"]``), shipped beside the runtime in the function code and covered by
        the closure check. Default none.
    skops_trusted_types
        Types of a ``.skops`` model that skops does not trust by default and you do; synth fails
        listing any left out. Default none.
    tracing
        X-Ray active tracing for the function, and for the stage of a REST API (HTTP APIs and Function
        URLs have no X-Ray integration; the function's trace still records each invocation). Default
        False.
    latency_p99_threshold_ms, server_error_rate_percent
        Alarm thresholds: p99 PredictionLatency (default 1000 ms) and the share of 5xx answers
        (default 5 %).
    shared_api
        A :class:`~cdk_sklearn.front_door.SharedHttpApi` to serve this model from, under
        ``/models/<model_name>/``, instead of a front door of its own (the API's auth and
        throttling apply). Default none.
    rollout
        How a new version reaches the ``live`` alias: ``canary`` (default; 10 % for 5 minutes),
        ``linear`` (10 % more every minute), ``all_at_once`` (through CodeDeploy, all three roll
        back when the error-rate or latency alarm fires), or ``none`` (CloudFormation switches the
        alias directly).
    engine
        ``sklearn`` (default: the model file, unpickled by the function), ``onnx`` (converted to ONNX at
        synth on this machine, verified against the model on ``sample_input``, served by onnxruntime: the
        function never unpickles anything, and its layer is numpy + onnxruntime) or ``auto`` (``onnx``
        when the conversion verifies, else ``sklearn``, saying why in one line). A ``model_path`` that
        is already a verified ``.onnx`` (with its ``cdk-sklearn convert`` report) is served by the ONNX
        engine. Needs python3.12 or newer.
    sample_input
        Rows like those the endpoint will receive (CSV with a header, Parquet, ``.npy`` or JSON records)
        that the ONNX conversion is verified on. Required with ``engine="onnx"`` or ``"auto"``, unless
        ``model_path`` is a committed ``.onnx``.
    onnx_tolerance
        Largest absolute difference allowed between scikit-learn's and the graph's probabilities,
        decision scores or regression outputs on every sample row (labels must be identical). Default
        ``1e-5``.

    Attributes
    ----------
    props : EndpointProps
        The validated props.
    engine : str
        ``"sklearn"`` or ``"onnx"``: the engine the function runs (``auto`` resolved).
    model : ModelArtifact
        What static inspection of the served model file found (sha256, format, training version, ...):
        with the ONNX engine, the verified graph.
    model_asset : aws_s3_assets.Asset
        The model file as uploaded to the CDK assets bucket.
    layer : aws_lambda.ILayerVersion
        The scikit-learn layer pinned to the model's training version.
    function : aws_lambda.Function
        The prediction function.
    alias : aws_lambda.Alias
        The ``live`` alias every route invokes.
    log_group : aws_logs.LogGroup
        The function's log group (with retention).
    scaling : aws_lambda.IScalableFunctionAttribute or None
        Provisioned-concurrency autoscaling, when ``cold_start`` sets ``max``.
    http_api : aws_apigatewayv2.HttpApi or None
        The HTTP API in front (``front_door="http_api"``).
    rest_api : aws_apigateway.RestApi or None
        The REST API in front (``front_door="rest_api"``).
    function_url : aws_lambda.FunctionUrl or None
        The Function URL (``front_door="function_url"``).
    api_key : aws_apigateway.IApiKey or None
        The API key (``auth="api_key"``); its value is in API Gateway, not in the template.
    url : str
        The endpoint's base URL, ending in ``/`` (a token until deploy).
    monitoring : EndpointMonitoring or None
        Dashboard and alarms (``monitoring=True``).
    rollout : SafeRollout or None
        The CodeDeploy deployment group moving traffic to new versions (``rollout`` not ``none``).

    Raises
    ------
    TypeError
        An unknown prop, or both ``props`` and keyword props.
    PropsError
        A prop with a value that cannot be built (a ``ValueError`` naming the prop, the value and what
        is allowed), or a file that is not a model; raised before any construct is created.

    Examples
    --------
    >>> SklearnLambdaEndpoint(stack, "Iris", model_path="models/iris.joblib")  # doctest: +SKIP
    """

    @overload
    def __init__(self, scope: Construct, id: str, *, props: EndpointProps) -> None: ...

    @overload
    def __init__(self, scope: Construct, id: str, **settings: Unpack[EndpointSettings]) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        props: EndpointProps | None = None,
        **settings: Any,  # typed by the overloads: EndpointSettings
    ) -> None:
        # Validate before creating anything, so a typo never leaves half a construct tree.
        if props is not None and settings:
            raise TypeError(
                f"{OWNER}: pass props= or keyword props ({', '.join(sorted(settings))}), not both"
            )
        self.props = props if props is not None else EndpointProps.from_settings(**settings)
        # A file that is not a model is a props error too: find out before creating anything.
        source = inspect_model(self.props.model_path)
        if source.format == "skops":
            # Types skops would refuse at load must fail here, not as a 503 after deploy.
            check_trusted(source.path, self.props.skops_trusted_types)
        choice = self._choose_engine(source)
        super().__init__(scope, id)
        print(f"cdk-sklearn: {self.node.path}: engine {choice.engine}; {choice.detail}", file=sys.stderr)
        self.engine: str = choice.engine
        self.model: ModelArtifact = choice.model
        self._create_function()
        self._create_alias()
        self._create_front_door()
        self._create_operations()

    def _choose_engine(self, source: ModelArtifact) -> EngineChoice:
        p = self.props
        try:
            return choose_engine(
                source,
                engine=p.engine,
                runtime=p.runtime,
                sample_input=p.sample_input,
                tolerance=p.onnx_tolerance,
                trusted_types=p.skops_trusted_types,
            )
        except EngineError as exc:
            raise EngineError(
                f"{OWNER}: engine={p.engine!r} cannot serve {p.model_path.name}: {exc}"
            ) from None

    def _create_function(self) -> None:
        p = self.props
        # With the ONNX engine the asset is the verified graph, never the pickle it was converted from.
        self.model_asset = s3_assets.Asset(self, "ModelAsset", path=str(self.model.path.resolve()))
        code, code_bytes = function_code(p.runtime, p.layer.bytecode_python, p.code_paths)
        self.sklearn_layer = self._shared_layer(code_bytes)
        self.layer: lambda_.ILayerVersion = self.sklearn_layer.layer_version
        self.log_group = logs.LogGroup(
            self, "FunctionLogs", retention=self._retention(), removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=self.function_runtime,
            architecture=self.function_architecture,
            handler=HANDLER,
            code=code,
            layers=[self.layer],
            memory_size=p.memory_size,
            timeout=cdk.Duration.seconds(p.timeout_seconds),
            ephemeral_storage_size=cdk.Size.mebibytes(p.ephemeral_storage_mb),
            reserved_concurrent_executions=p.reserved_concurrency,
            snap_start=p.cold_start.snap_start(),
            tracing=lambda_.Tracing.ACTIVE if p.tracing else None,
            log_group=self.log_group,
            role=self._least_privilege_role(),
            description=f"scikit-learn model {p.model_path.name}"
            + (" as ONNX" if self.engine == "onnx" else "")
            + f" ({self.model.sha256[:12]})",
            environment=self._function_environment(),
        )
        if p.tracing:
            acknowledge(
                self.function.role or self.function,
                "AwsSolutions-IAM5[Resource::*]",
                "tracing=True: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN, so "
                "Lambda's tracing policy must name '*' (https://docs.aws.amazon.com/xray/latest/devguide/"
                "security_iam_id-based-policy-examples.html).",
            )
        if p.runtime != LATEST_RUNTIME:
            acknowledge(
                self.function,
                "AwsSolutions-L1",
                f"{p.runtime} is the runtime chosen for this endpoint (the default python3.13 is the newest "
                "one whose layer is boot-tested under its CPython); python3.14 is supported via runtime=.",
            )

    def _create_alias(self) -> None:
        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name="live",
            version=self.function.current_version,
            provisioned_concurrent_executions=self.props.cold_start.provisioned_executions(),
        )
        self.scaling = self.props.cold_start.add_autoscaling(self.alias)

    def _create_front_door(self) -> None:
        p = self.props
        if p.shared_api is not None:
            p.shared_api.add_model(p.model_name, self.alias)
            door = FrontDoor(
                url=f"{p.shared_api.url}{self.route_prefix.lstrip('/')}/", http_api=p.shared_api.http_api
            )
        else:
            door = build_front_door(self, p.front_door, self.alias, self._retention(), tracing=p.tracing)
        self.http_api: apigwv2.HttpApi | None = door.http_api
        self.rest_api: apigw.RestApi | None = door.rest_api
        self.function_url: lambda_.FunctionUrl | None = door.function_url
        self.api_key: apigw.IApiKey | None = door.api_key
        self.url: str = door.url
        cdk.CfnOutput(self, "EndpointUrl", value=self.url, description="Base URL; POST <url>predict")
        if self.api_key is not None:
            cdk.CfnOutput(
                self,
                "ApiKeyId",
                value=self.api_key.key_id,
                description="API key id; read its value with aws apigateway get-api-key --include-value",
            )

    def _create_operations(self) -> None:
        p = self.props
        self.monitoring: EndpointMonitoring | None = None
        if p.monitoring is not None:
            self.monitoring = EndpointMonitoring(
                self,
                "Monitoring",
                function=self.function,
                alias=self.alias,
                model_name=p.model_name,
                api=self.http_api or self.rest_api,
                provisioned=p.cold_start.strategy == "provisioned",
                log_group_name=self.log_group.log_group_name,
                props=p.monitoring,
            )
            cdk.CfnOutput(
                self,
                "AlarmTopicArn",
                value=self.monitoring.topic.topic_arn,
                description="SNS topic every alarm of this endpoint notifies; subscribe to be told",
            )
            if not self.monitoring.subscribed:
                _notice_unheard_alarms(self)
        self.rollout: SafeRollout | None = None
        if p.rollout is not None:
            self.rollout = SafeRollout(
                self,
                "Rollout",
                alias=self.alias,
                props=p.rollout,
                alarms=self.monitoring.rollback_alarms if self.monitoring else (),
                warn_without_alarms=False,
            )
            if self.monitoring is None:
                cdk.Annotations.of(self).add_warning_v2(
                    "cdk-sklearn:rollout-without-alarms",
                    f"rollout={p.rollout.strategy!r} with monitoring=False: a bad version is rolled back "
                    "only if the deployment itself fails, never on errors or latency. Set monitoring=True "
                    "(the alarms then judge each rollout) or rollout='none'.",
                )

    def _retention(self) -> logs.RetentionDays:
        return retention_days(self.props.log_retention_days)

    @property
    def route_prefix(self) -> str:
        """The path prefix of this model's routes: ``/models/<model_name>`` on a shared API, else empty."""
        return (
            contract.shared_route_prefix(self.props.model_name) if self.props.shared_api is not None else ""
        )

    def _shared_layer(self, code_bytes: int) -> SklearnLayer:
        p = self.props
        return shared_sklearn_layer(
            self,
            model=self.model,
            runtime=p.runtime,
            architecture=p.architecture,
            layer=p.layer,
            code_bytes=code_bytes,
            code_paths=p.code_paths,
        )

    @property
    def function_runtime(self) -> lambda_.Runtime:
        """The ``aws_lambda.Runtime`` of the function (``runtime`` prop)."""
        return runtime_object(self.props.runtime)

    @property
    def function_architecture(self) -> lambda_.Architecture:
        """The ``aws_lambda.Architecture`` of the function (``architecture`` prop)."""
        return architecture_object(self.props.architecture)

    def _least_privilege_role(self) -> iam.Role:
        return model_function_role(
            self,
            log_group=self.log_group,
            model_asset=self.model_asset,
            description="cdk-sklearn prediction function: its own logs and its model object only",
        )

    def _function_environment(self) -> dict[str, str]:
        p = self.props
        env = {
            # Each OpenMP runtime in the process (scikit-learn's, LightGBM's) sized to the vCPUs the
            # function gets rather than the host's cores; the user's environment wins.
            **openmp_environment(p.memory_size),
            contract.ENV_MODEL_URI: model_uri(self.model_asset),
            **self.model.runtime_environment(),
            contract.ENV_MODEL_NAME: p.model_name,
            contract.ENV_MAX_BODY_BYTES: str(p.max_body_bytes),
        }
        if self.route_prefix:
            env[contract.ENV_ROUTE_PREFIX] = self.route_prefix
        if p.skops_trusted_types:
            env[contract.ENV_SKOPS_TRUSTED_TYPES] = ",".join(p.skops_trusted_types)
        env.update(p.environment)
        return env
