"""The models of the deploy proof: each trained here, saved as its library documents, with requests.

Every case returns a :class:`Trained`: the saved model, the endpoint props it needs, and requests with
the answers the model gives on this machine, which the deployed function must reproduce.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tests.helpers.apigw_events import JSON_HEADERS, http_api_event


@dataclass(frozen=True)
class Request:
    """One ``POST /predict`` event and the answer the model gives on the host."""

    label: str
    body: dict[str, Any]
    expected: np.ndarray
    method: str = "predict"
    query: dict[str, str] | None = None
    classes: list[Any] | None = None

    def event(self) -> dict[str, Any]:
        return http_api_event(
            "POST", "/predict", json.dumps(self.body), headers=JSON_HEADERS, query=self.query
        )


@dataclass(frozen=True)
class Trained:
    """A saved model, the endpoint props it needs, and requests with the host's answers."""

    model_path: Path
    requests: list[Request]
    props: dict[str, Any] = field(default_factory=dict)

    @property
    def onnx(self) -> bool:
        """Served by the ONNX engine (converted and verified at synth)."""
        return self.props.get("engine") == "onnx"


def _array_requests(model: Any, rows: np.ndarray) -> list[Request]:
    # predict by default, predict_proba named in the body and in the query string.
    instances = rows.tolist()
    classes = np.asarray(model.classes_).tolist()
    return [
        Request("predict", {"instances": instances}, model.predict(rows)),
        Request(
            "predict_proba in the body",
            {"instances": instances, "method": "predict_proba"},
            model.predict_proba(rows),
            method="predict_proba",
            classes=classes,
        ),
        Request(
            "predict_proba in the query",
            {"instances": instances},
            model.predict_proba(rows),
            method="predict_proba",
            query={"method": "predict_proba"},
            classes=classes,
        ),
    ]


def _iris() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    features, target = load_iris(return_X_y=True)
    return features, target, features[::19]


def random_forest(folder: Path) -> Trained:
    """Case 1: a plain array model, joblib.dump."""
    features, target, rows = _iris()
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(features, target)
    path = folder / "random_forest.joblib"
    joblib.dump(model, path)
    return Trained(path, _array_requests(model, rows))


NUMERIC = ["age", "income"]
CATEGORICAL = ["city", "plan"]


def dataframe_pipeline(folder: Path) -> Trained:
    """Case 2: ColumnTransformer(StandardScaler, OneHotEncoder) + HistGradientBoosting on a DataFrame."""
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n).round(1),
            "income": rng.normal(50_000, 15_000, n).round(0),
            "city": rng.choice(["paris", "lima", "oslo"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro") | (frame["city"] == "oslo")).astype(int)
    model = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), NUMERIC),
                        ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                    ]
                ),
            ),
            ("classifier", HistGradientBoostingClassifier(max_iter=20, random_state=0)),
        ]
    ).fit(frame, target)
    path = folder / "dataframe_pipeline.joblib"
    joblib.dump(model, path)
    records = [
        {"age": 30.0, "income": 42_000.0, "city": "paris", "plan": "pro"},
        {"age": 61.5, "income": 75_500.0, "city": "oslo", "plan": "basic"},
        {"age": 47.0, "income": 51_000.0, "city": "tokyo", "plan": "basic"},  # unseen: ignored
        {"age": 22.0, "income": 18_000.0, "city": "lima", "plan": "basic"},
    ]
    rows = pd.DataFrame(records, columns=[*NUMERIC, *CATEGORICAL])
    # Named columns in another order than training: the endpoint must match them by name.
    split_columns = ["plan", "income", "city", "age"]
    split = {"columns": split_columns, "data": [[r[c] for c in split_columns] for r in records]}
    classes = model.classes_.tolist()
    return Trained(
        path,
        [
            Request("records", {"dataframe_records": records}, model.predict(rows)),
            Request("instances as records", {"instances": records}, model.predict(rows)),
            Request(
                "split, predict_proba in the body",
                {"dataframe_split": split, "method": "predict_proba"},
                model.predict_proba(rows),
                method="predict_proba",
                classes=classes,
            ),
            Request(
                "records, predict_proba in the query",
                {"dataframe_records": records},
                model.predict_proba(rows),
                method="predict_proba",
                query={"method": "predict_proba"},
                classes=classes,
            ),
        ],
    )


def xgboost_classifier(folder: Path) -> Trained:
    """Case 3: xgboost.XGBClassifier pickled with joblib, as XGBoost documents for its scikit-learn API."""
    import xgboost

    features, target, rows = _iris()
    model = xgboost.XGBClassifier(n_estimators=8, max_depth=3, n_jobs=1, random_state=0).fit(features, target)
    path = folder / "xgboost.joblib"
    joblib.dump(model, path)
    return Trained(path, _array_requests(model, rows))


