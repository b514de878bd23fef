"""A transformer of our own that the model needs: shipped to Lambda with ``code_paths``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class PetalRatios(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Append the petal and sepal length-to-width ratios to the four iris measurements."""

    def fit(self, features: Any, target: Any = None) -> PetalRatios:
        """Nothing to learn."""
        return self

    def transform(self, features: Any) -> Any:
        """Return the measurements with their two ratios as extra columns."""
        rows = np.asarray(features, dtype=float)
        sepal = rows[:, [0]] / np.maximum(rows[:, [1]], 1e-6)
        petal = rows[:, [2]] / np.maximum(rows[:, [3]], 1e-6)
        return np.hstack([rows, sepal, petal])
