"""What each named column of a scikit-learn model takes, learned from the fitted model at load.

A DataFrame model refuses a bad cell deep inside scikit-learn, in words about its internals
(``ufunc 'isnan' not supported``, ``could not convert string to float``) and without the row or the
column. Reading the fitted pipeline once at load says, per column of ``feature_names_in_``, whether it
takes numbers or strings (and, for an encoder that refuses unknown categories, which strings), so a
request can be checked before the model runs and refused with the row, the column and the value.

Only positive evidence counts: an encoder's ``categories_`` (their dtype says strings or numbers), a
numeric imputer's ``statistics_``, and estimators from the families that take numbers only. Anything
else (a ``FunctionTransformer`` with a function, a text vectorizer, a third-party transformer) leaves
its columns unknown and unchecked. Reading attributes only: no import, no call into the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .checks import TAKES_NUMBERS as NUMBERS
from .checks import TAKES_STRINGS as STRINGS
from .checks import refused_cell

CATEGORIES = "categories"
"""What a column of pandas categories takes (XGBoost, LightGBM): any single value, sent as a category."""
BOOL_TEXT = {"True": True, "true": True, "TRUE": True, "False": False, "false": False, "FALSE": False}
"""The words pandas reads as bools in a CSV file (``read_csv``), as a numeric column takes them."""
COLUMN_KINDS = "column_kinds"
"""The key of :attr:`LoadedModel.details` holding :func:`column_kinds` of a DataFrame model."""
_SHOWN_CATEGORIES = 8
_MAX_CATEGORIES = 10_000
"""Categories kept per column for the up-front check; a larger set is left to the encoder."""

# Estimators and transformers whose input must be numeric: a string cell always fails in them.
_NUMERIC_MODULES = (
    "sklearn.linear_model",
    "sklearn.svm",
    "sklearn.neighbors",
    "sklearn.tree",
    "sklearn.ensemble._forest",
    "sklearn.ensemble._gb",
    "sklearn.ensemble._hist_gradient_boosting",
    "sklearn.ensemble._weight_boosting",
    "sklearn.ensemble._iforest",
    "sklearn.naive_bayes",
    "sklearn.neural_network",
    "sklearn.discriminant_analysis",
    "sklearn.kernel_ridge",
    "sklearn.gaussian_process",
    "sklearn.decomposition",
    "sklearn.cross_decomposition",
    "sklearn.kernel_approximation",
    "sklearn.random_projection",
    "sklearn.cluster",
    "sklearn.preprocessing._data",
    "sklearn.preprocessing._discretization",
    "sklearn.preprocessing._polynomial",
    "sklearn.impute._knn",
    "sklearn.impute._iterative",
    "sklearn.feature_selection._variance_threshold",
    # Their scikit-learn APIs refuse object (string) columns: pandas dtypes must be numeric or category,
    # and a JSON request never makes a category column.
    "xgboost",
    "lightgbm",
)


@dataclass(frozen=True)
class ColumnKind:
    """What one column takes.

    Attributes
    ----------
    takes
        ``"numbers"`` or ``"strings"``.
    categories
        For a string column whose encoder refuses unknown categories: the categories seen in training.
    """

    takes: str
    categories: frozenset[str] | None = None


Kinds = dict[int, ColumnKind | None]
"""Column index -> what it takes; ``None`` for a column known to be unchecked (dropped, or unknown)."""


def column_kinds(estimator: Any, n_columns: int) -> tuple[ColumnKind | None, ...] | None:
    """What each of the ``n_columns`` input columns of ``estimator`` takes, ``None`` where unknown.

    Returns ``None`` when nothing is known about any column. Never raises: a model this cannot read is
    served unchecked, as before.
    """
    try:
        kinds = _kinds(estimator, list(range(n_columns)), None)
    except Exception:  # an attribute of an unexpected shape: leave the model unchecked
        return None
    if kinds is None:
        return None
    learned = tuple(kinds.get(i) for i in range(n_columns))
    return learned if any(k is not None for k in learned) else None


def _kinds(estimator: Any, columns: list[int], downstream: str | None) -> Kinds | None:
    """Kinds of ``columns`` entering ``estimator``; ``None`` when it passes them on unchanged.

    ``downstream`` is what the steps after it take (for the columns a ColumnTransformer passes through).
    """
    if isinstance(estimator, str):  # "drop" or "passthrough", as a ColumnTransformer or Pipeline holds them
        return dict.fromkeys(columns) if estimator == "drop" else None
    if estimator is None or _is_identity(estimator):
        return None
    name = type(estimator).__name__
    if name == "Pipeline":
        return _pipeline(estimator.steps, columns, downstream)
    if name == "ColumnTransformer":
        return _column_transformer(estimator, columns, downstream)
    if name in ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV"):
        return _kinds(getattr(estimator, "best_estimator_", None), columns, downstream)
    if hasattr(estimator, "categories_") and type(estimator).__module__.startswith("sklearn.preprocessing"):
        return _encoder(estimator, columns)
    if name == "SimpleImputer":
        statistics = getattr(estimator, "statistics_", None)
        if statistics is not None and statistics.dtype.kind in "iufb":
            return dict.fromkeys(columns, ColumnKind(NUMBERS))
        return None  # a most-frequent or constant imputer of strings hands them on as they are
    categorical = getattr(estimator, "is_categorical_", None)
    if categorical is not None and any(categorical):
        # HistGradientBoosting with categorical_features takes its categories as strings or numbers.
        if len(categorical) != len(columns):
            return dict.fromkeys(columns)
        encoded = _hist_categories(estimator, columns)
        if encoded is not None:
            return encoded
        return {
            c: None if is_category else ColumnKind(NUMBERS)
            for c, is_category in zip(columns, categorical, strict=True)
        }
    native = _native_categories(estimator, len(columns))
    if native is not None:
        return {c: ColumnKind(CATEGORIES if k in native else NUMBERS) for k, c in enumerate(columns)}
    if _takes_numbers(estimator):
        return dict.fromkeys(columns, ColumnKind(NUMBERS))
    return dict.fromkeys(columns)


def _native_categories(estimator: Any, n_columns: int) -> frozenset[int] | None:
    """The input positions an XGBoost or LightGBM model was fitted on as pandas categories, if any.

    Those libraries refuse a string column unless its dtype is ``category``, and a JSON request never
    makes one: the engine casts these columns. XGBoost before 3.1 keeps no categories to re-code a
    request's own against, so its category columns are left unknown (the library's refusal stands).
    """
    booster = getattr(estimator, "_Booster", None)
    module = type(estimator).__module__
    if booster is None:
        return None
    if module.startswith("xgboost"):
        if not hasattr(booster, "get_categories"):
            return None
        found = [k for k, kind in enumerate(booster.feature_types or ()) if kind == "c"]
    elif module.startswith("lightgbm") and getattr(booster, "pandas_categorical", None):
        # LightGBM maps a request's categories onto the training ones itself (pandas_categorical).
        found = [int(k) for k in (booster.params or {}).get("categorical_column", ())]
    else:
        return None
    return frozenset(found) if found and max(found) < n_columns else None


def _hist_categories(estimator: Any, columns: list[int]) -> Kinds | None:
    """HistGradientBoosting's category columns read from the ordinal encoder it fitted for them.

    Its categories' dtype says whether a column takes strings or numbers; an unknown category is
    taken as missing (the encoder's ``use_encoded_value``), so none is refused.
    """
    pre = getattr(estimator, "_preprocessor", None)
    if pre is None or type(pre).__name__ != "ColumnTransformer":
        return None
    kinds: Kinds = dict.fromkeys(columns, ColumnKind(NUMBERS))
    for _, part, selected in pre.transformers_:
        if type(part).__name__ != "OrdinalEncoder":
            continue
        chosen = list(selected)
        if all(isinstance(flag, bool) or type(flag).__name__ == "bool" for flag in chosen):
            picked = [c for c, flag in zip(columns, chosen, strict=True) if flag]
        else:  # column positions
            picked = [columns[int(k)] for k in chosen]
        kinds.update(_encoder(part, picked))
    return kinds


def _is_identity(estimator: Any) -> bool:
    # scikit-learn >= 1.8 stores a passthrough remainder as an identity FunctionTransformer.
    return type(estimator).__name__ == "FunctionTransformer" and getattr(estimator, "func", 0) is None


def _takes_numbers(estimator: Any) -> bool:
    module = type(estimator).__module__
    return any(module == m or module.startswith(m + ".") for m in _NUMERIC_MODULES)


def _pipeline(steps: Sequence[tuple[str, Any]], columns: list[int], downstream: str | None) -> Kinds | None:
    for k, (_, step) in enumerate(steps):
        after = _uniform(steps[k + 1 :], downstream)
        kinds = _kinds(step, columns, after)
        if kinds is not None:
            return kinds
    return None if downstream is None else dict.fromkeys(columns, ColumnKind(downstream))


def _uniform(steps: Sequence[tuple[str, Any]], downstream: str | None) -> str | None:
    """What the first deciding step of ``steps`` takes for every column, if it takes one kind."""
    for _, step in steps:
        kinds = _kinds(step, [0], None)
        if kinds is None:
            continue
        kind = kinds.get(0)
        return kind.takes if kind is not None and kind.categories is None else None
    return downstream


def _column_transformer(transformer: Any, columns: list[int], downstream: str | None) -> Kinds:
    kinds: Kinds = dict.fromkeys(columns)
    indices = getattr(transformer, "_transformer_to_input_indices", None)
    if not isinstance(indices, dict):
        return kinds
    for name, part, _ in transformer.transformers_:
        local = [int(i) for i in indices.get(name, ())]
        outer = [columns[i] for i in local if 0 <= i < len(columns)]
        if not outer:
            continue
        part_kinds = _kinds(part, outer, downstream)
        if part_kinds is None:
            part_kinds = dict.fromkeys(outer, ColumnKind(downstream) if downstream else None)
        kinds.update(part_kinds)
    return kinds


def _encoder(encoder: Any, columns: list[int]) -> Kinds:
    kinds: Kinds = {}
    refuses_unknown = getattr(encoder, "handle_unknown", None) == "error"
    for column, categories in zip(columns, encoder.categories_, strict=False):
        values = [c for c in categories.tolist() if c is not None and c == c]  # NaN is a missing value
        if values and all(isinstance(v, str) for v in values):
            known = frozenset(values) if refuses_unknown and len(values) <= _MAX_CATEGORIES else None
            kinds[column] = ColumnKind(STRINGS, known)
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            kinds[column] = ColumnKind(NUMBERS)
        else:
            kinds[column] = None
    return kinds


def takes(kinds: Sequence[ColumnKind | None] | None, j: int, unknown: str) -> str:
    """What column ``j`` takes, in words (``"numbers"``), or ``unknown`` when that is not known."""
    kind = kinds[j] if kinds is not None else None
    return kind.takes if kind is not None else unknown


def check_cell(cell: str | int | float | bool, kind: ColumnKind, row: int, column: str) -> None:
    """Refuse (400) a single-value cell its column cannot take, naming row, column, value and kind.

    Parameters
    ----------
    cell
        A scalar cell (arrays, objects, infinities and missing values are refused or passed earlier).
    kind
        What the column takes.
    row, column
        Where the cell is.
    """
    if kind.takes == CATEGORIES:
        return
    if kind.takes == NUMBERS:
        if isinstance(cell, str) and cell not in BOOL_TEXT:
            try:
                finite = math.isfinite(float(cell))
            except ValueError:
                finite = False
            if not finite:
                raise refused_cell(row, column, cell, NUMBERS)
        return
    if not isinstance(cell, str):
        raise refused_cell(row, column, cell, STRINGS)
    if kind.categories is not None and cell not in kind.categories:
        shown = sorted(kind.categories)[:_SHOWN_CATEGORIES]
        more = ", ..." if len(kind.categories) > len(shown) else ""
        raise refused_cell(
            row,
            column,
            cell,
            f"the strings it saw in training ({', '.join(map(repr, shown))[:300]}{more})",
            why=", a category the model did not see in training",
        )
