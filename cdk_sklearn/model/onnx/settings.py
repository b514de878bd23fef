"""The numbers and versions that decide a conversion's bytes and its verification.

Imports nothing heavy: the engine reads :data:`CONVERTER_DISTRIBUTIONS` for its cache key on every synth.
"""

from __future__ import annotations

from importlib import metadata
from typing import Final

DEFAULT_TOLERANCE: Final = 1e-5
"""Largest absolute difference allowed between scikit-learn's and the graph's probabilities or
regression outputs. Tree probabilities come out of onnxruntime as float32 (the ``ai.onnx.ml`` tree
operators only produce float), which alone costs up to about 6e-8 on a value in [0, 1]."""
DEFAULT_RTOL: Final = 1e-5
"""Relative tolerance of regression outputs: a difference is allowed up to ``rtol`` times the output's
scale (the largest magnitude scikit-learn predicts on the sample, or on the row when larger), and never
less than the absolute tolerance. Tree regressors come out of float32 operators: on a target of 25-350
that alone is about 1.5e-5, which an absolute 1e-5 would refuse."""
REPORT_SCHEMA_VERSION: Final = 1
TARGET_OPSET: Final[dict[str, int]] = {"": 17, "ai.onnx.ml": 3}
"""Pinned so the same model and converter versions give the same bytes; ``ai.onnx.ml`` 3 is the first
opset whose tree operators hold double thresholds. onnxruntime has run both since 1.13."""
UNSEEN_CATEGORY: Final = "__cdk_sklearn_unseen_category__"
EDGE_FACTOR: Final = 10.0
CONVERTER_DISTRIBUTIONS: Final[tuple[str, ...]] = (
    "scikit-learn",
    "skl2onnx",
    "onnxmltools",
    "onnx",
    "onnxruntime",
    "numpy",
    "xgboost",
    "lightgbm",
)
"""Whose versions the report records: the same model through the same versions gives the same bytes."""
MAX_LISTED_ROWS: Final = 5
"""How many disagreeing rows a refusal names."""


def installed_versions() -> dict[str, str]:
    """Installed versions of :data:`CONVERTER_DISTRIBUTIONS`, absent ones omitted."""
    found: dict[str, str] = {}
    for name in CONVERTER_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
