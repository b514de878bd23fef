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


# -- models the converter or onnxruntime cannot serve today (issue 25 item 1: a refusal, never a crash) --


def _frame(rows: int = 120) -> tuple[Any, Any]:
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows),
            "income": rng.lognormal(10, 1, rows),
            "city": rng.choice(["a", "b", "c"], rows),
        }
    )
    return frame, ((frame.age > 40) ^ (frame.city == "b")).astype(int)


def _encoded(numbers: Any) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    return ColumnTransformer(
        [("city", OneHotEncoder(handle_unknown="ignore"), ["city"]), ("numbers", numbers, ["age", "income"])]
    )


def unservable(kind: str, folder: Path) -> tuple[Path, Path]:
    """A model onnxruntime cannot run once converted, saved with sample rows: ``(model, sample)``.

    ``kind`` is ``"logistic_frame"`` (a float-typed NormalizerNorm output where double is declared),
    ``"imputer_frame"`` (no ``Imputer`` kernel for double), ``"svr"`` (no double ``SVMRegressor``) or
    ``"svc_frame"`` (a float-typed Cast before the probabilities).
    """
    import joblib
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    frame, target = _frame()
    sample = folder / f"{kind}.csv"
    frame.iloc[:30].to_csv(sample, index=False)
    if kind == "logistic_frame":
        model: Any = make_pipeline(_encoded(StandardScaler()), LogisticRegression()).fit(frame, target)
    elif kind == "imputer_frame":
        model = make_pipeline(_encoded(SimpleImputer()), Ridge()).fit(frame, frame.age)
    elif kind == "svc_frame":
        model = make_pipeline(_encoded(StandardScaler()), SVC(probability=True, random_state=0))
        model.fit(frame, target)
    elif kind == "svr":
        numbers = frame[["age", "income"]].to_numpy()
        model = SVR().fit(numbers, numbers[:, 0])
        sample = folder / "svr.npy"
        np.save(sample, numbers[:30])
    else:
        raise ValueError(f"unknown kind {kind!r}")
    path = folder / f"{kind}.joblib"
    joblib.dump(model, path)
    return path, sample


UNSERVABLE: dict[str, str] = {
    "logistic_frame": "NormalizerNorm",
    "imputer_frame": "Imputer(1)",
    "svr": "SVMRegressor(1)",
    "svc_frame": "output arg (probabilities)",
}
"""Each unservable kind and the part of onnxruntime's message a refusal keeps (the operator or node)."""
