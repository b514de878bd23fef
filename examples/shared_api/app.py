"""Two models behind one HTTP API: ``/models/iris/...`` and ``/models/forest/...``.

Each model keeps its own function, ``live`` alias, alarms and rollout; the ``SharedHttpApi`` is the one
URL, with one place for auth, throttling and access logs. The second model, a small random forest, is
trained here on first run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from cdk_sklearn import SharedHttpApi, SklearnLambdaEndpoint

HERE = Path(__file__).resolve().parent
IRIS = HERE.parents[1] / "models" / "iris.joblib"  # `make demo` or `python examples/train_iris.py`
FOREST = HERE / "models" / "forest.joblib"
ALARMS = "ml-team@example.com"  # subscribed to each endpoint's alarm topic


def train_forest(path: Path = FOREST) -> Path:
    """Train the second model (20 shallow trees on iris) unless it is already there."""
    if not path.exists():
        features, target = load_iris(return_X_y=True)
        model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(features, target)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
    return path


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app: one stack, one shared API, two endpoints on it."""
    app = cdk.App(context=dict(context or {}))
    stack = cdk.Stack(app, "SharedApi")
    api = SharedHttpApi(stack, "Models", auth="iam")
    SklearnLambdaEndpoint(
        stack, "Iris", model_path=IRIS, model_name="iris", shared_api=api, alarm_email=ALARMS
    )
    SklearnLambdaEndpoint(
        stack, "Forest", model_path=train_forest(), model_name="forest", shared_api=api, alarm_email=ALARMS
    )
    return app


if __name__ == "__main__":
    build_app().synth()
