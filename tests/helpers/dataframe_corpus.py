"""A corpus of DataFrame and array models for the scikit-learn engine's input errors.

Each entry trains a small model on a churn-like table (a string ``plan`` column, numeric
``tenure_months`` and ``monthly_charges``) and says what each column takes, written out by hand here
(never read back from the engine), so the tests can build cells each column must refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

PLANS = ("basic", "pro", "team")
NUMERIC = ("tenure_months", "monthly_charges")
MIXED = ("plan", *NUMERIC)


@dataclass(frozen=True)
class Entry:
    """A model of the corpus and the truth about its columns.

    Attributes
    ----------
    train
        Builds the fitted model.
    columns
        Its columns, in order; ``()`` for a model fitted on an array.
    takes
        Per column: ``"numbers"``, ``"strings"``, ``"categories"`` (strings, unknown ones refused) or
        ``"anything"`` (any single value).
    good_row
        A row the model answers.
    """

    train: Callable[[], Any]
    columns: tuple[str, ...]
    takes: tuple[str, ...]
    good_row: tuple[Any, ...]


def frame(n: int = 80, columns: tuple[str, ...] = MIXED) -> tuple[Any, np.ndarray]:
    import pandas as pd

    rng = np.random.default_rng(1)
    data = {
        "plan": rng.choice(PLANS, size=n),
        "tenure_months": rng.integers(1, 72, size=n),
        "monthly_charges": rng.normal(60, 15, size=n).round(2),
    }
    target = (data["tenure_months"] < 12).astype(int)
    return pd.DataFrame({c: data[c] for c in columns}), target


def onehot_ignore() -> Any:
    """Categories one-hot encoded (unknown ones ignored), numbers scaled: the usual churn pipeline."""
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
            ("num", StandardScaler(), list(NUMERIC)),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=300)).fit(*frame())


def imputed_ordinal() -> Any:
    """Imputers in front of an ordinal encoder that refuses unknown categories; numbers passed through."""
    pre = ColumnTransformer(
        [
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OrdinalEncoder()), ["plan"]),
        ],
        remainder="passthrough",
    )
    return make_pipeline(pre, HistGradientBoostingClassifier(max_iter=5)).fit(*frame())


def native_categories() -> Any:
    """HistGradientBoosting taking the string column itself as categorical (no encoder)."""
    return HistGradientBoostingClassifier(max_iter=5, categorical_features=["plan"]).fit(*frame())


def numeric_frame_forest() -> Any:
    """A forest fitted on a numeric-only DataFrame."""
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(*frame(columns=NUMERIC))


def numeric_frame_function() -> Any:
    """A custom function first: what each column takes cannot be read from the model."""
    return make_pipeline(FunctionTransformer(np.log1p), LogisticRegression(max_iter=300)).fit(
        *frame(columns=NUMERIC)
    )


def xgboost_frame() -> Any:
    import xgboost

    return xgboost.XGBClassifier(n_estimators=4, max_depth=2, n_jobs=1).fit(*frame(columns=NUMERIC))


def lightgbm_frame() -> Any:
    import lightgbm

    return lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, min_child_samples=5, verbose=-1).fit(
        *frame(columns=NUMERIC)
    )


def array_model() -> Any:
    """Fitted on a numpy array: columns are positions."""
    table, target = frame(columns=NUMERIC)
    return LogisticRegression(max_iter=300).fit(table.to_numpy(), target)


CORPUS: dict[str, Entry] = {
    "onehot_ignore": Entry(onehot_ignore, MIXED, ("strings", "numbers", "numbers"), ("pro", 3, 42.5)),
    "imputed_ordinal": Entry(
        imputed_ordinal, MIXED, ("categories", "numbers", "numbers"), ("team", 30, 70.0)
    ),
    "native_categories": Entry(native_categories, MIXED, ("strings", "numbers", "numbers"), ("pro", 3, 42.5)),
    "numeric_frame_forest": Entry(numeric_frame_forest, NUMERIC, ("numbers", "numbers"), (3, 42.5)),
    "numeric_frame_function": Entry(numeric_frame_function, NUMERIC, ("numbers", "numbers"), (3, 42.5)),
    "xgboost_frame": Entry(xgboost_frame, NUMERIC, ("numbers", "numbers"), (3, 42.5)),
    "lightgbm_frame": Entry(lightgbm_frame, NUMERIC, ("numbers", "numbers"), (3, 42.5)),
    "array_model": Entry(array_model, (), ("numbers", "numbers"), (3, 42.5)),
}
