"""Decoding bodies and negotiating formats."""

from __future__ import annotations

import math

import pytest

from lambda_runtime.codec import (
    Table,
    decode_csv,
    decode_predict,
    encode_csv,
    encode_json,
    media_type,
    request_format,
    response_format,
)
from lambda_runtime.errors import BadRequest, NotAcceptable, UnsupportedMediaType


def test_media_type_drops_parameters_and_case() -> None:
    assert media_type("Application/JSON; charset=utf-8") == "application/json"
    assert media_type(None) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "json"),
        ("application/json", "json"),
        ("text/csv; charset=latin-1", "csv"),
        ("application/csv", "csv"),
    ],
)
def test_request_format(header, expected) -> None:
    assert request_format(header, allow_csv=True) == expected


def test_fails_request_format_on_other_types() -> None:
    with pytest.raises(UnsupportedMediaType, match="'text/plain'"):
        request_format("text/plain", allow_csv=True)


def test_fails_request_format_on_csv_where_only_json_is_read() -> None:
    with pytest.raises(UnsupportedMediaType):
        request_format("text/csv", allow_csv=False)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", "json"),
        ("text/csv", "csv"),
        ("text/*", "csv"),
        ("*/*;q=0.1, text/csv;q=0.2", "csv"),
        ("application/json, text/csv", "json"),
        ("text/csv;q=0, */*", "json"),
        ("text/csv;q=bogus, application/json;q=0.1", "json"),
    ],
)
def test_response_format(accept, expected) -> None:
    assert response_format(accept) == expected


@pytest.mark.parametrize("accept", ["application/xml", "text/csv;q=0, application/json;q=0", "image/*"])
def test_fails_response_format_when_nothing_matches(accept) -> None:
    with pytest.raises(NotAcceptable):
        response_format(accept)


def test_decode_split_without_columns_is_positional() -> None:
    decoded = decode_predict(b'{"dataframe_split": {"data": [[1, 2]]}}', "json")
    assert decoded.table == Table(rows=[[1, 2]])


def test_decode_reads_the_method_from_the_body() -> None:
    assert (
        decode_predict(b'{"instances": [[1]], "method": "predict_proba"}', "json").method == "predict_proba"
    )


def test_decode_csv_types_cells_and_keeps_empty_cells_as_missing() -> None:
    table = decode_csv(b'\xef\xbb\xbf1,2.5,"red, dark",\n\n3,4,x,5\r\n')
    assert table.rows == [[1, 2.5, "red, dark", None], [3, 4, "x", 5]]


def test_fails_decode_csv_without_rows() -> None:
    with pytest.raises(BadRequest, match="no rows"):
        decode_csv(b"\n\n")


def test_fails_decode_column_dict_of_unequal_lengths() -> None:
    with pytest.raises(BadRequest, match="one length"):
        decode_predict(b'{"inputs": {"a": [1, 2], "b": [1]}}', "json")


def test_encode_json_turns_non_finite_floats_into_null() -> None:
    assert encode_json({"predictions": [1.0, math.nan, math.inf]}) == '{"predictions":[1.0,null,null]}'


def test_encode_csv_quotes_strings_that_need_it() -> None:
    assert encode_csv(["a", "b,c", 1]) == 'a\n"b,c"\n1\n'
    assert encode_csv([[0.5, 0.5]]) == "0.5,0.5\n"
