"""Checked by ``make lint`` (mypy --strict, ``warn_unused_ignores``): type checkers see the props of the part
constructs (``SharedHttpApi``, ``EndpointMonitoring``, ``SafeRollout``) at the call site, in both forms.
Each ``type: ignore`` below must be needed: if mypy stopped flagging a misspelt prop, a wrong type or
props given twice, the unused ignore would fail the lint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.front_door import FrontDoorProps, SharedHttpApi
from cdk_sklearn.monitoring import EndpointMonitoring, MonitoringProps
from cdk_sklearn.rollout import RolloutProps, SafeRollout


def shared_api_calls(stack: cdk.Stack) -> None:
    SharedHttpApi(stack, "Ok", auth="jwt", jwt_issuer="https://i.example", jwt_audience=["a"])
    SharedHttpApi(stack, "Props", props=FrontDoorProps(auth="none"))
    SharedHttpApi(stack, "Typo", authentication="iam")  # type: ignore[call-overload]
    SharedHttpApi(stack, "Type", throttle_burst_limit="many")  # type: ignore[call-overload]
    SharedHttpApi(stack, "Both", props=FrontDoorProps(), auth="none")  # type: ignore[call-overload]


def monitoring_calls(stack: cdk.Stack, function: lambda_.Function, alias: lambda_.Alias) -> None:
    EndpointMonitoring(stack, "Ok", function=function, alias=alias, model_name="m", alarm_email="o@x.io")
    EndpointMonitoring(
        stack, "Props", function=function, alias=alias, model_name="m", props=MonitoringProps()
    )
    EndpointMonitoring(stack, "Typo", function=function, alias=alias, model_name="m", latency_ms=5)  # type: ignore[call-overload]
    EndpointMonitoring(stack, "NoAlias", function=function, model_name="m")  # type: ignore[call-overload]


def rollout_calls(stack: cdk.Stack, alias: lambda_.Alias) -> None:
    SafeRollout(stack, "Ok", alias=alias, strategy="linear")
    SafeRollout(stack, "Props", alias=alias, props=RolloutProps(strategy="linear"))
    SafeRollout(stack, "Old", alias=alias, strategy=RolloutProps())  # type: ignore[call-overload]
    SafeRollout(stack, "Both", alias=alias, props=RolloutProps(), strategy="linear")  # type: ignore[call-overload]
