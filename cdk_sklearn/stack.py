"""The example app's stack: one :class:`SklearnLambdaEndpoint` configured for one environment."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_sklearn.config import EnvironmentConfig
from cdk_sklearn.endpoint import SklearnLambdaEndpoint


class SklearnEndpointStack(cdk.Stack):
    """A stack holding one endpoint, built from a validated :class:`EnvironmentConfig`.

    Attributes
    ----------
    endpoint : SklearnLambdaEndpoint
        The endpoint (construct id ``Endpoint``; changing it replaces every resource).
    """

    def __init__(self, scope: Construct, config: EnvironmentConfig, **kwargs: Any) -> None:
        env = cdk.Environment(account=config.account, region=config.region)
        super().__init__(
            scope,
            config.stack_name,
            env=env,
            description=config.description or f"cdk-sklearn endpoint, environment {config.name}",
            **kwargs,
        )
        self.endpoint = SklearnLambdaEndpoint(self, "Endpoint", props=config.endpoint)
        for key, value in {"cdk-sklearn:environment": config.name, **config.tags}.items():
            cdk.Tags.of(self).add(key, value)
