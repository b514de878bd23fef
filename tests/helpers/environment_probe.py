"""A model that answers with what its process sees: for checking the environment ``serve`` runs it in."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

VARIABLES = ("OMP_NUM_THREADS", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "OPENBLAS_NUM_THREADS")


class EnvironmentProbe(BaseEstimator):  # type: ignore[misc]
    """Predicts, for each row, the process's :data:`VARIABLES` and the threads OpenMP would use."""

    def fit(self, features: Any, target: Any = None) -> EnvironmentProbe:
        self.n_features_in_ = np.asarray(features).shape[1]
        return self

    def predict(self, features: Any) -> list[str]:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        seen = [f"{name}={os.environ.get(name)}" for name in VARIABLES]
        seen.append(f"openmp={_openmp_effective_n_threads()}")
        return [" ".join(seen)] * len(features)
