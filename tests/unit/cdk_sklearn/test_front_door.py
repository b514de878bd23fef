"""Front doors (HTTP API, REST API, Function URL), authentication, throttling, access logs, CORS."""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.front_door import FrontDoorProps, FrontDoorSettings, SharedHttpApi
from cdk_sklearn.validation import PropsError
from tests.conftest import SKIP_BUNDLING
from tests.helpers.routes import ROUTE_KEYS as ROUTES


def synth(model, **props: Any) -> tuple[SklearnLambdaEndpoint, Template]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(model), **props)
    return endpoint, Template.from_stack(stack)


def alias_id(template: Template) -> str:
    (logical_id,) = template.find_resources("AWS::Lambda::Alias")
    return logical_id


def test_http_api_routes_require_iam_by_default(iris_model):
    _, template = synth(iris_model)
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert len(routes) == len(ROUTES)
    assert {r["Properties"]["AuthorizationType"] for r in routes.values()} == {"AWS_IAM"}


def test_http_api_stage_throttles_and_logs(iris_model):
    _, template = synth(iris_model)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp("requestId"),
            },
        },
    )


def test_log_groups_have_retention(iris_model):
    _, template = synth(iris_model, log_retention_days=14)
    groups = template.find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 2  # function logs, access logs
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {14}


def test_jwt_authorizer(iris_model):
    _, template = synth(
        iris_model, auth="jwt", jwt_issuer="https://issuer.example.com", jwt_audience=["client-1"]
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "JwtConfiguration": {"Issuer": "https://issuer.example.com", "Audience": ["client-1"]},
        },
    )
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert {r["Properties"]["AuthorizationType"] for r in routes.values()} == {"JWT"}


def test_public_http_api_when_chosen(iris_model):
    _, template = synth(iris_model, auth="none")
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert {r["Properties"].get("AuthorizationType", "NONE") for r in routes.values()} == {"NONE"}


def test_cors(iris_model):
    _, template = synth(iris_model, cors_allow_origins=["https://app.example.com"])
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"CorsConfiguration": Match.object_like({"AllowOrigins": ["https://app.example.com"]})},
    )


def test_rest_api_with_api_key(iris_model):
    endpoint, template = synth(iris_model, front_door="rest_api", auth="api_key")
    assert endpoint.rest_api is not None and endpoint.http_api is None and endpoint.api_key is not None
    methods = template.find_resources("AWS::ApiGateway::Method")
    non_options = [m for m in methods.values() if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(non_options) == len(ROUTES)
    assert all(m["Properties"]["ApiKeyRequired"] for m in non_options)
    template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan", {"Throttle": {"RateLimit": 100, "BurstLimit": 200}}
    )
    template.resource_count_is("AWS::ApiGateway::ApiKey", 1)
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 100, "LoggingLevel": "ERROR"})]},
    )


def test_rest_api_integrations_target_alias(iris_model):
    _, template = synth(iris_model, front_door="rest_api")
    alias = alias_id(template)
    for method in template.find_resources("AWS::ApiGateway::Method").values():
        uri = str(method["Properties"]["Integration"]["Uri"])
        assert alias in uri, uri
    for permission in template.find_resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"] == {"Ref": alias}


def test_rest_api_passes_binary_tensor_bodies_as_bytes(iris_model):
    from lambda_runtime import contract

    _, template = synth(iris_model, front_door="rest_api")
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"BinaryMediaTypes": list(contract.REST_API_BINARY_MEDIA_TYPES)}
    )


def test_rest_api_binary_media_types_cover_bodies_without_content_type():
    from lambda_runtime import contract

    assert {"application/octet-stream", "*/*"} <= set(contract.REST_API_BINARY_MEDIA_TYPES)


def test_rest_api_iam(iris_model):
    _, template = synth(iris_model, front_door="rest_api")
    methods = template.find_resources("AWS::ApiGateway::Method").values()
    assert {m["Properties"]["AuthorizationType"] for m in methods} == {"AWS_IAM"}


