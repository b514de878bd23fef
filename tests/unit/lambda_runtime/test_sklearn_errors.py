"""DataFrame and array models refuse bad cells with the row, the column, the value and what it takes.

Over a corpus (tests/helpers/dataframe_corpus.py): one-hot and ordinal pipelines with string and numeric
columns, numeric-only DataFrame models (a forest, a custom function, XGBoost, LightGBM) and an array
model. The property: any malformed cell anywhere gives a 4xx naming its row and column, never a 5xx.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime.app import App
from lambda_runtime.engines.sklearn_columns import BOOL_TEXT, ColumnKind, column_kinds
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, http_api_event
from tests.helpers.dataframe_corpus import CORPUS, PLANS
from tests.unit.lambda_runtime.conftest import invoke_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
CSV_HEADERS = {"content-type": "text/csv"}


@pytest.fixture(scope="module")
def corpus_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, App]:
    folder = tmp_path_factory.mktemp("corpus")
    apps = {}
    for name, entry in CORPUS.items():
        path = folder / f"{name}.joblib"
        models.save(entry.train(), path)
        apps[name] = models.app_for(path)[0]
    return apps


def post(app: App, body: Any, headers: dict[str, str] = JSON_HEADERS) -> tuple[int, str]:
    text = body if isinstance(body, str) else json.dumps(body)
    status, answer, _ = invoke_app(app, http_api_event("POST", "/predict", text, headers=headers))
    return status, answer["error"] if isinstance(answer, dict) and "error" in answer else ""


def records(name: str, rows: list[list[Any]]) -> Any:
    columns = CORPUS[name].columns
    return {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in rows]} if columns else rows


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_good_row_is_answered(corpus_apps: dict[str, App], name: str) -> None:
    assert post(corpus_apps[name], records(name, [list(CORPUS[name].good_row)]))[0] == 200


def test_column_kinds_of_a_one_hot_pipeline() -> None:
    assert column_kinds(CORPUS["onehot_ignore"].train(), 3) == (
        ColumnKind("strings"),
        ColumnKind("numbers"),
        ColumnKind("numbers"),
    )


def test_column_kinds_of_an_ordinal_encoder_keep_its_categories() -> None:
    kinds = column_kinds(CORPUS["imputed_ordinal"].train(), 3)
    assert kinds == (ColumnKind("strings", frozenset(PLANS)), ColumnKind("numbers"), ColumnKind("numbers"))


def test_column_kinds_of_native_categories_take_strings_and_leave_their_categories_open() -> None:
    # HistGradientBoosting takes an unknown category as missing, so no category is refused.
    kinds = column_kinds(CORPUS["native_categories"].train(), 3)
    assert kinds == (ColumnKind("strings"), ColumnKind("numbers"), ColumnKind("numbers"))


def test_a_model_with_native_categories_takes_strings_and_numbers_in_them(
    corpus_apps: dict[str, App],
) -> None:
    body = records("native_categories", [["pro", 3, 42.5], ["team", 30, 70.0]])
    assert post(corpus_apps["native_categories"], body)[0] == 200


def test_column_kinds_of_a_custom_function_are_unknown() -> None:
    assert column_kinds(CORPUS["numeric_frame_function"].train(), 2) is None


@pytest.mark.parametrize("name", ["xgboost_frame", "lightgbm_frame", "numeric_frame_forest"])
def test_column_kinds_of_numeric_frame_models_are_numbers(name: str) -> None:
    assert column_kinds(CORPUS[name].train(), 2) == (ColumnKind("numbers"), ColumnKind("numbers"))


def test_fails_with_400_naming_a_word_in_a_numeric_column(corpus_apps: dict[str, App]) -> None:
    body = records("onehot_ignore", [["pro", 3, 42.5], ["basic", "three", 20.0]])
    assert post(corpus_apps["onehot_ignore"], body) == (
        400,
        "row 1, column 'tenure_months' is 'three', not a number; this column takes numbers",
    )


def test_fails_with_400_naming_a_number_in_a_string_column(corpus_apps: dict[str, App]) -> None:
    body = records("onehot_ignore", [[5, 3, 42.5]])
    assert post(corpus_apps["onehot_ignore"], body) == (
        400,
        "row 0, column 'plan' is 5; this column takes strings",
    )


def test_fails_with_400_naming_an_unknown_category(corpus_apps: dict[str, App]) -> None:
    status, message = post(corpus_apps["imputed_ordinal"], records("imputed_ordinal", [["gold", 3, 42.5]]))
    assert (status, message) == (
        400,
        "row 0, column 'plan' is 'gold', a category the model did not see in training; this column takes "
        "the strings it saw in training ('basic', 'pro', 'team')",
    )


@pytest.mark.parametrize("name", ["xgboost_frame", "lightgbm_frame"])
def test_fails_with_400_naming_a_word_for_xgboost_and_lightgbm(
    corpus_apps: dict[str, App], name: str
) -> None:
    body = records(name, [[3, 42.5], [4, "lots"]])
    assert post(corpus_apps[name], body) == (
        400,
        "row 1, column 'monthly_charges' is 'lots', not a number; this column takes numbers",
    )


def test_fails_with_400_tracing_a_custom_functions_error_to_its_row_and_column(
    corpus_apps: dict[str, App],
) -> None:
    body = records("numeric_frame_function", [[3, 42.5], [4, 50.0], ["x", 61.0]])
    status, message = post(corpus_apps["numeric_frame_function"], body)
    assert (status, message.split(":")[0]) == (400, "row 2, column 'tenure_months' = 'x'")


def test_fails_with_400_tracing_a_single_rows_error_to_its_column(corpus_apps: dict[str, App]) -> None:
    body = records("numeric_frame_function", [[3, "x"]])
    status, message = post(corpus_apps["numeric_frame_function"], body)
    assert (status, message.split(":")[0]) == (400, "row 0, column 'monthly_charges' = 'x'")


def test_fails_with_400_naming_the_first_missing_cell_a_model_cannot_take(
    corpus_apps: dict[str, App],
) -> None:
    body = records("onehot_ignore", [["pro", 3, 42.5], ["team", None, 20.0]])
    status, message = post(corpus_apps["onehot_ignore"], body)
    assert (status, message.split(":")[0]) == (400, "row 1, column 'tenure_months' is missing")


def test_a_null_in_an_imputed_string_column_is_imputed(corpus_apps: dict[str, App]) -> None:
    assert post(corpus_apps["imputed_ordinal"], records("imputed_ordinal", [[None, 3, 42.5]]))[0] == 200


def test_fails_with_400_on_a_csv_header_row(corpus_apps: dict[str, App]) -> None:
    body = "plan,tenure_months,monthly_charges\npro,3,42.5\n"
    status, message = post(corpus_apps["onehot_ignore"], body, CSV_HEADERS)
    assert (status, message) == (
        400,
        "row 0 holds the model's column names: CSV bodies carry no header row; drop the first line (or "
        'send JSON records such as [{"column": value}])',
    )


def test_a_csv_body_without_a_header_is_answered(corpus_apps: dict[str, App]) -> None:
    assert post(corpus_apps["onehot_ignore"], "pro,3,42.5\nbasic,30,70\n", CSV_HEADERS)[0] == 200


# Not a number, and not one of the words a numeric column takes as a bool (True/false/...: pandas'
# read_csv reads them so, and scikit-learn takes a bool as 0 or 1; the DataFrame guide says so).
WORDS = st.text(min_size=1, max_size=12).filter(lambda s: not _is_number(s) and s not in BOOL_TEXT)
NESTED = st.one_of(
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def malformed(takes: str) -> st.SearchStrategy[Any]:
    """Cells a column that ``takes`` this must refuse."""
    if takes == "numbers":
        return st.one_of(WORDS, NESTED)
    if takes == "anything":
        return NESTED
    wrong_type = st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.booleans(), NESTED)
    if takes == "categories":
        return st.one_of(wrong_type, WORDS.filter(lambda s: s not in PLANS))
    return wrong_type


@st.composite
def bad_requests(draw: st.DrawFn) -> tuple[str, list[list[Any]], int, int]:
    name = draw(st.sampled_from(sorted(CORPUS)))
    entry = CORPUS[name]
    n_rows = draw(st.integers(1, 5))
    row, column = draw(st.integers(0, n_rows - 1)), draw(st.integers(0, len(entry.takes) - 1))
    rows = [list(entry.good_row) for _ in range(n_rows)]
    rows[row][column] = draw(malformed(entry.takes[column]))
    return name, rows, row, column


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=bad_requests())
def test_any_malformed_cell_gives_a_4xx_naming_its_row_and_column(
    corpus_apps: dict[str, App], case: tuple[str, list[list[Any]], int, int]
) -> None:
    name, rows, row, column = case
    status, message = post(corpus_apps[name], records(name, rows))
    columns = CORPUS[name].columns
    label = repr(columns[column]) if columns else str(column)
    assert 400 <= status < 500
    assert message.startswith(f"row {row}, column {label}"), message