def lightgbm_classifier(folder: Path) -> Trained:
    """Case 4: lightgbm.LGBMClassifier pickled with joblib (LightGBM's documented way for the sklearn API)."""
    import lightgbm

    features, target, rows = _iris()
    model = lightgbm.LGBMClassifier(
        n_estimators=8, num_leaves=7, min_child_samples=5, n_jobs=1, random_state=0, verbose=-1
    ).fit(features, target)
    path = folder / "lightgbm.joblib"
    joblib.dump(model, path)
    return Trained(path, _array_requests(model, rows))


def skops_pipeline(folder: Path) -> Trained:
    """Case 5: a HistGradientBoosting pipeline saved with skops.io.dump, its types trusted by name."""
    import skops.io as sio

    features, target, rows = _iris()
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("classifier", HistGradientBoostingClassifier(max_iter=10, random_state=0)),
        ]
    ).fit(features, target)
    path = folder / "hist_gradient_boosting.skops"
    sio.dump(model, path)
    # skops' own list of what its defaults do not trust; the user reviews it and passes it on.
    trusted = sio.get_untrusted_types(file=path)
    return Trained(path, _array_requests(model, rows), {"skops_trusted_types": trusted})


USER_MODULE = "deploy_proof_features"
USER_CODE = '''"""A transformer of the user's own, shipped with the function code (code_paths)."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class SignedLog(TransformerMixin, BaseEstimator):
    """sign(x) * log(1 + |x|), column by column."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return np.sign(X) * np.log1p(np.abs(X))
'''


def custom_transformer(folder: Path) -> Trained:
    """Case 6: a pipeline with a transformer class from the user's module, shipped via ``code_paths``."""
    package = folder / "user_code" / USER_MODULE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(USER_CODE)
    sys.path.insert(0, str(package.parent))
    try:
        import importlib

        signed_log = importlib.import_module(USER_MODULE).SignedLog
        features, target, rows = _iris()
        model = Pipeline([("log", signed_log()), ("classifier", LogisticRegression(max_iter=500))]).fit(
            features, target
        )
        path = folder / "custom_transformer.joblib"
        joblib.dump(model, path)
        requests = _array_requests(model, rows)
    finally:
        sys.path.remove(str(package.parent))
    return Trained(path, requests, {"code_paths": [str(package)]})


def _as_onnx(trained: Trained, sample: Any) -> Trained:
    """The same model served by the ONNX engine, its conversion verified at synth on ``sample``."""
    folder = trained.model_path.parent
    if isinstance(sample, pd.DataFrame):
        path = folder / "sample.csv"
        sample.to_csv(path, index=False)
    else:
        path = folder / "sample.npy"
        np.save(path, np.asarray(sample, dtype=np.float64))
    return Trained(trained.model_path, trained.requests, {"engine": "onnx", "sample_input": str(path)})


def onnx_random_forest(folder: Path) -> Trained:
    """ONNX case 1: the random forest of case 1, converted and verified at synth."""
    features, _, _ = _iris()
    return _as_onnx(random_forest(folder), features)


def onnx_mlp(folder: Path) -> Trained:
    """ONNX case 2: a scaled MLP (float64 arithmetic in the graph, as in scikit-learn)."""
    from sklearn.neural_network import MLPClassifier

    features, target, rows = _iris()
    model = Pipeline(
        [("scale", StandardScaler()), ("mlp", MLPClassifier((16, 16), max_iter=2000, random_state=0))]
    ).fit(features, target)
    path = folder / "mlp.joblib"
    joblib.dump(model, path)
    return _as_onnx(Trained(path, _array_requests(model, rows)), features)