def test_function_url_on_alias(iris_model):
    endpoint, template = synth(iris_model, front_door="function_url", reserved_concurrency=10)
    assert endpoint.function_url is not None and endpoint.http_api is None
    template.has_resource_properties(
        "AWS::Lambda::Url",
        {"AuthType": "AWS_IAM", "TargetFunctionArn": Match.any_value(), "Qualifier": "live"},
    )
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 10})
    template.resource_count_is("AWS::ApiGatewayV2::Api", 0)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"front_door": "alb"}, "front_door='alb' is invalid; allowed: http_api, rest_api, function_url"),
        (
            {"auth": "api_key"},
            "auth='api_key' is invalid; allowed: with front_door='http_api': iam, jwt, none",
        ),
        ({"front_door": "function_url", "auth": "jwt"}, "allowed: with front_door='function_url': iam, none"),
        (
            {"auth": "jwt", "jwt_audience": ["a"]},
            "jwt_issuer=None is invalid; allowed: the issuer's https:// URL",
        ),
        ({"auth": "jwt", "jwt_issuer": "https://i.example"}, "jwt_audience=() is invalid"),
        (
            {"jwt_issuer": "https://i.example"},
            "jwt_issuer='https://i.example' is invalid; allowed: None unless auth='jwt'",
        ),
        ({"throttle_rate_limit": 0}, "throttle_rate_limit=0 is invalid; allowed: a finite number > 0"),
        ({"throttle_burst_limit": 0.5}, "throttle_burst_limit=0.5 is invalid"),
        ({"log_retention_days": 10}, "log_retention_days=10 is invalid; allowed: 1, 3, 5"),
        ({"cors_allow_origins": "*"}, "cors_allow_origins='*' is invalid; allowed: a list of strings"),
        ({"reserved_concurrency": 0}, "reserved_concurrency=0 is invalid"),
    ],
)
def test_fails_on_bad_front_door(iris_model, props, message):
    with pytest.raises(ValueError) as excinfo:
        synth(iris_model, **props)
    assert message in str(excinfo.value)


# -- SharedHttpApi: props=FrontDoorProps or keyword props; FrontDoorProps.from_config -------------


def test_settings_are_the_props_fields():
    assert set(FrontDoorSettings.__annotations__) == {f.name for f in dataclasses.fields(FrontDoorProps)} - {
        "owner"
    }


def test_shared_api_takes_props():
    stack = cdk.Stack(cdk.App(), "S")
    props = FrontDoorProps(auth="none", throttle_rate_limit=5, throttle_burst_limit=10)
    api = SharedHttpApi(stack, "Api", props=props)
    assert api.props is props
    Template.from_stack(stack).has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"DefaultRouteSettings": {"ThrottlingRateLimit": 5, "ThrottlingBurstLimit": 10}},
    )


def test_shared_api_keyword_props_make_the_same_props():
    api = SharedHttpApi(
        cdk.Stack(cdk.App(), "S"),
        "Api",
        auth="jwt",
        jwt_issuer="https://issuer.example.com",
        jwt_audience=["client-1"],
        cors_allow_origins=["https://app.example.com"],
    )
    assert api.props == FrontDoorProps(
        auth="jwt",
        jwt_issuer="https://issuer.example.com",
        jwt_audience=("client-1",),
        cors_allow_origins=("https://app.example.com",),
    )


def test_shared_api_log_retention_sets_the_access_logs():
    stack = cdk.Stack(cdk.App(), "S")
    SharedHttpApi(stack, "Api", log_retention=logs.RetentionDays.ONE_WEEK)
    Template.from_stack(stack).has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})


@pytest.mark.parametrize("front_door", ["rest_api", "function_url"])
def test_fails_on_shared_api_props_for_another_front_door(front_door):
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(
        PropsError, match=rf"^SharedHttpApi: front_door='{front_door}' is invalid; allowed: http_api"
    ):
        SharedHttpApi(stack, "Api", props=FrontDoorProps(front_door=front_door, auth="none"))
    assert stack.node.try_find_child("Api") is None


def test_fails_on_shared_api_keyword_front_door_other_than_http_api():
    with pytest.raises(PropsError, match=r"SharedHttpApi: front_door='rest_api' is invalid"):
        SharedHttpApi(cdk.Stack(cdk.App(), "S"), "Api", front_door="rest_api")


def test_fails_on_shared_api_props_and_keyword_props():
    with pytest.raises(TypeError, match=r"SharedHttpApi: pass props= or keyword props \(auth\), not both"):
        SharedHttpApi(  # type: ignore[call-overload]
            cdk.Stack(cdk.App(), "S"), "Api", props=FrontDoorProps(), auth="none"
        )


def test_fails_on_shared_api_unknown_keyword_listing_the_allowed_ones():
    with pytest.raises(TypeError, match=r"unknown prop\(s\) authentication; allowed: front_door, auth, "):
        SharedHttpApi(cdk.Stack(cdk.App(), "S"), "Api", authentication="iam")  # type: ignore[call-overload]


def test_from_config_reads_a_cdk_json_section():
    props = FrontDoorProps.from_config(
        {"auth": "jwt", "jwt_issuer": "https://issuer.example.com", "jwt_audience": ["client-1"]}
    )
    assert props == FrontDoorProps(
        auth="jwt", jwt_issuer="https://issuer.example.com", jwt_audience=("client-1",)
    )
