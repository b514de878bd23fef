"""One endpoint: the iris model behind an HTTP API, with the construct's defaults.

Defaults: python3.13 on arm64, 1024 MB, IAM auth, throttling, access logs, a dashboard and alarms, and a
canary rollout through CodeDeploy. ``cdk synth`` in this folder runs it (see cdk.json), or ``python app.py``.
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
    """The app: one stack, one endpoint."""
    app = cdk.App(context=dict(context or {}))
    stack = cdk.Stack(app, "OneEndpoint")
    SklearnLambdaEndpoint(stack, "Iris", model_path=MODEL, alarm_email="ml-team@example.com")
    return app


if __name__ == "__main__":
    build_app().synth()
