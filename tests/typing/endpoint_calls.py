"""Checked by ``make lint`` (mypy --strict, ``warn_unused_ignores``): type checkers see every prop of
``SklearnLambdaEndpoint`` at the call site. Each ``type: ignore`` below must be needed — if mypy stopped
flagging a misspelt prop or a wrong type, the unused ignore would fail the lint."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn import SklearnLambdaEndpoint


def calls(stack: cdk.Stack) -> None:
    SklearnLambdaEndpoint(
        stack, "Ok", model_path="m.joblib", memory_size=2048, runtime=lambda_.Runtime.PYTHON_3_12
    )
    SklearnLambdaEndpoint(stack, "Typo", model_path="m.joblib", memroy_size=1024)  # type: ignore[call-overload]
    SklearnLambdaEndpoint(stack, "Type", model_path="m.joblib", memory_size="big")  # type: ignore[call-overload]
    SklearnLambdaEndpoint(stack, "NoModel", memory_size=1024)  # type: ignore[call-overload]
