"""The endpoint's front door: an HTTP API (default), a REST API, or a Lambda Function URL.

Every front door invokes the ``live`` alias, never ``$LATEST``. Each comes with authentication
(``iam`` by default: a public, unauthenticated endpoint has to be asked for with ``auth="none"``),
throttling, access logs and optional CORS.

=============  =====================  ===================================  ==========================
front door     auth                   throttling                           price per million requests
=============  =====================  ===================================  ==========================
http_api       iam, jwt, none         stage rate/burst                     $1.00
rest_api       iam, api_key, none     stage rate/burst (+ usage plan)      $3.50
function_url   iam, none              reserved concurrency only            none
=============  =====================  ===================================  ==========================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack, overload

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sklearn.nag import acknowledge, acknowledge_compliance, acknowledge_log_group
from cdk_sklearn.validation import (
    ConfigSection,
    check_choice,
    check_int,
    check_positive_number,
    check_strings,
    invalid,
    props_from,
)
from lambda_runtime import contract

OWNER = "SharedHttpApi"
ENDPOINT = "SklearnLambdaEndpoint"
SECTION = "front_door"
FRONT_DOORS: tuple[str, ...] = ("http_api", "rest_api", "function_url")
AUTH_BY_FRONT_DOOR: dict[str, tuple[str, ...]] = {
    "http_api": ("iam", "jwt", "none"),
    "rest_api": ("iam", "api_key", "none"),
    "function_url": ("iam", "none"),
}
REST_STAGE = "prod"


class FrontDoorSettings(TypedDict, total=False):
    """The keyword form of :class:`FrontDoorProps` (for :class:`SharedHttpApi`), and its cdk.json keys."""

    front_door: str
    auth: str
    jwt_issuer: str | None
    jwt_audience: Sequence[str]
    throttle_rate_limit: float
    throttle_burst_limit: int
    cors_allow_origins: Sequence[str]


SETTINGS: tuple[str, ...] = tuple(FrontDoorSettings.__annotations__)


@dataclass(frozen=True, kw_only=True)
class FrontDoorProps(ConfigSection):
    """What the front door looks like; every value is checked here, once, when the props are made.

    Parameters
    ----------
    front_door
        ``http_api`` (default), ``rest_api`` or ``function_url``.
    auth
        ``iam`` (default), ``jwt`` (HTTP API), ``api_key`` (REST API) or ``none``.
    jwt_issuer, jwt_audience
        Issuer URL and accepted audiences of the JWT authorizer (``auth="jwt"`` only).
    throttle_rate_limit, throttle_burst_limit
        Steady requests per second and burst for the API stage. Default 100 and 200.
    cors_allow_origins
        Origins allowed by CORS; empty (default) disables CORS.
    owner
        The construct named in error messages. Default ``SharedHttpApi``; the endpoint, which composes
        these props from its own, passes its name.

    Raises
    ------
    PropsError
        A front door, auth or throttle the endpoint cannot build.
    """

    front_door: str = "http_api"
    auth: str = "iam"
    jwt_issuer: str | None = None
    jwt_audience: Sequence[str] = ()
    throttle_rate_limit: float = 100.0
    throttle_burst_limit: int = 200
    cors_allow_origins: Sequence[str] = ()
    owner: str = field(default=OWNER, compare=False, repr=False)
    config_section = SECTION
    config_keys = SETTINGS
    default_owner = OWNER

    def __post_init__(self) -> None:
        owner = self.owner
        check_choice("front_door", self.front_door, FRONT_DOORS, owner=owner)
        allowed = AUTH_BY_FRONT_DOOR[self.front_door]
        if self.auth not in allowed:
            raise invalid(
                "auth", self.auth, f"with front_door={self.front_door!r}: {', '.join(allowed)}", owner=owner
            )
        audience = check_strings("jwt_audience", self.jwt_audience, owner=owner)
        object.__setattr__(self, "jwt_audience", audience)
        if self.auth == "jwt":
            if not isinstance(self.jwt_issuer, str) or not self.jwt_issuer.startswith("https://"):
                raise invalid(
                    "jwt_issuer",
                    self.jwt_issuer,
                    "the issuer's https:// URL (e.g. https://cognito-idp.us-east-1.amazonaws.com/<pool id>)",
                    owner=owner,
                )
            if not audience:
                raise invalid(
                    "jwt_audience",
                    self.jwt_audience,
                    "a non-empty list of audiences (client ids)",
                    owner=owner,
                )
        elif self.jwt_issuer is not None:
            raise invalid("jwt_issuer", self.jwt_issuer, "None unless auth='jwt'", owner=owner)
        elif audience:
            raise invalid("jwt_audience", self.jwt_audience, "empty unless auth='jwt'", owner=owner)
        check_positive_number("throttle_rate_limit", self.throttle_rate_limit, owner=owner)
        check_int("throttle_burst_limit", self.throttle_burst_limit, 1, owner=owner)
        origins = check_strings("cors_allow_origins", self.cors_allow_origins, owner=owner)
        object.__setattr__(self, "cors_allow_origins", origins)


@dataclass(frozen=True)
class FrontDoor:
    """What :func:`build_front_door` created; exactly one of the three is set."""

    url: str
    http_api: apigwv2.HttpApi | None = None
    rest_api: apigw.RestApi | None = None
    function_url: lambda_.FunctionUrl | None = None
    api_key: apigw.IApiKey | None = None


def build_front_door(
    scope: Construct,
    props: FrontDoorProps,
    alias: lambda_.Alias,
    log_retention: logs.RetentionDays,
    *,
    tracing: bool = False,
) -> FrontDoor:
    """Create the front door in ``scope``, every contract route invoking ``alias``.

    ``tracing`` turns on X-Ray for the REST API's stage; HTTP APIs and Function URLs have no X-Ray
    integration (the function's own active tracing still records each invocation).
    """
    if props.front_door == "http_api":
        return _http_api(scope, props, alias, log_retention)
    if props.front_door == "rest_api":
        return _rest_api(scope, props, alias, log_retention, tracing)
    return _function_url(props, alias)


def _access_logs(scope: Construct, log_retention: logs.RetentionDays) -> logs.LogGroup:
    group = logs.LogGroup(
        scope, "AccessLogs", retention=log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    acknowledge_log_group(group)
    return group


def _http_api(
    scope: Construct, props: FrontDoorProps, alias: lambda_.Alias, log_retention: logs.RetentionDays
) -> FrontDoor:
    api, stage = _create_http_api(scope, props, log_retention)
    add_http_routes(api, alias, props.auth, _authorizer(props))
    return FrontDoor(url=stage.url, http_api=api)


def _authorizer(props: FrontDoorProps) -> apigwv2.IHttpRouteAuthorizer | None:
    if props.auth == "iam":
        return authorizers.HttpIamAuthorizer()
    if props.auth == "jwt":
        assert props.jwt_issuer is not None
        return authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer", props.jwt_issuer, jwt_audience=list(props.jwt_audience)
        )
    return None


def _create_http_api(
    scope: Construct, props: FrontDoorProps, log_retention: logs.RetentionDays
) -> tuple[apigwv2.HttpApi, apigwv2.HttpStage]:
    cors = (
        apigwv2.CorsPreflightOptions(
            allow_origins=list(props.cors_allow_origins),
            allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
            allow_headers=["content-type", "accept", "authorization", "x-amz-date", "x-amz-security-token"],
            max_age=cdk.Duration.hours(1),
        )
        if props.cors_allow_origins
        else None
    )
    api = apigwv2.HttpApi(
        scope,
        "HttpApi",
        description="scikit-learn predictions (cdk-sklearn)",
        create_default_stage=False,
        cors_preflight=cors,
    )
    stage = apigwv2.HttpStage(
        scope,
        "DefaultStage",
        http_api=api,
        stage_name="$default",
        auto_deploy=True,
        throttle=apigwv2.ThrottleSettings(
            rate_limit=props.throttle_rate_limit, burst_limit=props.throttle_burst_limit
        ),
        access_log_settings=_HttpAccessLogs(_access_logs(scope, log_retention)),
    )
    return api, stage


def add_http_routes(
    api: apigwv2.HttpApi,
    alias: lambda_.Alias,
    auth: str,
    authorizer: apigwv2.IHttpRouteAuthorizer | None,
    prefix: str = "",
) -> None:
    """Route every route of the contract (:data:`lambda_runtime.contract.ROUTES`), under ``prefix``, to
    ``alias`` on ``api``."""
    integration = integrations.HttpLambdaIntegration(f"AliasIntegration{_route_id(prefix)}", alias)
    for route in contract.ROUTES:
        routes = api.add_routes(
            path=prefix + route.path,
            methods=[apigwv2.HttpMethod(verb) for verb in route.verbs],
            integration=integration,
            authorizer=authorizer,
        )
        if auth == "none":
            for created in routes:
                acknowledge(
                    created,
                    "AwsSolutions-APIG4",
                    "auth='none' was chosen explicitly for this environment: a public endpoint",
                )


def _route_id(prefix: str) -> str:
    return "".join(part.title() for part in prefix.replace("-", "/").replace("_", "/").split("/"))


class SharedHttpApi(Construct):
    """One HTTP API in front of several endpoints, each under ``/models/<model_name>/``.

    Pass it as ``shared_api=`` to each :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`; the
    API's authentication, throttling, CORS and access logs apply to every model, and there is one
    stage, one URL and one access-log group to operate.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    log_retention
        Retention of the access logs. Default one month. Not a prop: like the endpoint's
        ``log_retention_days``, which it applies to every log group it creates, it is the app's log
        policy, not the front door's shape; in :class:`FrontDoorProps` it would give an endpoint's
        access logs a second retention setting that could disagree with its function's.
    props
        The API's props as a :class:`FrontDoorProps` (``front_door`` must be ``http_api``); or pass its
        fields as keyword arguments (:class:`FrontDoorSettings`: ``auth``, ``jwt_issuer``,
        ``jwt_audience``, ``throttle_rate_limit``, ``throttle_burst_limit``, ``cors_allow_origins``),
        as on :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint` (``auth`` is ``iam``, ``jwt`` or
        ``none``; default ``iam``).

    Attributes
    ----------
    props : FrontDoorProps
        The validated props.
    http_api : aws_apigatewayv2.HttpApi
    stage : aws_apigatewayv2.HttpStage
    url : str
        The base URL; a model named ``iris`` answers at ``<url>models/iris/predict``.

    Raises
    ------
    TypeError
        Both ``props`` and keyword props, or an unknown keyword prop.
    PropsError
        A prop the API cannot build (``front_door`` other than ``http_api`` included); raised before
        any construct is created.
    """

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_retention: logs.RetentionDays = ...,
        props: FrontDoorProps,
    ) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_retention: logs.RetentionDays = ...,
        **settings: Unpack[FrontDoorSettings],
    ) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        props: FrontDoorProps | None = None,
        **settings: Any,  # typed by the overloads: FrontDoorSettings
    ) -> None:
        self.props = props_from(OWNER, FrontDoorProps, props, settings, SETTINGS)
        if self.props.front_door != "http_api":
            raise invalid(
                "front_door",
                self.props.front_door,
                "http_api (a shared API is an HTTP API; give each endpoint its own REST API or "
                "Function URL instead)",
                owner=OWNER,
            )
        super().__init__(scope, id)
        self.http_api, self.stage = _create_http_api(self, self.props, log_retention)
        self._authorizer = _authorizer(self.props)
        self.url: str = self.stage.url
        self._models: set[str] = set()

    @property
    def model_names(self) -> frozenset[str]:
        """Names of the models already routed on this API."""
        return frozenset(self._models)

    def check_model_name(self, model_name: str) -> None:
        """Raise :class:`~cdk_sklearn.validation.PropsError` if ``model_name`` is already routed here."""
        if model_name in self._models:
            raise invalid(
                "model_name",
                model_name,
                f"a name not yet used on this shared API ({', '.join(sorted(self._models))})",
                owner=ENDPOINT,
            )

    def add_model(self, model_name: str, alias: lambda_.Alias) -> str:
        """Route ``/models/<model_name>/...`` to ``alias``; return the route prefix.

        Raises
        ------
        PropsError
            When a model of that name is already on this API.
        """
        self.check_model_name(model_name)
        self._models.add(model_name)
        prefix = contract.shared_route_prefix(model_name)
        add_http_routes(self.http_api, alias, self.props.auth, self._authorizer, prefix)
        return prefix


@jsii.implements(apigwv2.IAccessLogSettings)
class _HttpAccessLogs:
    """Access-log settings for an HTTP API stage: JSON lines with the request id and latency."""

    def __init__(self, group: logs.ILogGroup) -> None:
        self._group = group

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return apigwv2.LogGroupLogDestination(self._group)

    @property
    def format(self) -> apigw.AccessLogFormat:
        return _access_log_format()


def _access_log_format() -> apigw.AccessLogFormat:
    # JSON lines with the request id, status and latency; no caller or user identity (PII).
    return apigw.AccessLogFormat.json_with_standard_fields(
        caller=False,
        http_method=True,
        ip=True,
        protocol=True,
        request_time=True,
        resource_path=True,
        response_length=True,
        status=True,
        user=False,
    )


def _rest_api(
    scope: Construct,
    props: FrontDoorProps,
    alias: lambda_.Alias,
    log_retention: logs.RetentionDays,
    tracing: bool,
) -> FrontDoor:
    method_auth = apigw.AuthorizationType.IAM if props.auth == "iam" else apigw.AuthorizationType.NONE
    api = apigw.RestApi(
        scope,
        "RestApi",
        description="scikit-learn predictions (cdk-sklearn)",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        # OIP binary tensor bodies are bytes: without these a REST API passes them on as text and
        # corrupts them. "*/*" because tritonclient sends no Content-Type; JSON then arrives
        # base64-encoded too, and the runtime decodes it first (see the contract's comment).
        binary_media_types=list(contract.REST_API_BINARY_MEDIA_TYPES),
        cloud_watch_role=True,
        deploy_options=apigw.StageOptions(
            stage_name=REST_STAGE,
            throttling_rate_limit=props.throttle_rate_limit,
            throttling_burst_limit=props.throttle_burst_limit,
            access_log_destination=apigw.LogGroupLogDestination(_access_logs(scope, log_retention)),
            access_log_format=_access_log_format(),
            logging_level=apigw.MethodLoggingLevel.ERROR,
            tracing_enabled=tracing,
        ),
        default_cors_preflight_options=(
            apigw.CorsOptions(allow_origins=list(props.cors_allow_origins), allow_methods=["GET", "POST"])
            if props.cors_allow_origins
            else None
        ),
    )
    # No request models are attached, so API Gateway passes every body through: the handler
    # validates it and explains each mistake (a model's bare 400 would not).
    validator = api.add_request_validator(
        "RequestValidator", validate_request_parameters=True, validate_request_body=True
    )
    integration = apigw.LambdaIntegration(alias)
    for route in contract.ROUTES:
        resource = api.root.resource_for_path(route.path)
        for verb in route.verbs:
            resource.add_method(
                verb,
                integration,
                authorization_type=method_auth,
                api_key_required=props.auth == "api_key",
                request_validator=validator,
            )
    api_key = None
    if props.auth == "api_key":
        plan = api.add_usage_plan(
            "UsagePlan",
            throttle=apigw.ThrottleSettings(
                rate_limit=props.throttle_rate_limit, burst_limit=props.throttle_burst_limit
            ),
        )
        plan.add_api_stage(stage=api.deployment_stage)
        api_key = api.add_api_key("ApiKey")
        plan.add_api_key(api_key)
    _acknowledge_rest(api, props)
    _acknowledge_rest_stage(api.deployment_stage, tracing)
    # RestApi adds an output with its URL; the endpoint outputs the same URL as EndpointUrl.
    api.node.try_remove_child("Endpoint")
    return FrontDoor(url=api.url, rest_api=api, api_key=api_key)


def _acknowledge_rest(api: apigw.RestApi, props: FrontDoorProps) -> None:
    acknowledge(
        api,
        "AwsSolutions-APIG3",
        "AWS WAF costs at least $5/month per web ACL plus $0.60 per million requests, more than the whole "
        "endpoint at low volume; stage throttling and authentication protect it. Attach a web ACL to the "
        "stage if the API is public and abused.",
    )
    acknowledge(
        api,
        "AwsSolutions-COG4",
        f"Methods authenticate with {props.auth!r} (IAM SigV4 or an API key), not a Cognito user pool; "
        "machine-to-machine prediction clients rarely have Cognito users.",
    )
    acknowledge(
        api,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "The API Gateway account role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS "
        "documents for that role; it only writes API Gateway's execution logs.",
    )
    if props.auth in ("none", "api_key"):
        acknowledge(
            api,
            "AwsSolutions-APIG4",
            "auth='none' was chosen explicitly for this environment: a public endpoint"
            if props.auth == "none"
            else "Every method requires an API key tied to a usage plan with throttling (auth='api_key')",
        )


def _acknowledge_rest_stage(stage: apigw.Stage, tracing: bool) -> None:
    acknowledge_compliance(
        stage,
        "APIGWAssociatedWithWAF",
        "AWS WAF costs at least $5/month per web ACL plus $0.60 per million requests, more than the whole "
        "endpoint at low volume; stage throttling and authentication protect it. Associate your web ACL "
        "with this stage (wafv2.CfnWebACLAssociation) if the API is public and abused.",
    )
    acknowledge_compliance(
        stage,
        "APIGWCacheEnabledAndEncrypted",
        "The stage has no cache, so nothing is cached to encrypt: predictions are POST requests, which "
        "API Gateway does not cache by default, and a cache cluster bills by the hour.",
    )
    acknowledge_compliance(
        stage,
        "APIGWSSLEnabled",
        "The rule asks for a client certificate, with which an HTTP backend authenticates API Gateway; "
        "this stage's only backend is the Lambda alias, invoked through the Lambda API with IAM.",
    )
    if not tracing:
        acknowledge_compliance(
            stage,
            "APIGWXrayEnabled",
            "X-Ray is the tracing prop (default False: traces are billed per trace recorded); set "
            "tracing=True to trace the stage and the function.",
        )


def _function_url(props: FrontDoorProps, alias: lambda_.Alias) -> FrontDoor:
    url = alias.add_function_url(
        auth_type=lambda_.FunctionUrlAuthType.AWS_IAM
        if props.auth == "iam"
        else lambda_.FunctionUrlAuthType.NONE,
        cors=(
            lambda_.FunctionUrlCorsOptions(
                allowed_origins=list(props.cors_allow_origins),
                allowed_methods=[lambda_.HttpMethod.GET, lambda_.HttpMethod.POST],
            )
            if props.cors_allow_origins
            else None
        ),
    )
    return FrontDoor(url=url.url, function_url=url)
