"""The resources of a model function: model asset, shared layer, log group, role, function."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_sklearn.function_code import function_code
from cdk_sklearn.layer import SklearnLayer
from cdk_sklearn.model.artifact import ModelArtifact
from cdk_sklearn.model.engine import EngineChoice
from cdk_sklearn.model_function.props import LATEST_RUNTIME, ModelFunctionProps
from cdk_sklearn.nag import (
    acknowledge,
    acknowledge_compliance,
    acknowledge_inline_policy,
    acknowledge_log_group,
)
from cdk_sklearn.packaging.libraries import openmp_environment
from lambda_runtime import contract


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
    function_id
        The function's construct ID. ``Function`` for on-demand functions; a function on managed
        instances is another resource (Lambda refuses adding or removing a capacity provider on an
        existing function), so it gets an ID of its own and CloudFormation replaces instead of updating.
    version_options
        The options of the function's current version (managed instances: its scaling bounds), or None.
    network
        Why the compliance packs' ``LambdaInsideVPC`` does not apply, when the caller knows better than
        the default (a function on managed instances runs in a VPC through its capacity provider).
    """

    handler: str
    description: str
    role_description: str
    environment: Mapping[str, str] = field(default_factory=dict)
    what: str = "endpoint"
    reserved_concurrency: int | None = None
    snap_start: lambda_.SnapStartConf | None = None
    function_id: str = "Function"
    version_options: lambda_.VersionOptions | None = None
    network: str | None = None


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
        kind.function_id,
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
        current_version_options=kind.version_options,
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
        # function gets rather than the host's cores (one per worker process on managed instances);
        # the user's environment wins.
        **openmp_environment(props.memory_size, managed_instances=props.on_managed_instances),
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
        kind.network
        or f"This {kind.what} reaches only S3 (its model object; a job's input and output prefixes) and "
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
