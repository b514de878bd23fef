"""The CSV header checked against the model once per object (issue 23, friction 2).

The DataFrame model (``frame_model``) takes exactly ``colour``, ``size``, ``weight``; the forest takes
4 unnamed features. A header that cannot match names the columns at fault and the fix, and the
``score`` action refuses that object's rows with the one reason, without running the model.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from lambda_runtime.batch import (
    HeaderUnreadable,
    LocalStore,
    header_mismatch,
    parse_header,
    score,
    score_segment,
)
from lambda_runtime.model import LoadedModel
from tests.helpers.batch import iris_csv, job

FRAME_ROWS = "c1,red,S,10.5\nc2,blue,M,9.0\nc3,green,L,11.0\n"


def put(store: LocalStore, key: str, text: str) -> int:
    store.write("in", key, io.BytesIO(text.encode()))
    return len(text.encode())


def errors_of(store: LocalStore, summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for key in summary["error_objects"]
        for line in store.read_all("out", key).decode().splitlines()
    ]


# -- the check itself -----------------------------------------------------------------------------


def test_a_header_with_exactly_the_models_columns_in_any_order_matches(frame_model: LoadedModel) -> None:
    assert header_mismatch(["weight", "colour", "size"], None, frame_model) is None


def test_the_id_column_is_not_a_feature(frame_model: LoadedModel) -> None:
    assert header_mismatch(["customer", "colour", "size", "weight"], "customer", frame_model) is None


def test_one_extra_column_suggests_it_as_the_id_column_on_the_command_line(frame_model: LoadedModel) -> None:
    message = header_mismatch(["customer", "colour", "size", "weight"], None, frame_model, "--id-column")
    assert message is not None
    assert "has 1 column the model does not take, ['customer']" in message
    assert "pass --id-column customer" in message
    assert "the model takes exactly ['colour', 'size', 'weight']" in message


def test_one_extra_column_suggests_the_jobs_id_column_by_default(frame_model: LoadedModel) -> None:
    message = header_mismatch(["customer", "colour", "size", "weight"], None, frame_model)
    assert message is not None and "pass id_column='customer'" in message


def test_an_id_with_a_space_is_quoted_for_the_shell(frame_model: LoadedModel) -> None:
    message = header_mismatch(["customer id", "colour", "size", "weight"], None, frame_model, "--id-column")
    assert message is not None and "pass --id-column 'customer id'" in message


def test_two_extra_columns_ask_to_remove_them(frame_model: LoadedModel) -> None:
    header = ["customer", "region", "colour", "size", "weight"]
    message = header_mismatch(header, None, frame_model, "--id-column")
    assert message is not None
    assert "has 2 columns the model does not take, ['customer', 'region']" in message
    assert "remove the columns the model does not take from the files" in message
    assert "one column can be the row id (--id-column)" in message


def test_a_missing_column_is_named(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour", "size"], None, frame_model)
    assert message is not None
    assert "lacks 1 column the model needs, ['weight']" in message
    assert "add the missing columns to the files" in message


def test_a_column_spelled_another_way_is_pointed_out(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour", "size", "Weight "], None, frame_model)
    assert message is not None and "'Weight ' in the files is 'weight' in the model" in message


def test_columns_spelled_another_way_are_not_also_asked_to_be_removed(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour ", "size ", "weight "], None, frame_model, "--id-column")
    assert message is not None
    assert "'colour ' in the files is 'colour' in the model" in message
    assert "remove the columns" not in message and "--id-column" not in message


def test_a_blank_first_line_is_named_as_such(frame_model: LoadedModel) -> None:
    message = header_mismatch([], None, frame_model, "--id-column")
    assert message == (
        "the first line is blank; a CSV file's first line is its header, naming the columns "
        "['colour', 'size', 'weight'] (in any order). Fix: remove the blank lines before the header"
    )


def test_a_repeated_column_is_named(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour", "size", "weight", "size"], None, frame_model)
    assert message is not None and "repeats ['size']" in message


def test_an_id_column_the_model_takes_is_refused(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour", "size", "weight"], "colour", frame_model, "--id-column")
    assert message is not None
    assert "'colour' is the id column (--id-column) but also a column the model takes" in message


def test_an_id_column_absent_from_the_header_is_named(frame_model: LoadedModel) -> None:
    message = header_mismatch(["colour", "size", "weight"], "customer", frame_model, "--id-column")
    assert message == "--id-column 'customer' is not a column of the header ['colour', 'size', 'weight']"


def test_a_positional_model_checks_the_feature_count(forest: LoadedModel) -> None:
    assert header_mismatch(["a", "b", "c", "d"], None, forest) is None
    assert header_mismatch(["id", "a", "b", "c", "d"], "id", forest) is None


def test_a_positional_model_with_one_column_too_many_suggests_an_id(forest: LoadedModel) -> None:
    message = header_mismatch(["id", "a", "b", "c", "d"], None, forest, "--id-column")
    assert message is not None
    assert "have 5 feature columns" in message and "the model takes 4 (n_features_in_ = 4" in message
    assert "e.g. --id-column id" in message


def test_a_positional_model_with_too_few_columns_says_how_many_are_missing(forest: LoadedModel) -> None:
    message = header_mismatch(["a", "b"], None, forest)
    assert message is not None and "the files need 2 more feature columns" in message


def test_a_long_list_of_columns_is_cut(frame_model: LoadedModel) -> None:
    header = ["colour", "size", "weight", *(f"x{i}" for i in range(30))]
    message = header_mismatch(header, "x0", frame_model)
    assert message is not None and "and 9 more" in message


def test_parse_header_removes_a_bom_and_the_cr_of_crlf() -> None:
    assert parse_header("\ufeffa,b\r".encode()) == ["a", "b"]


def test_fails_to_parse_a_header_that_is_not_utf8() -> None:
    with pytest.raises(HeaderUnreadable, match="lines must end in LF or CRLF"):
        parse_header(b"a,\xff")


# -- the score action: one reason, and the model never runs ---------------------------------------


def test_every_row_under_a_header_that_cannot_match_is_refused_with_the_one_reason(
    store: LocalStore, frame_model: LoadedModel
) -> None:
    size = put(store, "data/a.csv", "customer,colour,size,weight\n" + FRAME_ROWS)
    summary = score_segment(store, job(), frame_model, "data/a.csv", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (3, 0, 3)
    reasons = {error["reason"] for error in errors_of(store, summary)}
    assert len(reasons) == 1 and "pass id_column='customer'" in reasons.pop()


def test_a_later_range_of_the_object_is_refused_for_its_header_too(
    store: LocalStore, frame_model: LoadedModel
) -> None:
    text = "customer,colour,size,weight\n" + FRAME_ROWS
    size = put(store, "data/a.csv", text)
    start = text.index("c2")
    summary = score_segment(store, job(), frame_model, "data/a.csv", start, size)
    assert (summary["rows"], summary["errors"]) == (2, 2)
    assert "the model does not take, ['customer']" in errors_of(store, summary)[0]["reason"]


def test_the_model_is_not_run_on_rows_under_a_header_that_cannot_match(
    store: LocalStore, frame_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for name in ("fast_csv", "predict_table"):  # spies: the vectorized and the row-by-row paths
        real = getattr(score, name)
        monkeypatch.setattr(score, name, lambda *a, _n=name, _f=real: calls.append(_n) or _f(*a))
    size = put(store, "data/a.csv", "customer,colour,size,weight\n" + FRAME_ROWS)
    score_segment(store, job(), frame_model, "data/a.csv", 0, size)
    assert calls == []


def test_the_same_header_with_the_id_column_is_scored(store: LocalStore, frame_model: LoadedModel) -> None:
    size = put(store, "data/a.csv", "customer,colour,size,weight\n" + FRAME_ROWS)
    summary = score_segment(store, job(id_column="customer"), frame_model, "data/a.csv", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (3, 3, 0)


def test_a_positional_model_refuses_a_header_one_column_wide_of_its_features(
    store: LocalStore, forest: LoadedModel
) -> None:
    size = put(store, "data/a.csv", iris_csv(4))  # id + 4 features, without id_column
    summary = score_segment(store, job(), forest, "data/a.csv", 0, size)
    assert (summary["rows"], summary["errors"]) == (4, 4)
    assert "pass it as the id, e.g. id_column='id'" in errors_of(store, summary)[0]["reason"]
