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
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_sklearn.nag import acknowledge
from cdk_sklearn.validation import invalid

FRONT_DOORS: tuple[str, ...] = ("http_api", "rest_api", "function_url")
AUTH_BY_FRONT_DOOR: dict[str, tuple[str, ...]] = {
    "http_api": ("iam", "jwt", "none"),
    "rest_api": ("iam", "api_key", "none"),
    "function_url": ("iam", "none"),
}
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
REST_STAGE = "prod"


@dataclass(frozen=True, kw_only=True)
class FrontDoorSettings:
    """What the front door looks like; validated by :func:`check_front_door`.

    Parameters
    ----------
    kind
        ``http_api``, ``rest_api`` or ``function_url``.
    auth
        ``iam``, ``jwt`` (HTTP API), ``api_key`` (REST API) or ``none``.
    jwt_issuer, jwt_audience
        Issuer URL and accepted audiences of the JWT authorizer (``auth="jwt"`` only).
    throttle_rate_limit, throttle_burst_limit
        Steady requests per second and burst for the API stage.
    cors_allow_origins
        Origins allowed by CORS; empty disables CORS.
    log_retention
        Retention of the access-log group.
    """

    kind: str
    auth: str
    jwt_issuer: str | None
    jwt_audience: Sequence[str]
    throttle_rate_limit: float
    throttle_burst_limit: int
    cors_allow_origins: Sequence[str]
    log_retention: logs.RetentionDays


def check_front_door(
    kind: str, auth: str, jwt_issuer: str | None, jwt_audience: Sequence[str], rate: float, burst: int
) -> None:
    """Raise ``ValueError`` for a front door, auth or throttle the endpoint cannot build."""
    if kind not in FRONT_DOORS:
        raise ValueError(
            f"SklearnLambdaEndpoint: front_door={kind!r} is invalid; allowed: {', '.join(FRONT_DOORS)}"
        )
    allowed = AUTH_BY_FRONT_DOOR[kind]
    if auth not in allowed:
        raise invalid("auth", auth, f"with front_door={kind!r}: {', '.join(allowed)}")
    if auth == "jwt":
        if not jwt_issuer or not jwt_issuer.startswith("https://"):
            raise invalid(
                "jwt_issuer",
                jwt_issuer,
                "the issuer's https:// URL (e.g. https://cognito-idp.us-east-1.amazonaws.com/<pool id>)",
            )
        if not jwt_audience or isinstance(jwt_audience, str):
            raise invalid("jwt_audience", jwt_audience, "a non-empty list of audiences (client ids)")
    elif jwt_issuer or jwt_audience:
        raise ValueError("SklearnLambdaEndpoint: jwt_issuer/jwt_audience are set but auth is not 'jwt'")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise ValueError(
            f"SklearnLambdaEndpoint: throttle_rate_limit={rate!r} is invalid; allowed: a number > 0"
        )
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(
            f"SklearnLambdaEndpoint: throttle_burst_limit={burst!r} is invalid; allowed: an integer >= 1"
        )


@dataclass(frozen=True)
class FrontDoor:
    """What :func:`build_front_door` created; exactly one of the three is set."""

    url: str
    http_api: apigwv2.HttpApi | None = None
    rest_api: apigw.RestApi | None = None
    function_url: lambda_.FunctionUrl | None = None
    api_key: apigw.IApiKey | None = None


def build_front_door(scope: Construct, settings: FrontDoorSettings, alias: lambda_.Alias) -> FrontDoor:
    """Create the front door in ``scope``, every route invoking ``alias``."""
    if settings.kind == "http_api":
        return _http_api(scope, settings, alias)
    if settings.kind == "rest_api":
        return _rest_api(scope, settings, alias)
    return _function_url(scope, settings, alias)


def _access_logs(scope: Construct, settings: FrontDoorSettings) -> logs.LogGroup:
    return logs.LogGroup(
        scope, "AccessLogs", retention=settings.log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
    )


