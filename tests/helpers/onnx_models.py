"""Small scikit-learn models converted to ONNX here, with skl2onnx, as the synth side would.

The graphs have no ZipMap (plain ``label`` and ``probabilities`` tensors), and carry the ``cdk_sklearn``
metadata record (:data:`lambda_runtime.contract.ONNX_METADATA_KEY`) the runtime reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import skl2onnx
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.base import BaseEstimator, ClassifierMixin

from lambda_runtime.contract import ONNX_METADATA_KEY
from tests.helpers import models


def record_for(estimator: Any, **extra: Any) -> dict[str, Any]:
    """The metadata record the synth side writes (classes, class name, converter versions)."""
    cls = type(estimator)
    record: dict[str, Any] = {
        "schema": 1,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
        "converter": {"skl2onnx": skl2onnx.__version__, "onnx": onnx.__version__},
        "verification": {"rows": 150, "passed": True},
    }
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        record["classes"] = np.asarray(classes).tolist()
    record.update(extra)
    return record


def convert(
    estimator: Any,
    *,
    sample: Any = None,
    initial_types: list[Any] | None = None,
    options: dict[str, Any] | None = None,
    record: dict[str, Any] | None = None,
) -> bytes:
    """``estimator`` as ONNX bytes without ZipMap, with ``record`` (default :func:`record_for`)."""
    opts = {"zipmap": False, **(options or {})} if hasattr(estimator, "classes_") else options
    graph = to_onnx(
        estimator,
        sample,
        initial_types=initial_types,
        options={id(estimator): opts} if opts else None,
        target_opset={"": 18, "ai.onnx.ml": 3},
    )
    entry = graph.metadata_props.add()
    entry.key = ONNX_METADATA_KEY
    entry.value = json.dumps(record if record is not None else record_for(estimator))
    data: bytes = graph.SerializeToString()
    return data


def save(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def forest(n_estimators: int = 5, **kw: Any) -> tuple[Any, bytes]:
    """A random forest on iris, converted with a float32 matrix input."""
    from sklearn.ensemble import RandomForestClassifier

    features, target = models.iris()
    estimator = RandomForestClassifier(n_estimators=n_estimators, random_state=0, **kw).fit(features, target)
    return estimator, convert(estimator, sample=features[:1].astype(np.float32))


def logistic_double() -> tuple[Any, bytes]:
    """Logistic regression on iris, double input, its ONNX with predict_proba."""
    estimator = models.logistic()
    return estimator, convert(estimator, sample=models.iris()[0][:1])


def binary_raw_scores() -> tuple[Any, bytes]:
    """A binary logistic regression whose graph outputs raw scores (decision_function)."""
    from sklearn.linear_model import LogisticRegression

    features, target = models.iris()
    estimator = LogisticRegression(max_iter=300).fit(features, target == 0)
    record = record_for(estimator, outputs={"predict": "label", "decision_function": "probabilities"})
    return estimator, convert(estimator, sample=features[:1], options={"raw_scores": True}, record=record)


def regressor() -> tuple[Any, bytes]:
    estimator = models.regressor()
    return estimator, convert(estimator, sample=models.iris()[0][:1, 1:])


def column_transformer() -> tuple[Any, bytes]:
    """Strings + a number in named columns: one graph input per column."""
    estimator = models.column_transformer()
    types = [
        ("colour", StringTensorType([None, 1])),
        ("size", StringTensorType([None, 1])),
        ("weight", FloatTensorType([None, 1])),
    ]
    return estimator, convert(estimator, initial_types=types)


def mlp() -> tuple[Any, bytes]:
    estimator = models.mlp()
    return estimator, convert(estimator, initial_types=[("X", FloatTensorType([None, 4]))])


# -- models the converter or onnxruntime still cannot serve (issue 25 item 1: a refusal, never a crash) --


def unservable(kind: str, folder: Path) -> tuple[Path, Path]:
    """A model skl2onnx or onnxruntime cannot serve once converted, saved with sample rows.

    Returns ``(model, sample)``. ``kind`` is ``"polynomial_pipeline"`` (PolynomialFeatures' float
    ``Concat`` fed double), ``"adaboost"`` (a float/double ``Where``), ``"imputer_indicator"`` (a
    ``SimpleImputer(add_indicator=True)`` keeps the stock ``Imputer``, which has no double kernel) or
    ``"isolation_forest"`` (skl2onnx fails to convert it in double).
    """
    import joblib
    from sklearn.ensemble import AdaBoostClassifier, IsolationForest
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures
    from sklearn.svm import LinearSVR

    features, target = _matrix("multi", rows=200)
    if kind == "polynomial_pipeline":
        model: Any = make_pipeline(PolynomialFeatures(), LinearSVR()).fit(features, features[:, 0])
    elif kind == "adaboost":
        model = AdaBoostClassifier(n_estimators=5, random_state=0).fit(features, target)
    elif kind == "imputer_indicator":
        features = features.copy()
        features[::7, 1] = np.nan
        model = make_pipeline(SimpleImputer(add_indicator=True), LinearSVR()).fit(features, target)
    elif kind == "isolation_forest":
        model = IsolationForest(n_estimators=5, random_state=0).fit(features)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    sample = folder / f"{kind}.npy"
    np.save(sample, features[:30])
    path = folder / f"{kind}.joblib"
    joblib.dump(model, path)
    return path, sample


UNSERVABLE: dict[str, str] = {
    "polynomial_pipeline": "Concat",
    "adaboost": "Where",
    "imputer_indicator": "Imputer(1)",
    "isolation_forest": "Conflicted constraint",
}
"""Each unservable kind and the part of the one-line refusal that names the operator or the failure."""


# -- the coverage corpus (issue 25 item 2): one small model per kind people ship, trained here --------


def _matrix(task: str, rows: int = 240) -> tuple[Any, Any]:
    from sklearn.datasets import make_classification, make_regression

    if task == "regression":
        features, target = make_regression(rows, 5, n_informative=4, noise=5.0, random_state=0)
        return features, 25.0 + (target - target.min()) * 325.0 / np.ptp(target)  # a target of 25-350
    classes = 2 if task == "binary" else 3
    return make_classification(rows, 5, n_informative=4, n_redundant=0, n_classes=classes, random_state=0)


def _mixed_frame(rows: int = 240, missing: bool = False) -> Any:
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "income": rng.lognormal(10, 1, rows).round(2),
            "city": rng.choice(["paris", "lyon", "nice"], rows),
            "plan": rng.choice(["free", "pro"], rows),
        }
    )
    if missing:
        frame.loc[rng.random(rows) < 0.1, "income"] = np.nan
    return frame


def _frame_target(frame: Any, task: str) -> Any:
    score = (frame.age - 40) / 10 + (frame.city == "lyon") - (frame.plan == "pro") * 0.5
    if task == "regression":
        return 25.0 + 325.0 * (score - score.min()) / np.ptp(score)
    if task == "binary":
        return (score > 0).astype(int)
    return np.digitize(score, [-0.5, 0.5])


def _frame_pipeline(numbers: Any, final: Any, *, ordinal: bool = False) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    encoder = (
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        if ordinal
        else OneHotEncoder(handle_unknown="ignore")
    )
    return make_pipeline(
        ColumnTransformer([("cat", encoder, ["city", "plan"]), ("num", numbers, ["age", "income"])]), final
    )


def _estimator(kind: str) -> tuple[Any, str]:
    import lightgbm
    import xgboost
    from sklearn import ensemble, linear_model, naive_bayes, neighbors, neural_network, svm, tree
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    table: dict[str, tuple[Any, str]] = {
        "logistic_binary": (linear_model.LogisticRegression(), "binary"),
        "logistic_multiclass": (make_pipeline(StandardScaler(), linear_model.LogisticRegression()), "multi"),
        "linear_svc": (svm.LinearSVC(), "multi"),
        "ridge_classifier": (linear_model.RidgeClassifier(), "binary"),
        "svc_probability": (svm.SVC(probability=True, random_state=0), "multi"),
        "svc_scores": (svm.SVC(), "binary"),
        "kneighbors_classifier": (neighbors.KNeighborsClassifier(), "multi"),
        "gaussian_nb": (naive_bayes.GaussianNB(), "multi"),
        "decision_tree_classifier": (tree.DecisionTreeClassifier(max_depth=6, random_state=0), "multi"),
        "random_forest_classifier": (ensemble.RandomForestClassifier(20, random_state=0), "multi"),
        "extra_trees_classifier": (ensemble.ExtraTreesClassifier(20, random_state=0), "binary"),
        "gradient_boosting_classifier": (ensemble.GradientBoostingClassifier(n_estimators=20), "multi"),
        "hist_gradient_boosting_classifier": (ensemble.HistGradientBoostingClassifier(max_iter=20), "binary"),
        "mlp_classifier": (neural_network.MLPClassifier((16,), max_iter=300, random_state=0), "multi"),
        "xgboost_classifier": (xgboost.XGBClassifier(n_estimators=20, max_depth=3), "multi"),
        "lightgbm_classifier": (lightgbm.LGBMClassifier(n_estimators=20, verbose=-1), "binary"),
        "linear_regression": (linear_model.LinearRegression(), "regression"),
        "ridge": (linear_model.Ridge(), "regression"),
        "lasso": (linear_model.Lasso(), "regression"),
        "svr": (make_pipeline(StandardScaler(), svm.SVR(C=100.0)), "regression"),
        "kneighbors_regressor": (neighbors.KNeighborsRegressor(), "regression"),
        "decision_tree_regressor": (tree.DecisionTreeRegressor(max_depth=6, random_state=0), "regression"),
        "random_forest_regressor": (ensemble.RandomForestRegressor(20, random_state=0), "regression"),
        "gradient_boosting_regressor": (ensemble.GradientBoostingRegressor(n_estimators=20), "regression"),
        "hist_gradient_boosting_regressor": (
            ensemble.HistGradientBoostingRegressor(max_iter=20),
            "regression",
        ),
        "mlp_regressor": (
            make_pipeline(
                StandardScaler(),
                neural_network.MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0),
            ),
            "regression",
        ),
        "xgboost_regressor": (xgboost.XGBRegressor(n_estimators=20, max_depth=3), "regression"),
        "lightgbm_regressor": (lightgbm.LGBMRegressor(n_estimators=20, verbose=-1), "regression"),
    }
    if kind in table:
        return table[kind]
    imputed = make_pipeline(SimpleImputer(), StandardScaler())
    frames: dict[str, tuple[Any, str]] = {
        "frame_logistic": (_frame_pipeline(StandardScaler(), linear_model.LogisticRegression()), "binary"),
        "frame_imputer_logistic": (_frame_pipeline(imputed, linear_model.LogisticRegression()), "multi"),
        "frame_svc": (_frame_pipeline(StandardScaler(), svm.SVC(probability=True, random_state=0)), "binary"),
        "frame_imputer_ridge": (_frame_pipeline(SimpleImputer(), linear_model.Ridge()), "regression"),
        "frame_minmax_mlp": (
            _frame_pipeline(MinMaxScaler(), neural_network.MLPClassifier((8,), max_iter=300, random_state=0)),
            "binary",
        ),
        "frame_ordinal_forest": (
            _frame_pipeline("passthrough", ensemble.RandomForestClassifier(20, random_state=0), ordinal=True),
            "multi",
        ),
        "frame_ordinal_hist_gradient_boosting_regressor": (
            _frame_pipeline("passthrough", ensemble.HistGradientBoostingRegressor(max_iter=20), ordinal=True),
            "regression",
        ),
        "frame_lightgbm": (
            _frame_pipeline(
                SimpleImputer(), lightgbm.LGBMClassifier(n_estimators=20, verbose=-1), ordinal=True
            ),
            "binary",
        ),
        "frame_xgboost_regressor": (
            _frame_pipeline("passthrough", xgboost.XGBRegressor(n_estimators=20, max_depth=3), ordinal=True),
            "regression",
        ),
    }
    return frames[kind]


CORPUS: tuple[str, ...] = (
    "logistic_binary",
    "logistic_multiclass",
    "linear_svc",
    "ridge_classifier",
    "svc_probability",
    "svc_scores",
    "kneighbors_classifier",
    "gaussian_nb",
    "decision_tree_classifier",
    "random_forest_classifier",
    "extra_trees_classifier",
    "gradient_boosting_classifier",
    "hist_gradient_boosting_classifier",
    "mlp_classifier",
    "xgboost_classifier",
    "lightgbm_classifier",
    "linear_regression",
    "ridge",
    "lasso",
    "svr",
    "kneighbors_regressor",
    "decision_tree_regressor",
    "random_forest_regressor",
    "gradient_boosting_regressor",
    "hist_gradient_boosting_regressor",
    "mlp_regressor",
    "xgboost_regressor",
    "lightgbm_regressor",
    "frame_logistic",
    "frame_imputer_logistic",
    "frame_svc",
    "frame_imputer_ridge",
    "frame_minmax_mlp",
    "frame_ordinal_forest",
    "frame_ordinal_hist_gradient_boosting_regressor",
    "frame_lightgbm",
    "frame_xgboost_regressor",
)
"""The model kinds of the coverage table, arrays first, then DataFrame pipelines."""


def corpus_model(kind: str, folder: Path) -> tuple[Path, Path]:
    """Train the corpus model ``kind`` on small generated data; save it and 60 sample rows.

    Returns ``(model file, sample file)``: a ``.npy`` matrix, or a CSV for a DataFrame pipeline (with
    missing incomes for the imputing ones).
    """
    import joblib

    estimator, task = _estimator(kind)
    if kind.startswith("frame_"):
        frame = _mixed_frame(missing="imputer" in kind or "lightgbm" in kind)
        estimator.fit(frame, _frame_target(frame, task))
        sample = folder / f"{kind}.csv"
        frame.iloc[-60:].to_csv(sample, index=False)
    else:
        features, target = _matrix(task)
        estimator.fit(features, target)
        sample = folder / f"{kind}.npy"
        np.save(sample, features[-60:])
    path = folder / f"{kind}.joblib"
    joblib.dump(estimator, path)
    return path, sample


class Custom(ClassifierMixin, BaseEstimator):
    """No converter exists for this estimator."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])
