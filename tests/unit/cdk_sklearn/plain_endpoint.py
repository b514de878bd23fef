"""A function, its ``live`` alias and an HTTP API shaped like SklearnLambdaEndpoint's, with inline code.

The ops constructs take these resources as inputs; building them by hand keeps the ops tests
independent of the endpoint (and of the layer build).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_


def plain_endpoint(stack: cdk.Stack, provisioned: int = 0) -> tuple[lambda_.Function, lambda_.Alias]:
    """A function and its ``live`` alias on the current version, with optional provisioned concurrency."""
    function = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    alias = lambda_.Alias(
        stack,
        "LiveAlias",
        alias_name="live",
        version=function.current_version,
        provisioned_concurrent_executions=provisioned or None,
    )
    return function, alias


def http_api(stack: cdk.Stack, alias: lambda_.Alias) -> apigwv2.HttpApi:
    """An HTTP API whose one route invokes the alias."""
    api = apigwv2.HttpApi(stack, "HttpApi")
    api.add_routes(
        path="/predict",
        methods=[apigwv2.HttpMethod.POST],
        integration=integrations.HttpLambdaIntegration("Integration", alias),
    )
    return api