def _http_api(scope: Construct, settings: FrontDoorSettings, alias: lambda_.Alias) -> FrontDoor:
    authorizer: apigwv2.IHttpRouteAuthorizer | None = None
    if settings.auth == "iam":
        authorizer = authorizers.HttpIamAuthorizer()
    elif settings.auth == "jwt":
        assert settings.jwt_issuer is not None
        authorizer = authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer", settings.jwt_issuer, jwt_audience=list(settings.jwt_audience)
        )
    cors = (
        apigwv2.CorsPreflightOptions(
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=[apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
            allow_headers=["content-type", "accept", "authorization", "x-amz-date", "x-amz-security-token"],
            max_age=cdk.Duration.hours(1),
        )
        if settings.cors_allow_origins
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
            rate_limit=settings.throttle_rate_limit, burst_limit=settings.throttle_burst_limit
        ),
        access_log_settings=_HttpAccessLogs(_access_logs(scope, settings)),
    )
    integration = integrations.HttpLambdaIntegration("AliasIntegration", alias)
    for method, path in ROUTES:
        routes = api.add_routes(
            path=path, methods=[apigwv2.HttpMethod(method)], integration=integration, authorizer=authorizer
        )
        if settings.auth == "none":
            for route in routes:
                acknowledge(
                    route,
                    "AwsSolutions-APIG4",
                    "auth='none' was chosen explicitly for this environment: a public endpoint",
                )
    return FrontDoor(url=stage.url, http_api=api)


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


def _rest_api(scope: Construct, settings: FrontDoorSettings, alias: lambda_.Alias) -> FrontDoor:
    method_auth = apigw.AuthorizationType.IAM if settings.auth == "iam" else apigw.AuthorizationType.NONE
    api = apigw.RestApi(
        scope,
        "RestApi",
        description="scikit-learn predictions (cdk-sklearn)",
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=True,
        deploy_options=apigw.StageOptions(
            stage_name=REST_STAGE,
            throttling_rate_limit=settings.throttle_rate_limit,
            throttling_burst_limit=settings.throttle_burst_limit,
            access_log_destination=apigw.LogGroupLogDestination(_access_logs(scope, settings)),
            access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                caller=False,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=False,
            ),
            logging_level=apigw.MethodLoggingLevel.ERROR,
        ),
        default_cors_preflight_options=(
            apigw.CorsOptions(allow_origins=list(settings.cors_allow_origins), allow_methods=["GET", "POST"])
            if settings.cors_allow_origins
            else None
        ),
    )
    # No request models are attached, so API Gateway passes every body through: the handler
    # validates it and explains each mistake (a model's bare 400 would not).
    validator = api.add_request_validator(
        "RequestValidator", validate_request_parameters=True, validate_request_body=True
    )
    integration = apigw.LambdaIntegration(alias)
    for method, path in ROUTES:
        resource = api.root.resource_for_path(path)
        resource.add_method(
            method,
            integration,
            authorization_type=method_auth,
            api_key_required=settings.auth == "api_key",
            request_validator=validator,
        )
    api_key = None
    if settings.auth == "api_key":
        plan = api.add_usage_plan(
            "UsagePlan",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.throttle_rate_limit, burst_limit=settings.throttle_burst_limit
            ),
        )
        plan.add_api_stage(stage=api.deployment_stage)
        api_key = api.add_api_key("ApiKey")
        plan.add_api_key(api_key)
    _acknowledge_rest(api, settings)
    return FrontDoor(url=api.url, rest_api=api, api_key=api_key)


def _acknowledge_rest(api: apigw.RestApi, settings: FrontDoorSettings) -> None:
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
        f"Methods authenticate with {settings.auth!r} (IAM SigV4 or an API key), not a Cognito user pool; "
        "machine-to-machine prediction clients rarely have Cognito users.",
    )
    acknowledge(
        api,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "The API Gateway account role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS "
        "documents for that role; it only writes API Gateway's execution logs.",
    )
    if settings.auth in ("none", "api_key"):
        acknowledge(
            api,
            "AwsSolutions-APIG4",
            "auth='none' was chosen explicitly for this environment: a public endpoint"
            if settings.auth == "none"
            else "Every method requires an API key tied to a usage plan with throttling (auth='api_key')",
        )


def _function_url(scope: Construct, settings: FrontDoorSettings, alias: lambda_.Alias) -> FrontDoor:
    url = alias.add_function_url(
        auth_type=lambda_.FunctionUrlAuthType.AWS_IAM
        if settings.auth == "iam"
        else lambda_.FunctionUrlAuthType.NONE,
        cors=(
            lambda_.FunctionUrlCorsOptions(
                allowed_origins=list(settings.cors_allow_origins),
                allowed_methods=[lambda_.HttpMethod.GET, lambda_.HttpMethod.POST],
            )
            if settings.cors_allow_origins
            else None
        ),
    )
    return FrontDoor(url=url.url, function_url=url)
