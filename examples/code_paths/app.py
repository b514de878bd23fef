"""Your own code in the model: a pipeline with a transformer from ``features.py``, shipped beside the
function code with ``code_paths``.

The pickle names ``features.PetalRatios``; synth checks that every module the model names is in the
layer or in ``code_paths``, and fails naming the module otherwise. The model is trained here on first
run, with ``features`` imported under that name (the name the function will import it by).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import joblib
from features import PetalRatios
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from cdk_sklearn import SklearnLambdaEndpoint

HERE = Path(__file__).resolve().parent
MODEL = HERE / "models" / "ratios.joblib"


def train(path: Path = MODEL) -> Path:
    """Train the pipeline (our transformer, then a logistic regression) unless it is already there."""
    if not path.exists():
        features, target = load_iris(return_X_y=True)
        model = make_pipeline(PetalRatios(), LogisticRegression(max_iter=500)).fit(features, target)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
    return path


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app: one endpoint whose function ships features.py."""
    app = cdk.App(context=dict(context or {}))
    stack = cdk.Stack(app, "CodePaths")
    SklearnLambdaEndpoint(
        stack,
        "Ratios",
        model_path=train(),
        code_paths=[HERE / "features.py"],
        alarm_email="ml-team@example.com",
    )
    return app


if __name__ == "__main__":
    build_app().synth()