def onnx_dataframe_pipeline(folder: Path) -> Trained:
    """ONNX case 3: the DataFrame pipeline of case 2 (string categories, an unseen one ignored)."""
    trained = dataframe_pipeline(folder)
    rng = np.random.default_rng(1)
    n = 120
    sample = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n).round(1),
            "income": rng.normal(50_000, 15_000, n).round(0),
            "city": rng.choice(["paris", "lima", "oslo"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    return _as_onnx(trained, sample)


def onnx_xgboost(folder: Path) -> Trained:
    """ONNX case 4: the XGBClassifier of case 3 (onnxmltools' converter)."""
    features, _, _ = _iris()
    return _as_onnx(xgboost_classifier(folder), features)


FRAME_RECORDS = [
    {"age": 30.0, "income": 42_000.0, "city": "paris", "plan": "pro"},
    {"age": 61.5, "income": None, "city": "oslo", "plan": "basic"},  # missing: the imputer fills it
    {"age": 47.0, "income": 51_000.0, "city": "tokyo", "plan": "basic"},  # unseen: ignored
    {"age": 22.0, "income": 18_000.0, "city": "lima", "plan": "basic"},
]


def _imputed_frame() -> tuple[pd.DataFrame, pd.DataFrame, ColumnTransformer]:
    """Training rows with missing incomes, the request rows, and imputer + scaler + one-hot columns."""
    from sklearn.impute import SimpleImputer

    rng = np.random.default_rng(2)
    n = 240
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n).round(1),
            "income": rng.normal(50_000, 15_000, n).round(0),
            "city": rng.choice(["paris", "lima", "oslo"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    frame.loc[rng.random(n) < 0.15, "income"] = np.nan
    columns = ColumnTransformer(
        [
            ("numbers", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), NUMERIC),
            ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    rows = pd.DataFrame(FRAME_RECORDS, columns=[*NUMERIC, *CATEGORICAL]).astype({"income": float})
    return frame, rows, columns


def _onnx_frame(folder: Path, name: str, model: Any, frame: pd.DataFrame, rows: pd.DataFrame) -> Trained:
    path = folder / f"{name}.joblib"
    joblib.dump(model, path)
    requests = [Request("records", {"dataframe_records": FRAME_RECORDS}, model.predict(rows))]
    if hasattr(model, "predict_proba"):
        requests.append(
            Request(
                "records, predict_proba in the body",
                {"dataframe_records": FRAME_RECORDS, "method": "predict_proba"},
                model.predict_proba(rows),
                method="predict_proba",
                classes=model.classes_.tolist(),
            )
        )
    return _as_onnx(Trained(path, requests), frame.iloc[:120])


def onnx_dataframe_imputer(folder: Path) -> Trained:
    """ONNX case 5: a DataFrame pipeline with a SimpleImputer (IsNaN + Where in double) and a Ridge."""
    from sklearn.linear_model import Ridge

    frame, rows, columns = _imputed_frame()
    price = 25 + 3 * frame["age"] + 40 * (frame["plan"] == "pro")
    model = Pipeline([("columns", columns), ("regressor", Ridge())]).fit(frame, price)
    return _onnx_frame(folder, "dataframe_imputer", model, frame, rows)


def onnx_dataframe_logistic(folder: Path) -> Trained:
    """ONNX case 6: a DataFrame pipeline ending in a LogisticRegression (float64 probabilities)."""
    frame, rows, columns = _imputed_frame()
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int)
    model = Pipeline([("columns", columns), ("classifier", LogisticRegression(max_iter=500))])
    return _onnx_frame(folder, "dataframe_logistic", model.fit(frame, target), frame, rows)


def onnx_dataframe_svc(folder: Path) -> Trained:
    """ONNX case 7: a DataFrame pipeline ending in an SVC with probabilities."""
    from sklearn.svm import SVC

    frame, rows, columns = _imputed_frame()
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int)
    model = Pipeline([("columns", columns), ("classifier", SVC(probability=True, random_state=0))])
    return _onnx_frame(folder, "dataframe_svc", model.fit(frame, target), frame, rows)


CASES: dict[str, Callable[[Path], Trained]] = {
    "random_forest": random_forest,
    "dataframe_pipeline": dataframe_pipeline,
    "xgboost": xgboost_classifier,
    "lightgbm": lightgbm_classifier,
    "skops": skops_pipeline,
    "custom_transformer": custom_transformer,
    "onnx_random_forest": onnx_random_forest,
    "onnx_mlp": onnx_mlp,
    "onnx_dataframe_pipeline": onnx_dataframe_pipeline,
    "onnx_xgboost": onnx_xgboost,
    "onnx_dataframe_imputer": onnx_dataframe_imputer,
    "onnx_dataframe_logistic": onnx_dataframe_logistic,
    "onnx_dataframe_svc": onnx_dataframe_svc,
}


def big_forest(folder: Path) -> Trained:
    """A random forest saved as a ~110 MB joblib file (100 classes: every node holds 100 counts)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2000, 8))
    target = rng.integers(0, 100, 2000)
    model = RandomForestClassifier(n_estimators=55, random_state=0, n_jobs=1).fit(features, target)
    path = folder / "big_forest.joblib"
    joblib.dump(model, path)
    rows = features[:3]
    return Trained(path, [Request("predict", {"instances": rows.tolist()}, model.predict(rows))])
