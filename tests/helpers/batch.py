"""Batch-scoring test data: loaded models and CSV/JSONL inputs built here (no downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_runtime.batch import Job
from lambda_runtime.config import Settings
from lambda_runtime.model import LoadedModel
from lambda_runtime.store import load_model
from tests.helpers import models

IRIS_HEADER = "id,sepal_length,sepal_width,petal_length,petal_width"


def loaded(estimator: Any, folder: Path, name: str = "model") -> LoadedModel:
    """``estimator`` saved with joblib under ``folder`` and loaded the way the function loads it."""
    path = folder / f"{name}.joblib"
    digest = models.save(estimator, path)
    return load_model(Settings.from_environ({"MODEL_URI": str(path), "MODEL_SHA256": digest}))


def iris_csv(n: int | None = None) -> str:
    """Iris as CSV with a header and an ``id`` column ``r<row>``: 150 rows (or the first ``n``)."""
    features, _ = models.iris()
    rows = [f"r{i}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(features[:n])]
    return "\n".join([IRIS_HEADER, *rows]) + "\n"


def job(**overrides: Any) -> Job:
    """A job reading bucket ``in`` under ``data/`` and writing bucket ``out`` under ``scored/``."""
    settings: dict[str, Any] = {
        "bucket": "in",
        "input_prefix": "data/",
        "output_bucket": "out",
        "output_prefix": "scored/",
    }
    settings.update(overrides)
    return Job(**settings)
