"""The models a proof run serves, and scikit-learn's own answers to compare the endpoints with.

``iris``
    The demo model, ``models/iris.joblib`` (``examples/train_iris.py``): rows as arrays.
``frame``
    A pipeline fitted on a pandas DataFrame with named columns (numeric and one categorical): the
    endpoint gets DataFrame rows and its layer carries pandas.
``rollback``
    The iris pipeline with another regularization and the run id recorded on it, so its bytes (and the
    function's version, and CDK's content-addressed asset key) are the run's own; the rollback step
    overwrites its S3 object before traffic shifts, so its predictions never matter.

scikit-learn, pandas and joblib are imported inside the functions: the CLI imports this module for
``--dry-run`` too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

IRIS_ROWS: Final[tuple[tuple[float, ...], ...]] = (
    (5.1, 3.5, 1.4, 0.2),
    (6.7, 3.0, 5.2, 2.3),
    (5.9, 3.0, 4.2, 1.5),
)
"""Rows the proof sends to the iris endpoints (one of each class)."""
FRAME_COLUMNS: Final = ("sepal_length", "sepal_width", "petal_length", "petal_width", "site")
FRAME_SITES: Final = ("north", "south")
FRAME_ROWS: Final[tuple[Mapping[str, Any], ...]] = tuple(
    {**dict(zip(FRAME_COLUMNS[:4], row, strict=True)), "site": FRAME_SITES[i % 2]}
    for i, row in enumerate(IRIS_ROWS)
)
"""Records the proof sends to the DataFrame endpoints."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of ``path``'s bytes (what ``/metadata`` and ``/health`` report)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iris_frame() -> Any:
    import pandas as pd
    from sklearn.datasets import load_iris

    features, target = load_iris(return_X_y=True)
    frame = pd.DataFrame(features, columns=list(FRAME_COLUMNS[:4]))
    frame["site"] = [FRAME_SITES[i % 2] for i in range(len(frame))]
    return frame, target


def train_frame(output: Path) -> Path:
    """Fit the DataFrame pipeline (scaled numbers + one-hot site, logistic regression) to ``output``."""
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame, target = _iris_frame()
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), list(FRAME_COLUMNS[:4])),
            ("site", OneHotEncoder(handle_unknown="ignore"), ["site"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=500))
    model.fit(frame, target)
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    return output


def train_rollback(output: Path, run_id: str) -> Path:
    """Fit an iris pipeline whose bytes are this run's own (C=0.5, ``aws_proof_run``) to ``output``.

    A deterministic file would give every run the same asset key in the CDK assets bucket, where an
    overwritten object left by an interrupted run would be taken as already uploaded.
    """
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
    model.fit(features, target)
    model.aws_proof_run = run_id
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    return output


def local_predictions(path: Path, rows: Sequence[Sequence[float]] | Sequence[Mapping[str, Any]]) -> list[Any]:
    """scikit-learn's ``predict`` on ``rows``, computed here: records become a DataFrame.

    Returns
    -------
    list
        Plain Python values (``tolist()``), comparable with the endpoint's JSON.
    """
    import joblib

    model = joblib.load(path)
    if rows and isinstance(rows[0], Mapping):
        import pandas as pd

        data: Any = pd.DataFrame(list(rows))
    else:
        import numpy as np

        data = np.asarray(rows, dtype=float)
    result: list[Any] = model.predict(data).tolist()
    return result
