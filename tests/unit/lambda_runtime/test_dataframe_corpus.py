"""Valid requests to models the authors did not use are answered exactly as scikit-learn answers them.

Over tests/helpers/attack_corpus.py (bool, datetime, category, nullable Int64 columns, odd column names,
native categorical support in HistGradientBoosting, XGBoost and LightGBM, ...): rows of the training
frame sent as JSON records, split, columns or positional rows, in any column order, must get a 200 whose
predictions equal the model's own ``predict`` on those rows of the frame. No false refusals.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime.app import App
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, http_api_event
from tests.helpers.attack_corpus import CORPUS
from tests.unit.lambda_runtime.conftest import invoke_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
Served = tuple[Any, Any, App]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Served]:
    folder = tmp_path_factory.mktemp("attack_corpus")
    loaded = {}
    for name, train in CORPUS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, table = train()
        path = folder / f"{name}.joblib"
        models.save(model, path)
        loaded[name] = (model, table, models.app_for(path)[0])
    return loaded


def cell(value: Any) -> Any:
    """A frame's cell as a client writes it in JSON: ISO dates, null for missing, plain numbers."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "<NA>":
        return None
    return value.item() if hasattr(value, "item") else value


def post(app: App, document: Any) -> tuple[int, Any]:
    event = http_api_event("POST", "/predict", json.dumps(document), headers=JSON_HEADERS)
    status, answer, _ = invoke_app(app, event)
    return status, answer


def document(shape: str, columns: list[str] | None, rows: list[list[Any]]) -> Any:
    if columns is None or shape == "instances":
        return {"instances": rows}
    if shape == "records":
        return {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in rows]}
    if shape == "split":
        return {"dataframe_split": {"columns": columns, "data": rows}}
    return {"inputs": {c: [row[k] for row in rows] for k, c in enumerate(columns)}}


def request_rows(table: Any, picked: list[int], order: list[str] | None) -> list[list[Any]]:
    if order is None:
        return [[float(v) for v in table[i]] for i in picked]
    return [[cell(v) for v in row] for row in table.iloc[picked][order].itertuples(index=False)]


def expected(model: Any, table: Any, picked: list[int]) -> Any:
    rows = table[picked] if isinstance(table, np.ndarray) else table.iloc[picked]
    return np.asarray(model.predict(rows))


def same(got: Any, want: Any) -> bool:
    got = np.asarray(got)
    if want.dtype.kind in "fc":
        return bool(np.allclose(got.astype(float), want))
    return bool(got.tolist() == want.tolist())


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_records_of_training_rows_are_answered_as_scikit_learn_does(
    served: dict[str, Served], name: str
) -> None:
    model, table, app = served[name]
    columns = None if isinstance(table, np.ndarray) else list(table.columns)
    picked = [0, 1, 2, 3, 4]
    status, answer = post(app, document("records", columns, request_rows(table, picked, columns)))
    assert status == 200, answer
    assert same(answer["predictions"], expected(model, table, picked))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_valid_request_is_answered_as_scikit_learn_does(served: dict[str, Served], data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(CORPUS)))
    model, table, app = served[name]
    picked = data.draw(st.lists(st.integers(0, len(table) - 1), min_size=1, max_size=12))
    shape = data.draw(st.sampled_from(["records", "split", "inputs", "instances"]))
    columns = None if isinstance(table, np.ndarray) else list(table.columns)
    if columns is not None and shape != "instances":
        columns = data.draw(st.permutations(columns))  # named columns may come in any order
    status, answer = post(app, document(shape, columns, request_rows(table, picked, columns)))
    assert status == 200, (name, shape, answer)
    assert same(answer["predictions"], expected(model, table, picked)), (name, shape)


def test_lightgbm_takes_an_unknown_category_as_missing_as_lightgbm_does(served: dict[str, Served]) -> None:
    model, table, app = served["lightgbm_categorical"]
    sent = table.iloc[[0]].copy()
    sent["plan"] = sent["plan"].cat.set_categories(["gold"])  # LightGBM's own reading: unknown -> missing
    status, answer = post(app, {"dataframe_records": [{"num": cell(sent["num"].iloc[0]), "plan": "gold"}]})
    assert (status, answer["predictions"]) == (200, model.predict(sent).tolist())


def test_fails_with_400_naming_the_row_and_column_of_a_category_xgboost_did_not_see(
    served: dict[str, Served],
) -> None:
    app = served["xgboost_categorical"][2]
    body = {"dataframe_records": [{"num": 0.5, "plan": "pro"}, {"num": 0.1, "plan": "zzz"}]}
    status, answer = post(app, body)
    assert (status, answer["error"].split(":")[0]) == (400, "row 1, column 'plan' = 'zzz'")


def test_fails_with_400_without_native_library_paths_or_stack_traces(served: dict[str, Served]) -> None:
    status, answer = post(
        served["xgboost_categorical"][2], {"dataframe_records": [{"num": 0.1, "plan": "zzz"}]}
    )
    assert status == 400
    assert "Found a category not in the training set" in answer["error"]
    for leak in ("Stack trace", "[bt]", "/workspace/", ".so", ".h:"):
        assert leak not in answer["error"]


