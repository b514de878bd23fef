"""The ONNX engine: the iris model converted to an ONNX graph at synth, verified against scikit-learn on
``sample.csv`` (and on edge rows), and served by onnxruntime.

The function never unpickles anything, and its layer is numpy + onnxruntime only. Synth prints one line
with what was verified and the largest difference found; a graph that answers differently fails synth.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_sklearn import SklearnLambdaEndpoint

HERE = Path(__file__).resolve().parent
MODEL = HERE.parents[1] / "models" / "iris.joblib"  # `make demo` or `python examples/train_iris.py`


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app: one endpoint on the ONNX engine."""
    app = cdk.App(context=dict(context or {}))
    stack = cdk.Stack(app, "OnnxEngine")
    SklearnLambdaEndpoint(
        stack,
        "Iris",
        model_path=MODEL,
        engine="onnx",
        sample_input=HERE / "sample.csv",  # rows like the endpoint's requests, with a header
        alarm_email="ml-team@example.com",
    )
    return app


if __name__ == "__main__":
    build_app().synth()
