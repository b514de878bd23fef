"""Models the scikit-learn engine's authors did not grow up with, each with the frame it was fitted on.

Bool, datetime, pandas ``category``, nullable ``Int64`` and mixed object columns; column names that are
numbers or hold spaces and non-ASCII letters; a ``FunctionTransformer``; encoders that take unknown
categories; native categorical support in HistGradientBoosting, XGBoost and LightGBM; a multi-output
regressor; an array model; a constant string imputer. Requests are built from the training frame's rows,
so scikit-learn's own ``predict`` on those rows is the expected answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

N_ROWS = 80
PLANS = ("basic", "pro", "team")
EPOCH = "2024-01-01"


def base() -> Any:
    import pandas as pd

    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "num": rng.normal(size=N_ROWS).round(3),
            "flag": rng.choice([True, False], size=N_ROWS),
            "plan": rng.choice(PLANS, size=N_ROWS),
            "n2": rng.normal(size=N_ROWS).round(3),
        }
    )


def target(frame: Any) -> Any:
    return (frame["num"] > 0).astype(int).to_numpy()


def categorical(columns: list[str]) -> Any:
    table = base()[columns].copy()
    table["plan"] = table["plan"].astype("category")
    return table


def days_since_epoch(table: Any) -> Any:
    """Turns the ``when`` column (datetimes or ISO strings) into days: a user's own function."""
    import pandas as pd

    table = table.copy()
    table["when"] = (pd.to_datetime(table["when"]) - pd.Timestamp(EPOCH)).dt.days
    return table


def bools() -> tuple[Any, Any]:
    table = base()[["num", "flag"]]
    return LogisticRegression().fit(table, target(table)), table


def bools_one_hot() -> tuple[Any, Any]:
    table = base()[["num", "flag", "plan"]]
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["plan", "flag"])], remainder="passthrough"
    )
    return make_pipeline(pre, LogisticRegression()).fit(table, target(table)), table


def datetimes() -> tuple[Any, Any]:
    import pandas as pd

    table = base()[["num"]].copy()
    table["when"] = pd.date_range(EPOCH, periods=N_ROWS, freq="D")
    model = make_pipeline(FunctionTransformer(days_since_epoch), LogisticRegression())
    return model.fit(table, target(table)), table


def hist_from_dtype() -> tuple[Any, Any]:
    table = categorical(["num", "plan"])
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=10)
    return model.fit(table, target(table)), table


def nullable_int() -> tuple[Any, Any]:
    import pandas as pd

    table = base()[["num"]].copy()
    table["count"] = pd.array(np.arange(N_ROWS) % 10, dtype="Int64")
    table.loc[3, "count"] = pd.NA
    return make_pipeline(SimpleImputer(), LogisticRegression()).fit(table, target(table)), table


def odd_names() -> tuple[Any, Any]:
    import pandas as pd

    source = base()
    table = pd.DataFrame({"1": source["num"], "total spend": source["n2"], "größe €": source["plan"]})
    pre = ColumnTransformer([("cat", OneHotEncoder(), ["größe €"])], remainder="passthrough")
    return make_pipeline(pre, LogisticRegression()).fit(table, (table["1"] > 0).astype(int)), table


def ordinal_unknown_value() -> tuple[Any, Any]:
    table = base()[["num", "plan"]]
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    pre = ColumnTransformer([("cat", encoder, ["plan"])], remainder="passthrough")
    return make_pipeline(pre, LogisticRegression()).fit(table, target(table)), table


def one_hot_ignore() -> tuple[Any, Any]:
    table = base()[["num", "plan"]]
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])], remainder="passthrough"
    )
    return make_pipeline(pre, LogisticRegression()).fit(table, target(table)), table


def xgboost_categorical() -> tuple[Any, Any]:
    import xgboost

    table = categorical(["num", "plan"])
    model = xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, enable_categorical=True)
    return model.fit(table, target(table)), table


def lightgbm_categorical() -> tuple[Any, Any]:
    import lightgbm

    table = categorical(["num", "plan"])
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=5, verbose=-1)
    return model.fit(table, target(table)), table


def multi_output() -> tuple[Any, Any]:
    table = base()[["num", "n2"]]
    outputs = np.column_stack([table["num"] * 2, table["n2"] - 1])
    return MultiOutputRegressor(Ridge()).fit(table, outputs), table


def array_model() -> tuple[Any, Any]:
    features = base()[["num", "n2"]].to_numpy()
    return LogisticRegression().fit(features, (features[:, 0] > 0).astype(int)), features


def constant_imputer() -> tuple[Any, Any]:
    table = base()[["num", "plan"]].copy()
    table.loc[[1, 5], "plan"] = np.nan
    strings = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"), OneHotEncoder(handle_unknown="ignore")
    )
    pre = ColumnTransformer([("cat", strings, ["plan"])], remainder="passthrough")
    return make_pipeline(pre, LogisticRegression()).fit(table, target(table)), table


CORPUS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "bools": bools,
    "bools_one_hot": bools_one_hot,
    "datetimes": datetimes,
    "hist_from_dtype": hist_from_dtype,
    "nullable_int": nullable_int,
    "odd_names": odd_names,
    "ordinal_unknown_value": ordinal_unknown_value,
    "one_hot_ignore": one_hot_ignore,
    "xgboost_categorical": xgboost_categorical,
    "lightgbm_categorical": lightgbm_categorical,
    "multi_output": multi_output,
    "array_model": array_model,
    "constant_imputer": constant_imputer,
}
"""Name -> trainer returning ``(fitted model, training frame or array)``."""