def test_fails_with_400_naming_a_number_sent_to_a_string_category_of_hist_gradient_boosting(
    served: dict[str, Served],
) -> None:
    status, answer = post(served["hist_from_dtype"][2], {"dataframe_records": [{"num": 0.1, "plan": 3}]})
    assert (status, answer["error"]) == (400, "row 0, column 'plan' is 3; this column takes strings")


def test_hist_gradient_boosting_takes_an_unknown_category_as_missing(served: dict[str, Served]) -> None:
    model, table, app = served["hist_from_dtype"]
    sent = table.iloc[[0]].copy()
    sent["plan"] = sent["plan"].cat.set_categories(["gold"])
    status, answer = post(app, {"dataframe_records": [{"num": cell(sent["num"].iloc[0]), "plan": "gold"}]})
    assert (status, answer["predictions"]) == (200, model.predict(sent).tolist())


def csv_post(app: App, text: str) -> tuple[int, Any]:
    event = http_api_event("POST", "/predict", text, headers={"content-type": "text/csv"})
    status, answer, _ = invoke_app(app, event)
    return status, answer


def test_a_csv_body_of_a_bool_column_is_read_as_pandas_reads_it(served: dict[str, Served]) -> None:
    # pandas writes a bool column as True/False and reads it back as bools (to_csv, read_csv).
    model, table, app = served["bools"]
    rows = table.iloc[:4]
    text = rows.to_csv(header=False, index=False)
    assert "True" in text and "False" in text
    status, answer = csv_post(app, text)
    assert (status, answer["predictions"]) == (200, model.predict(rows).tolist())


@pytest.mark.parametrize("name", ["xgboost_categorical", "lightgbm_categorical"])
def test_numbers_sent_as_text_are_numbers_for_xgboost_and_lightgbm(
    served: dict[str, Served], name: str
) -> None:
    model, table, app = served[name]
    rows = table.iloc[:2]
    sent = [{"num": str(cell(rows["num"].iloc[0])), "plan": rows["plan"].iloc[0]}]
    sent.append({"num": cell(rows["num"].iloc[1]), "plan": rows["plan"].iloc[1]})
    status, answer = post(app, {"dataframe_records": sent})
    assert (status, answer.get("predictions")) == (200, model.predict(rows).tolist()), answer


def test_fails_with_400_on_a_csv_header_row_whose_column_names_look_like_numbers(
    served: dict[str, Served],
) -> None:
    _, table, app = served["odd_names"]
    status, answer = csv_post(app, table.iloc[:2].to_csv(index=False))
    assert (status, answer["error"].split(":")[0]) == (400, "row 0 holds the model's column names")


def test_fails_with_400_naming_a_quoted_value_found_beyond_the_rows_rerun_one_by_one(
    served: dict[str, Served],
) -> None:
    rows = [{"num": 0.5, "plan": "pro"}] * 99 + [{"num": 0.1, "plan": "zzz"}]
    status, answer = post(served["xgboost_categorical"][2], {"dataframe_records": rows})
    assert (status, answer["error"].split(":")[0]) == (400, "row 99, column 'plan' = 'zzz'")


ODD_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, "", " 3 ", "NaN", "1e5", "true"]),
    st.integers(-(2**80), 2**80),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
LEAKS = ("Traceback", 'File "', "site-packages", "Stack trace", "/workspace/")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_odd_cell_is_answered_or_refused_naming_its_row_and_column(
    served: dict[str, Served], data: Any
) -> None:
    name = data.draw(st.sampled_from(sorted(CORPUS)))
    _, table, app = served[name]
    picked = data.draw(st.lists(st.integers(0, len(table) - 1), min_size=1, max_size=6))
    columns = None if isinstance(table, np.ndarray) else list(table.columns)
    rows = request_rows(table, picked, columns)
    row, column = data.draw(st.integers(0, len(rows) - 1)), data.draw(st.integers(0, len(rows[0]) - 1))
    rows[row][column] = value = data.draw(ODD_CELLS)
    body = json.dumps(document("records", columns, rows), allow_nan=True)
    status, answer, _ = invoke_app(app, http_api_event("POST", "/predict", body, headers=JSON_HEADERS))
    assert status in (200, 400), answer
    assert not any(leak in json.dumps(answer) for leak in LEAKS), answer
    # Left: XGBoost (3.x) mis-encodes a non-ASCII string in a category column when a request has several
    # rows (its message then quotes a garbled category, and each row alone passes), so the refusal
    # cannot name the row; the DataFrame guide says so.
    xgboost_text = name == "xgboost_categorical" and column == 1 and isinstance(value, str)
    if status == 400 and not (xgboost_text and not value.isascii()):
        message = answer["error"]
        label = repr(columns[column]) if columns else str(column)
        assert f"row {row}" in message, (value, message)
        # Left: XGBoost keeps no categories a request's could be checked against (without pyarrow), so
        # a missing or non-string value in its one-row category column is refused naming the row only.
        if not (name == "xgboost_categorical" and column == 1 and not isinstance(value, str)):
            assert label in message, (value, message)


def test_fails_with_400_naming_the_missing_cell_at_fault_not_one_the_model_imputes(
    served: dict[str, Served],
) -> None:
    rows = [{"num": 0.5, "plan": None}, {"num": None, "plan": "pro"}]  # plan is imputed, num is not
    status, answer = post(served["constant_imputer"][2], {"dataframe_records": rows})
    assert (status, answer["error"].split(":")[0]) == (400, "row 1, column 'num' is missing")
