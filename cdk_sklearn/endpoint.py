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

import sys
from dataclasses import replace
from typing import Any, Unpack, overload

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from cdk_sklearn.cost.lmi import UnpricedError, lmi_floor
from cdk_sklearn.endpoint_props import OWNER, EndpointProps, EndpointSettings
from cdk_sklearn.fit.check import Fit
from cdk_sklearn.front_door import FrontDoor, build_front_door
from cdk_sklearn.managed_instances import Network, attach_capacity, build_network, version_options
from cdk_sklearn.managed_instances.network import check_network
from cdk_sklearn.model.artifact import ModelArtifact
from cdk_sklearn.model.engine import EngineChoice
from cdk_sklearn.model_function import FunctionRole, ModelFunction, build_model_function, prepare_model
from cdk_sklearn.monitoring import EndpointMonitoring
from cdk_sklearn.rollout import SafeRollout
from cdk_sklearn.validation import PropsError, props_from
from lambda_runtime import contract

HANDLER = "lambda_runtime.handler.handler"
MANAGED_FUNCTION_ID = "ManagedFunction"
"""The construct ID of a function on managed instances: not ``Function``, so that switching ``compute`` makes
CloudFormation create a new function instead of trying the in-place update Lambda refuses (a capacity
provider can only be set when a function is created)."""
ROLLOUT_UNPROVEN = (
    "rollout on managed instances is unproven on AWS: CodeDeploy shifts the live alias's weights between two "
    "published versions, which AWS documents for Lambda Managed Instances canary and blue/green deployments, "
    "but no CodeDeploy deployment of a managed-instances function has run for this library, and while it "
    "runs both versions hold min_environments (the floor doubles for the rollout). Set rollout='none' to "
    "switch the alias directly, or keep it and watch the first deploy."
)
MANAGED_INSTANCES_NETWORK = (
    "This endpoint runs on Lambda Managed Instances: its code runs on EC2 instances in a VPC (the capacity "
    "provider's subnets and security group), not in Lambda's own network; the function resource itself "
    "has no VpcConfig to show it."
)

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
    compute
        ``on_demand`` (default: Lambda's own fleet, billed per request and GB-second) or
        ``managed_instances`` (Lambda Managed Instances: EC2 capacity in a VPC, always warm, billed per
        instance-hour + 15% and per request; python3.13+, ``memory_size`` >= 2048, no ``cold_start``).
        A deployed function cannot switch: see the documentation's migration step.
    managed_instances
        The managed-instances settings (``compute="managed_instances"``): a
        :class:`~cdk_sklearn.managed_instances.ManagedInstancesProps` or its cdk.json object
        (``min_environments``, ``max_environments``, ``max_concurrency``, ``instance_types``,
        ``memory_gib_per_vcpu``, ``max_vcpus``, ``subnet_ids``, ``security_group_ids``, ``nat_gateways``,
        ``flow_logs``). Default: 3 environments at 4 GiB per vCPU, one process per vCPU, in a VPC the
        construct creates.
    extra_requirements
        More pip requirements for the layer (e.g. ``("lightgbm==4.6.0",)``). Default none.
    model_name
        The model's name in the Open Inference Protocol routes and the metrics: 1 to 128 letters,
        digits, '.', '_' and '-', starting with a letter or a digit. Default ``"model"``.
    max_body_bytes
        Largest request body the handler accepts before answering 413; at most 6 MB, the
        synchronous invocation limit. Default 5 MB.
    environment
        Extra environment variables for the function. Naming one the construct sets from the contract
        (``MODEL_URI``, ``METRICS_NAMESPACE``, ...) fails synth with the prop to set instead. Default none.
    metrics_namespace
        The CloudWatch namespace of the function's metrics, which every alarm and dashboard widget reads.
        Default ``"cdk-sklearn"``.
    bytecode_python
        A Python interpreter of the runtime's version used to precompile ``.pyc`` files.
        Default: the host interpreter when its version matches, else none (with a warning).
    layer
        The layer's props as one section: a :class:`~cdk_sklearn.layer.LayerProps` or an object with
        ``extra_requirements``, ``bytecode_python`` and ``slim`` (instead of the three flat props).
    layer_slim
        Build the layer sourceless (``.pyc`` only, about 15% smaller; see ``SklearnLayer``). Default False.
    cold_start
        A :class:`~cdk_sklearn.cold_start.ColdStart` or its cdk.json object, e.g.
        ``{"strategy": "provisioned", "min": 2, "max": 10}`` or ``{"strategy": "snapstart"}``.
        Default none. ``provisioned_concurrency=N`` is shorthand for a fixed ``min`` of N.
    ephemeral_storage_mb
        /tmp size, 512 to 10240 MB (at most 512 with SnapStart). Default 512.
    front_door
        ``http_api`` (default), ``rest_api`` or ``function_url`` (no per-request charge); or the whole
        front door as one section, a :class:`~cdk_sklearn.front_door.FrontDoorProps` or an object with its
        fields (``front_door``, ``auth``, ``jwt_*``, ``throttle_*``, ``cors_allow_origins``).
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
        :class:`~cdk_sklearn.monitoring.EndpointMonitoring`). Default True. Also as one section: a
        :class:`~cdk_sklearn.monitoring.MonitoringProps` or an object with ``alarm_email``,
        ``encrypt_alarm_topic``, ``latency_p99_threshold_ms`` and ``server_error_rate_percent``.
    alarm_email
        An address subscribed to the endpoint's alarm topic (output ``AlarmTopicArn``). Default none:
        the alarms notify the topic, and synthesis says once per app that nobody is subscribed.
    encrypt_alarm_topic
        Encrypt the alarm topic with the stack's customer-managed KMS key (one per stack, shared by
        its endpoints and batch jobs, rotated yearly; only this account's CloudWatch alarms may use
        it; $1 a month). Default True. False keeps SNS's default encryption (the compliance packs'
        ``SNSEncryptedKMS`` finding is then acknowledged on the topic).
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
        alias directly); or ``{"strategy": ...}`` / a :class:`~cdk_sklearn.rollout.RolloutProps`.
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
    capacity_provider : aws_lambda.CapacityProvider or None
        The capacity provider the function runs on (``compute="managed_instances"``).
    vpc : aws_ec2.Vpc or None
        The VPC created for the managed instances (None on demand, or in your own network).
    max_concurrency : int or None
        The worker processes per execution environment on managed instances.

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
        if props is not None:
            self.props = props_from(OWNER, EndpointProps, props, settings, ())
        else:
            self.props = EndpointProps.from_settings(**settings)
        if self.props.shared_api is not None:
            # Checked again here: props made earlier may name a model routed on the API since.
            self.props.shared_api.check_model_name(self.props.model_name)
        # A file that is not a model is a props error too: find out before creating anything.
        managed = self.props.managed_instances
        strategy = "managed_instances" if managed is not None else self.props.cold_start.strategy
        prepared = prepare_model(self.props.function, cold_start=strategy)
        memory_size = self.props.function.memory_size
        self.max_concurrency: int | None = None
        if managed is not None:
            # Each worker process loads the model: N of them must fit the memory (checked before creating).
            try:
                self.max_concurrency = managed.concurrency(memory_size, prepared.fit.memory.total_mb)
                check_network(managed)
            except PropsError as exc:
                raise exc.relabel(OWNER) from None
        choice = prepared.choice
        super().__init__(scope, id)
        self.engine: str = choice.engine
        self.model: ModelArtifact = choice.model
        self.fit: Fit = prepared.fit
        self.memory_estimate_mb: int = prepared.fit.memory.total_mb
        if prepared.fit.warning:
            cdk.Annotations.of(self).add_warning_v2("cdk-sklearn:init-time", prepared.fit.warning)
        self._create_function(choice)
        print(
            f"cdk-sklearn: {self.node.path}: {prepared.summary(memory_size)}{self._capacity_summary()}",
            file=sys.stderr,
        )
        self._create_alias()
        self._create_front_door()
        self._create_operations()

    def _create_function(self, choice: EngineChoice) -> None:
        p = self.props
        environment = {
            contract.ENV_MODEL_NAME: p.model_name,
            contract.ENV_MAX_BODY_BYTES: str(p.max_body_bytes),
        }
        if self.route_prefix:
            environment[contract.ENV_ROUTE_PREFIX] = self.route_prefix
        managed = p.managed_instances
        kind = FunctionRole(
            handler=HANDLER,
            description="scikit-learn model",
            role_description="cdk-sklearn prediction function: its own logs and its model object only",
            environment=environment,
            reserved_concurrency=p.reserved_concurrency,
            snap_start=p.cold_start.snap_start(),
        )
        if managed is not None:
            kind = replace(
                kind,
                function_id=MANAGED_FUNCTION_ID,
                version_options=version_options(managed),
                network=MANAGED_INSTANCES_NETWORK,
            )
        built: ModelFunction = build_model_function(self, p.function, choice, kind)
        self.model_asset = built.model_asset
        self.sklearn_layer = built.layer
        self.layer: lambda_.ILayerVersion = built.layer.layer_version
        self.log_group = built.log_group
        self.function = built.function
        self.capacity_provider: lambda_.CapacityProvider | None = None
        self.vpc: ec2.Vpc | None = None
        self._network: Network | None = None
        if managed is not None and self.max_concurrency is not None:
            self._network = build_network(
                self, managed, tracing=p.function.tracing, retention=p.function.retention
            )
            self.vpc = self._network.vpc
            self.capacity_provider = attach_capacity(
                self,
                self.function,
                managed,
                network=self._network,
                architecture=p.function.architecture_object,
                max_concurrency=self.max_concurrency,
            )

    def _capacity_summary(self) -> str:
        """The synth line's managed-instances part: processes against memory, and the monthly floor."""
        managed, network = self.props.managed_instances, self._network
        if managed is None or network is None or self.max_concurrency is None:
            return ""
        memory_size = self.props.function.memory_size
        capacity = managed.capacity(
            memory_size=memory_size,
            architecture=self.props.function.architecture,
            tracing=self.props.function.tracing,
            availability_zones=network.availability_zones,
        )
        try:
            floor = lmi_floor(capacity).describe()
        except UnpricedError as exc:
            floor = f"floor not priced: {exc}"
        return (
            f"; managed instances: {self.max_concurrency} process(es) x ~{self.memory_estimate_mb} MB of "
            f"{memory_size} MB per environment, {managed.min_environments} environment(s) at least; {floor}"
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
            door = build_front_door(
                self, p.front_door, self.alias, self.props.function.retention, tracing=p.function.tracing
            )
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
                capacity_provider_name=(
                    self.capacity_provider.capacity_provider_name if self.capacity_provider else None
                ),
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
            if p.managed_instances is not None:
                cdk.Annotations.of(self).add_warning_v2(
                    "cdk-sklearn:managed-instances-rollout", ROLLOUT_UNPROVEN
                )
            if self.monitoring is None:
                cdk.Annotations.of(self).add_warning_v2(
                    "cdk-sklearn:rollout-without-alarms",
                    f"rollout={p.rollout.strategy!r} with monitoring=False: a bad version is rolled back "
                    "only if the deployment itself fails, never on errors or latency. Set monitoring=True "
                    "(the alarms then judge each rollout) or rollout='none'.",
                )

    @property
    def route_prefix(self) -> str:
        """The path prefix of this model's routes: ``/models/<model_name>`` on a shared API, else empty."""
        return (
            contract.shared_route_prefix(self.props.model_name) if self.props.shared_api is not None else ""
        )

    @property
    def function_runtime(self) -> lambda_.Runtime:
        """The ``aws_lambda.Runtime`` of the function (``runtime`` prop)."""
        return self.props.function.runtime_object

    @property
    def function_architecture(self) -> lambda_.Architecture:
        """The ``aws_lambda.Architecture`` of the function (``architecture`` prop)."""
        return self.props.function.architecture_object
