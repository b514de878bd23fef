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
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_sklearn.cold_start import ColdStart
from cdk_sklearn.front_door import (
    FrontDoor,
    FrontDoorSettings,
    SharedHttpApi,
    build_front_door,
    check_front_door,
)
from cdk_sklearn.function_code import function_code, resolve_code_paths
from cdk_sklearn.layer import SklearnLayer
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from cdk_sklearn.model.skops_trust import check_trusted
from cdk_sklearn.monitoring import (
    DEFAULT_LATENCY_P99_THRESHOLD_MS,
    DEFAULT_SERVER_ERROR_RATE_PERCENT,
    EndpointMonitoring,
)
from cdk_sklearn.nag import acknowledge
from cdk_sklearn.rollout import STRATEGIES as ROLLOUT_STRATEGIES
from cdk_sklearn.rollout import SafeRollout
from cdk_sklearn.validation import check_int, invalid
from lambda_runtime import contract

RUNTIMES: Mapping[str, lambda_.Runtime] = {
    "python3.11": lambda_.Runtime.PYTHON_3_11,
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
    "python3.14": lambda_.Runtime.PYTHON_3_14,
}
ARCHITECTURES: Mapping[str, lambda_.Architecture] = {
    "arm64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}
# Lambda's own limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
MEMORY_RANGE = (128, 10240)
TIMEOUT_RANGE = (1, 900)
# A synchronous Lambda invocation carries at most 6 MB of request payload.
MAX_BODY_LIMIT = 6 * 1024 * 1024
HANDLER = "lambda_runtime.handler.handler"
# CloudWatch Logs accepts only these retention periods (days).
_RETENTION_NAMES: Mapping[int, str] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
LOG_RETENTION_DAYS: tuple[int, ...] = tuple(_RETENTION_NAMES)
ROLLOUTS: tuple[str, ...] = (*ROLLOUT_STRATEGIES, "none")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The newest Python runtime cdk-nag's AwsSolutions-L1 expects; older ones get a written reason.
LATEST_RUNTIME = "python3.14"


@dataclass(frozen=True, kw_only=True)
class EndpointProps:
    """Validated settings of a :class:`SklearnLambdaEndpoint`.

    Parameters
    ----------
    model_path
        The model file (joblib, pickle or skops). Must exist at synth time.
    runtime
        Lambda Python runtime, ``python3.11`` to ``python3.14``. Default ``python3.13``.
    architecture
        ``arm64`` (default; about 20% cheaper per GB-second) or ``x86_64``.
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
        The model's name in the Open Inference Protocol routes. Default ``"model"``.
    max_body_bytes
        Largest request body the handler accepts before answering 413; at most 6 MB, the
        synchronous invocation limit. Default 5 MB.
    environment
        Extra environment variables for the function. Default none.
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
        An address notified (through a new SNS topic) when an alarm fires. Default none.
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
    code_paths
        Your own modules the model needs (``.py`` files and package folders, e.g.
        ``["features.py", "mypkg/"]``), shipped beside the runtime in the function code. Default none.
    skops_trusted_types
        Types of a ``.skops`` model that skops does not trust by default and you do; synth fails
        listing any left out. Default none.
    """

    model_path: str | os.PathLike[str]
    runtime: str = "python3.13"
    architecture: str = "arm64"
    memory_size: int = 1024
    timeout_seconds: int = 30
    provisioned_concurrency: int = 0
    extra_requirements: Sequence[str] = ()
    model_name: str = "model"
    max_body_bytes: int = 5 * 1024 * 1024
    environment: Mapping[str, str] = field(default_factory=dict)
    bytecode_python: str | None = None
    layer_slim: bool = False
    cold_start: ColdStart | Mapping[str, Any] | None = None
    ephemeral_storage_mb: int = 512
    front_door: str = "http_api"
    auth: str = "iam"
    jwt_issuer: str | None = None
    jwt_audience: Sequence[str] = ()
    throttle_rate_limit: float = 100.0
    throttle_burst_limit: int = 200
    reserved_concurrency: int | None = None
    cors_allow_origins: Sequence[str] = ()
    log_retention_days: int = 30
    monitoring: bool = True
    alarm_email: str | None = None
    latency_p99_threshold_ms: float = DEFAULT_LATENCY_P99_THRESHOLD_MS
    server_error_rate_percent: float = DEFAULT_SERVER_ERROR_RATE_PERCENT
    rollout: str = "canary"
    shared_api: SharedHttpApi | None = None
    code_paths: Sequence[str | os.PathLike[str]] = ()
    skops_trusted_types: Sequence[str] = ()

    def __post_init__(self) -> None:
        path = Path(self.model_path)
        if not path.exists():
            raise invalid("model_path", str(path), "an existing model file (train one first, e.g. make demo)")
        if not path.is_file():
            raise invalid("model_path", str(path), "a file, not a directory")
        if self.runtime not in RUNTIMES:
            raise invalid("runtime", self.runtime, ", ".join(RUNTIMES))
        if self.architecture not in ARCHITECTURES:
            raise invalid("architecture", self.architecture, ", ".join(ARCHITECTURES))
        check_int("memory_size", self.memory_size, *MEMORY_RANGE)
        check_int("timeout_seconds", self.timeout_seconds, *TIMEOUT_RANGE)
        check_int("provisioned_concurrency", self.provisioned_concurrency, 0)
        check_int("max_body_bytes", self.max_body_bytes, 1, MAX_BODY_LIMIT)
        if isinstance(self.extra_requirements, str) or not all(
            isinstance(req, str) and req.strip() for req in self.extra_requirements
        ):
            raise invalid("extra_requirements", self.extra_requirements, "a list of pip requirement strings")
        if not self.model_name or not self.model_name.replace("-", "").replace("_", "").isalnum():
            raise invalid("model_name", self.model_name, "letters, digits, '-' and '_'")
        reserved = {"MODEL_URI", "MODEL_SHA256"} & set(self.environment)
        if reserved:
            raise invalid(
                "environment", sorted(reserved), "no MODEL_URI/MODEL_SHA256: the construct sets them"
            )
        try:
            resolve_code_paths(self.code_paths)
        except ValueError as exc:
            raise invalid("code_paths", self.code_paths, str(exc)) from exc
        if isinstance(self.skops_trusted_types, str):
            raise invalid("skops_trusted_types", self.skops_trusted_types, "a list of type names")
        check_int("ephemeral_storage_mb", self.ephemeral_storage_mb, 512, 10240)
        if self.reserved_concurrency is not None:
            check_int("reserved_concurrency", self.reserved_concurrency, 1)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise invalid(
                "log_retention_days", self.log_retention_days, ", ".join(map(str, LOG_RETENTION_DAYS))
            )
        for name in ("jwt_audience", "cors_allow_origins"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
                raise invalid(name, value, "a list of strings")
        check_front_door(
            self.front_door,
            self.auth,
            self.jwt_issuer,
            self.jwt_audience,
            self.throttle_rate_limit,
            self.throttle_burst_limit,
        )
        if self.shared_api is not None:
            if not isinstance(self.shared_api, SharedHttpApi):
                raise invalid("shared_api", self.shared_api, "a SharedHttpApi construct")
            if self.front_door != "http_api":
                raise invalid("front_door", self.front_door, "http_api (the kind of a shared_api)")
            self.shared_api.check_model_name(self.model_name)
        if self.rollout not in ROLLOUTS:
            raise invalid("rollout", self.rollout, ", ".join(ROLLOUTS))
        if not isinstance(self.monitoring, bool):
            raise invalid("monitoring", self.monitoring, "true or false")
        if self.alarm_email is not None and not EMAIL.match(str(self.alarm_email)):
            raise invalid("alarm_email", self.alarm_email, "an e-mail address")
        if self.alarm_email is not None and not self.monitoring:
            raise invalid("alarm_email", self.alarm_email, "none when monitoring is off (no alarms to send)")
        for name in ("latency_p99_threshold_ms", "server_error_rate_percent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise invalid(name, value, "a number > 0")
        if self.server_error_rate_percent > 100:
            raise invalid(
                "server_error_rate_percent", self.server_error_rate_percent, "a percentage up to 100"
            )
        strategy = self.resolved_cold_start()
        strategy.check_function(self.runtime, self.ephemeral_storage_mb)
        if strategy.strategy == "provisioned" and self.reserved_concurrency is not None:
            top = strategy.max or strategy.min
            if self.reserved_concurrency < top:
                raise invalid(
                    "reserved_concurrency",
                    self.reserved_concurrency,
                    f"at least the provisioned concurrency it must hold ({top})",
                )

    def resolved_cold_start(self) -> ColdStart:
        """The cold-start strategy, with ``provisioned_concurrency`` folded in.

        Raises
        ------
        ValueError
            When both ``provisioned_concurrency`` and ``cold_start`` are set, or they are invalid.
        """
        strategy = ColdStart.from_config(self.cold_start)
        if self.provisioned_concurrency:
            if self.cold_start is not None:
                raise invalid(
                    "provisioned_concurrency",
                    self.provisioned_concurrency,
                    "0 when cold_start is set (use cold_start min/max instead; SnapStart cannot be combined "
                    "with provisioned concurrency)",
                )
            strategy = ColdStart(strategy="provisioned", min=self.provisioned_concurrency)
        return strategy


class SklearnLambdaEndpoint(Construct):
    """Serve a scikit-learn model from AWS Lambda behind an HTTPS front door.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    **props
        Keyword arguments of :class:`EndpointProps`; ``model_path`` is required.

    Attributes
    ----------
    model : ModelArtifact
        What static inspection of the model file found (sha256, training version, ...).
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

    Examples
    --------
    >>> SklearnLambdaEndpoint(stack, "Iris", model_path="models/iris.joblib")  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, id: str, **props: object) -> None:
        # Validate before creating anything, so a typo never leaves half a construct tree.
        unknown = sorted(set(props) - {f.name for f in fields(EndpointProps)})
        if unknown:
            allowed = ", ".join(f.name for f in fields(EndpointProps))
            raise TypeError(
                f"SklearnLambdaEndpoint: unknown prop(s) {', '.join(unknown)}; allowed: {allowed}"
            )
        self.props = EndpointProps(**props)  # type: ignore[arg-type]
        # A file that is not a model is a props error too: find out before creating anything.
        model = inspect_model(self.props.model_path)
        if model.format == "skops":
            check_trusted(model.path, self.props.skops_trusted_types)
        super().__init__(scope, id)
        p = self.props
        runtime = RUNTIMES[p.runtime]
        architecture = ARCHITECTURES[p.architecture]

        self.model: ModelArtifact = model
        self.model_asset = s3_assets.Asset(self, "ModelAsset", path=str(Path(p.model_path).resolve()))

        code, code_bytes = function_code(self.node, p.runtime, p.bytecode_python, p.code_paths)
        self.sklearn_layer = self._shared_layer(runtime, architecture, code_bytes)
        self.layer: lambda_.ILayerVersion = self.sklearn_layer.layer_version

        strategy = p.resolved_cold_start()
        retention = logs.RetentionDays(_RETENTION_NAMES[p.log_retention_days])
        self.log_group = logs.LogGroup(
            self, "FunctionLogs", retention=retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=runtime,
            architecture=architecture,
            handler=HANDLER,
            code=code,
            layers=[self.layer],
            memory_size=p.memory_size,
            timeout=cdk.Duration.seconds(p.timeout_seconds),
            ephemeral_storage_size=cdk.Size.mebibytes(p.ephemeral_storage_mb),
            reserved_concurrent_executions=p.reserved_concurrency,
            snap_start=strategy.snap_start(),
            log_group=self.log_group,
            role=self._least_privilege_role(),
            description=f"scikit-learn model {Path(p.model_path).name} ({self.model.sha256[:12]})",
            environment=self._function_environment(),
        )
        if p.runtime != LATEST_RUNTIME:
            acknowledge(
                self.function,
                "AwsSolutions-L1",
                f"{p.runtime} is the runtime chosen for this endpoint (the default python3.13 is the newest "
                "one whose layer is boot-tested under its CPython); python3.14 is supported via runtime=.",
            )

        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name="live",
            version=self.function.current_version,
            provisioned_concurrent_executions=strategy.provisioned_executions(),
        )
        self.scaling = strategy.add_autoscaling(self.alias)

        if p.shared_api is not None:
            p.shared_api.add_model(p.model_name, self.alias)
            door = FrontDoor(
                url=f"{p.shared_api.url}{self.route_prefix.lstrip('/')}/", http_api=p.shared_api.http_api
            )
        else:
            door = self._front_door(retention)
        self.http_api: apigwv2.HttpApi | None = door.http_api
        self.rest_api: apigw.RestApi | None = door.rest_api
        self.function_url: lambda_.FunctionUrl | None = door.function_url
        self.api_key: apigw.IApiKey | None = door.api_key
        self.url: str = door.url
        cdk.CfnOutput(self, "EndpointUrl", value=self.url, description="Base URL; POST <url>predict")

        self.monitoring: EndpointMonitoring | None = None
        if p.monitoring:
            self.monitoring = EndpointMonitoring(
                self,
                "Monitoring",
                function=self.function,
                alias=self.alias,
                model_name=p.model_name,
                api=self.http_api or self.rest_api,
                provisioned=strategy.strategy == "provisioned",
                log_group_name=self.log_group.log_group_name,
                alarm_email=p.alarm_email,
                latency_p99_threshold_ms=p.latency_p99_threshold_ms,
                server_error_rate_percent=p.server_error_rate_percent,
            )
        self.rollout: SafeRollout | None = None
        if p.rollout != "none":
            self.rollout = SafeRollout(
                self,
                "Rollout",
                alias=self.alias,
                strategy=p.rollout,
                alarms=self.monitoring.rollback_alarms if self.monitoring else (),
            )

    @property
    def route_prefix(self) -> str:
        """The path prefix of this model's routes: ``/models/<model_name>`` on a shared API, else empty."""
        return f"/models/{self.props.model_name}" if self.props.shared_api is not None else ""

    def _front_door(self, retention: logs.RetentionDays) -> FrontDoor:
        p = self.props
        settings = FrontDoorSettings(
            kind=p.front_door,
            auth=p.auth,
            jwt_issuer=p.jwt_issuer,
            jwt_audience=tuple(p.jwt_audience),
            throttle_rate_limit=p.throttle_rate_limit,
            throttle_burst_limit=p.throttle_burst_limit,
            cors_allow_origins=tuple(p.cors_allow_origins),
            log_retention=retention,
        )
        return build_front_door(self, settings, self.alias)

    def _shared_layer(
        self, runtime: lambda_.Runtime, architecture: lambda_.Architecture, code_bytes: int
    ) -> SklearnLayer:
        # One layer per stack for each (pins, extras, runtime, architecture): endpoints whose
        # models agree share it, so it is built, uploaded and published once.
        p = self.props
        key = json.dumps(
            [
                sorted(self.model.requirements),
                sorted(p.extra_requirements),
                p.runtime,
                p.architecture,
                p.bytecode_python,
                # Appended only when set: the default layer keeps the construct ID it always had.
                *(["slim"] if p.layer_slim else []),
            ]
        )
        layer_id = f"SklearnLayer{hashlib.sha256(key.encode()).hexdigest()[:12]}"
        stack = cdk.Stack.of(self)
        existing = stack.node.try_find_child(layer_id)
        if isinstance(existing, SklearnLayer):
            return existing
        return SklearnLayer(
            stack,
            layer_id,
            model=self.model,
            runtime=runtime,
            architecture=architecture,
            extra_requirements=tuple(p.extra_requirements),
            bytecode_python=p.bytecode_python,
            function_code_bytes=code_bytes,
            slim=p.layer_slim,
            code_paths=p.code_paths,
        )

    def _least_privilege_role(self) -> iam.Role:
        # Instead of AWSLambdaBasicExecutionRole (logs on every log group of the account): write to
        # this function's log group, read this model object, nothing else.
        role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="cdk-sklearn prediction function: its own logs and its model object only",
        )
        self.log_group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.model_asset.bucket.arn_for_objects(self.model_asset.s3_object_key)],
            )
        )
        return role

    def _function_environment(self) -> dict[str, str]:
        p = self.props
        env = {
            "MODEL_URI": f"s3://{self.model_asset.s3_bucket_name}/{self.model_asset.s3_object_key}",
            **self.model.runtime_environment(),
            "MODEL_NAME": p.model_name,
            "MAX_BODY_BYTES": str(p.max_body_bytes),
        }
        if self.route_prefix:
            env["ROUTE_PREFIX"] = self.route_prefix
        if p.skops_trusted_types:
            env[contract.ENV_SKOPS_TRUSTED_TYPES] = ",".join(p.skops_trusted_types)
        env.update(p.environment)
        return env
