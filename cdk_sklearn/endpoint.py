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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from cdk_sklearn.function_code import function_code
from cdk_sklearn.layer import SklearnLayer
from cdk_sklearn.model_artifact import ModelArtifact, inspect_model

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
# Routes served by lambda_runtime; every one is integrated with the alias.
ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/predict"),
    ("GET", "/health"),
    ("GET", "/metadata"),
    ("GET", "/v2/health/live"),
    ("GET", "/v2/health/ready"),
    ("GET", "/v2/models/{name}"),
    ("POST", "/v2/models/{name}/infer"),
)


def _fail(prop: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"SklearnLambdaEndpoint: {prop}={value!r} is invalid; allowed: {allowed}")


def _check_int(prop: str, value: object, low: int, high: int | None = None) -> None:
    # bool is an int subclass; True for a memory size is a typo, not a number.
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):  # type: ignore[operator]
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        raise _fail(prop, value, allowed)


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

    def __post_init__(self) -> None:
        path = Path(self.model_path)
        if not path.exists():
            raise _fail("model_path", str(path), "an existing model file (train one first, e.g. make demo)")
        if not path.is_file():
            raise _fail("model_path", str(path), "a file, not a directory")
        if self.runtime not in RUNTIMES:
            raise _fail("runtime", self.runtime, ", ".join(RUNTIMES))
        if self.architecture not in ARCHITECTURES:
            raise _fail("architecture", self.architecture, ", ".join(ARCHITECTURES))
        _check_int("memory_size", self.memory_size, *MEMORY_RANGE)
        _check_int("timeout_seconds", self.timeout_seconds, *TIMEOUT_RANGE)
        _check_int("provisioned_concurrency", self.provisioned_concurrency, 0)
        _check_int("max_body_bytes", self.max_body_bytes, 1, MAX_BODY_LIMIT)
        if isinstance(self.extra_requirements, str) or not all(
            isinstance(req, str) and req.strip() for req in self.extra_requirements
        ):
            raise _fail("extra_requirements", self.extra_requirements, "a list of pip requirement strings")
        if not self.model_name or not self.model_name.replace("-", "").replace("_", "").isalnum():
            raise _fail("model_name", self.model_name, "letters, digits, '-' and '_'")
        reserved = {"MODEL_URI", "MODEL_SHA256"} & set(self.environment)
        if reserved:
            raise _fail("environment", sorted(reserved), "no MODEL_URI/MODEL_SHA256: the construct sets them")


class SklearnLambdaEndpoint(Construct):
    """Serve a scikit-learn model from AWS Lambda behind an HTTP API.

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
    http_api : aws_apigatewayv2.HttpApi
        The HTTP API in front.
    url : str
        The endpoint's base URL (a token until deploy).

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
        super().__init__(scope, id)
        p = self.props
        runtime = RUNTIMES[p.runtime]
        architecture = ARCHITECTURES[p.architecture]

        self.model: ModelArtifact = inspect_model(p.model_path)
        self.model_asset = s3_assets.Asset(self, "ModelAsset", path=str(Path(p.model_path).resolve()))

        code, code_bytes = function_code(self.node, p.runtime, p.bytecode_python)
        self._sklearn_layer = SklearnLayer(
            self,
            "SklearnLayer",
            model=self.model,
            runtime=runtime,
            architecture=architecture,
            extra_requirements=tuple(p.extra_requirements),
            bytecode_python=p.bytecode_python,
            function_code_bytes=code_bytes,
        )
        self.layer: lambda_.ILayerVersion = self._sklearn_layer.layer_version

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
            description=f"scikit-learn model {Path(p.model_path).name} ({self.model.sha256[:12]})",
            environment=self._function_environment(),
        )
        # Exactly the model object: the function can read its model and nothing else in the
        # (shared) CDK assets bucket, and can write nothing there.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.model_asset.bucket.arn_for_objects(self.model_asset.s3_object_key)],
            )
        )

        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name="live",
            version=self.function.current_version,
            provisioned_concurrent_executions=p.provisioned_concurrency or None,
        )

        self.http_api = apigwv2.HttpApi(
            self, "HttpApi", description=f"Predictions from {Path(p.model_path).name}"
        )
        integration = integrations.HttpLambdaIntegration("AliasIntegration", self.alias)
        for method, path in ROUTES:
            self.http_api.add_routes(path=path, methods=[apigwv2.HttpMethod(method)], integration=integration)
        self.url: str = self.http_api.api_endpoint
        cdk.CfnOutput(self, "EndpointUrl", value=self.url, description="Base URL; POST /predict")

    def _function_environment(self) -> dict[str, str]:
        p = self.props
        env = {
            "MODEL_URI": f"s3://{self.model_asset.s3_bucket_name}/{self.model_asset.s3_object_key}",
            "MODEL_SHA256": self.model.sha256,
            "MODEL_NAME": p.model_name,
            "MAX_BODY_BYTES": str(p.max_body_bytes),
        }
        if self.model.sklearn_version:
            env["MODEL_SKLEARN_VERSION"] = self.model.sklearn_version
        env.update(p.environment)
        return env
