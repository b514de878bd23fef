"""Small, fast models for tests, trained on data generated here (no downloads)."""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lambda_runtime.app import App, create_app

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
CT_COLUMNS = ("colour", "size", "weight")


def iris() -> tuple[np.ndarray, np.ndarray]:
    features, target = load_iris(return_X_y=True)
    return features, target


def logistic() -> Any:
    return LogisticRegression(max_iter=300).fit(*iris())


def random_forest() -> Any:
    return RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(*iris())


def scaled_pipeline() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(*iris())


def mlp() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(*iris())


def regressor() -> Any:
    features, _ = iris()
    return Ridge().fit(features[:, 1:], features[:, 0])  # 3 features -> sepal length


def nan_tolerant() -> Any:
    features, target = iris()
    return HistGradientBoostingClassifier(max_iter=10).fit(features, target)


def ct_frame(n: int = 60) -> tuple[Any, np.ndarray]:
    import pandas as pd

    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green", "blue"], size=n)
    sizes = rng.choice(["S", "M", "L"], size=n)
    weight = rng.normal(10, 2, size=n)
    frame = pd.DataFrame({"colour": colours, "size": sizes, "weight": weight})
    target = np.where(colours == "red", "hot", "cold")
    return frame, target


def column_transformer() -> Any:
    """OneHotEncoder on named string columns + scaled numbers, then LogisticRegression; string classes."""
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="error"), ["colour", "size"]),
            ("num", StandardScaler(), ["weight"]),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=300)).fit(*ct_frame())


def frame_pipeline() -> Any:
    """The usual tabular model: named string categories and numbers in a DataFrame, gradient boosting.

    Its pickle never references pandas (``feature_names_in_`` is a numpy object array), yet the
    runtime calls it with a DataFrame.
    """
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["weight"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour", "size"]),
        ]
    )
    return make_pipeline(pre, HistGradientBoostingClassifier(max_iter=10, random_state=0)).fit(*ct_frame())


def xgb_classifier() -> Any:
    import xgboost

    return xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(*iris())


def lgbm_classifier() -> Any:
    import lightgbm

    return lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=5, verbose=-1).fit(*iris())


TRAINERS: dict[str, Callable[[], Any]] = {
    "logistic": logistic,
    "random_forest": random_forest,
    "scaled_pipeline": scaled_pipeline,
    "mlp": mlp,
    "regressor": regressor,
    "nan_tolerant": nan_tolerant,
    "column_transformer": column_transformer,
}


def dump_bytes(model: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save(model: Any, path: Path) -> str:
    """Write ``model`` with joblib to ``path``; return its SHA-256."""
    data = dump_bytes(model)
    path.write_bytes(data)
    return sha256(data)


def app_for(path: Path, **env: str) -> tuple[App, io.StringIO]:
    """An App serving the model file at ``path`` (digest computed here), and its captured log stream."""
    environ = {"MODEL_URI": str(path), "MODEL_SHA256": sha256(path.read_bytes()), **env}
    stream = io.StringIO()
    return create_app(environ, stream=stream), stream


def shift(features: np.ndarray) -> np.ndarray:
    """A custom function inside a pipeline: a type skops does not trust by default."""
    return features + 1.0


def custom_function_pipeline() -> Any:
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(shift), LogisticRegression(max_iter=300)).fit(*iris())


def string_classes(labels: tuple[str, str, str]) -> Any:
    """LogisticRegression on iris whose classes are ``labels`` (strings) instead of 0, 1, 2."""
    features, target = iris()
    return LogisticRegression(max_iter=300).fit(features, np.array(labels)[target])


def named_columns() -> Any:
    """StandardScaler+LogisticRegression fitted on a DataFrame of iris (numeric named columns)."""
    import pandas as pd

    features, target = iris()
    frame = pd.DataFrame(features, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(frame, target)


def import_module_then_pass(features: np.ndarray, module: str = "json") -> np.ndarray:
    """Imports ``module`` on every call, as code that imports lazily inside predict does."""
    import importlib

    importlib.import_module(module)
    return features


def load_library_then_pass(features: np.ndarray, library: str = "libc.so.6") -> np.ndarray:
    """Loads the shared library ``library`` on every call, as a wrapper around native code does."""
    import ctypes

    ctypes.CDLL(library)
    return features


def needing_at_predict(function: Callable[..., Any], **kw_args: str) -> Any:
    """A pipeline fitted with ``function``'s defaults, then told to pass ``kw_args`` when predicting.

    Fitting works; only the saved model's predictions need what ``kw_args`` names (a module or shared
    library absent from the machine), like a model trained where a dependency was installed.
    """
    from sklearn.preprocessing import FunctionTransformer

    pipeline = make_pipeline(FunctionTransformer(function), LogisticRegression(max_iter=300)).fit(*iris())
    pipeline[0].set_params(kw_args=kw_args)
    return pipeline


def through_pandas(features: np.ndarray) -> np.ndarray:
    """Round-trips the rows through a pandas DataFrame: predictions need pandas though inputs do not."""
    import pandas as pd

    return pd.DataFrame(features).to_numpy()
