"""The model-function core: what every construct that runs a model on Lambda builds the same way.

:class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`, :class:`~cdk_sklearn.batch.SklearnBatchScoring` (with
a function of its own) and the compute modes to come all need the same five things for a model file: the
model as an S3 asset, the shared layer, a log group, a least-privilege role and the function, with the same
cdk-nag acknowledgments. :class:`ModelFunctionProps` holds (and validates, once) every prop that makes the
function; :func:`prepare_model` inspects the model and decides its engine before any construct exists;
:func:`build_model_function` creates the five resources under the caller's scope, with the construct IDs
the endpoint always had (``ModelAsset``, ``FunctionLogs``, ``FunctionRole``, ``Function``).
"""

from __future__ import annotations

from cdk_sklearn.model_function.build import (
    FunctionRole,
    ModelFunction,
    build_model_function,
    function_environment,
    model_function_role,
    model_uri,
    shared_sklearn_layer,
)
from cdk_sklearn.model_function.prepare import PreparedModel, prepare_model
from cdk_sklearn.model_function.props import (
    DEFAULT_ONNX_TOLERANCE,
    FUNCTION_SETTINGS,
    LATEST_RUNTIME,
    PROP_FOR_ENVIRONMENT,
    ModelFunctionProps,
    ModelFunctionSettings,
    retention_days,
)

__all__ = [
    "DEFAULT_ONNX_TOLERANCE",
    "FUNCTION_SETTINGS",
    "LATEST_RUNTIME",
    "PROP_FOR_ENVIRONMENT",
    "FunctionRole",
    "ModelFunction",
    "ModelFunctionProps",
    "ModelFunctionSettings",
    "PreparedModel",
    "build_model_function",
    "function_environment",
    "model_function_role",
    "model_uri",
    "prepare_model",
    "retention_days",
    "shared_sklearn_layer",
]
