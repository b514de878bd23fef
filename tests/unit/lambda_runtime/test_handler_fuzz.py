"""Fuzzing the handler with generated events: nothing escapes, nothing leaks, no unexpected 5xx.

The number of generated events is ``FUZZ_EXAMPLES`` (default 150 so the suite stays fast; CI or a
release check can raise it, e.g. ``FUZZ_EXAMPLES=10000``). Each example sends one event to each of
three apps: an iris pipeline, a ColumnTransformer on named string columns, and an app with no model.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime.app import App, create_app
from tests.helpers.apigw_events import LambdaContext, function_url_event, http_api_event, rest_api_event

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
REPO = str(Path(__file__).resolve().parents[3])
# Text that would reveal internals: tracebacks and this machine's file paths.
LEAKS = ("Traceback", 'File "', REPO, sys.prefix, sys.base_prefix, "site-packages", "lambda_runtime/")

ROUTES = [
    "/predict",
    "/health",
    "/metadata",
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/model",
    "/v2/models/model/ready",
    "/v2/models/model/infer",
    "/v2/models/other/infer",
    "/predict/extra",
    "/",
    "",
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", ""]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "text/csv",
    "text/csv; charset=latin-1",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "",
    ";;;",
    "application/json; q=",
]
ACCEPTS = [
    "*/*",
    "text/csv",
    "application/json",
    "application/xml",
    "text/csv;q=0",
    "*/*;q=nan",
    "",
    ",,",
    "a/b;q=2",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6)
    ),
    max_leaves=40,
)
rows = st.lists(st.lists(scalars, min_size=0, max_size=6), min_size=0, max_size=5)
named_rows = st.lists(
    st.dictionaries(st.sampled_from(["colour", "size", "weight", "other", ""]), scalars, max_size=4),
    max_size=4,
)
tensor = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(
            st.text(max_size=8), st.sampled_from(["input-0", "colour", "size", "weight"]), scalars
        ),
        "shape": st.one_of(st.lists(st.integers(min_value=-2, max_value=6), max_size=3), json_values),
        "datatype": st.one_of(st.sampled_from(["FP64", "FP32", "INT64", "BYTES", "BOOL", "FLOAT"]), scalars),
        "data": st.one_of(st.lists(scalars, max_size=10), rows, json_values),
    },
)
documents = st.one_of(
    json_values,
    rows,
    st.fixed_dictionaries({"instances": st.one_of(rows, named_rows, json_values)}),
    st.fixed_dictionaries({"inputs": st.one_of(rows, json_values)}, optional={"method": json_values}),
    st.fixed_dictionaries({"dataframe_records": st.one_of(named_rows, json_values)}),
    st.fixed_dictionaries(
        {
            "dataframe_split": st.fixed_dictionaries(
                {}, optional={"columns": json_values, "data": st.one_of(rows, json_values)}
            )
        }
    ),
    st.fixed_dictionaries(
        {"instances": st.just([[5.1, 3.5, 1.4, 0.2]])},
        optional={
            "method": st.one_of(
                st.sampled_from(["predict", "predict_proba", "decision_function", "fit"]), json_values
            )
        },
    ),
    st.fixed_dictionaries(
        {"inputs": st.lists(tensor, max_size=4)},
        optional={
            "outputs": st.one_of(
                st.lists(st.fixed_dictionaries({"name": json_values}), max_size=3), json_values
            ),
            "id": json_values,
        },
    ),
)


def huge_or_deep() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=1, max_value=200_000).map(lambda n: "[" * n + "]" * n),
        st.integers(min_value=1, max_value=50_000).map(lambda n: json.dumps({"instances": [[0.5] * 4] * n})),
        st.integers(min_value=1, max_value=5_000).map(lambda n: json.dumps({"instances": [[1] * n]})),
        st.integers(min_value=1, max_value=20).map(
            lambda n: json.dumps({"instances": [[[[1.0]] * 4] * 2] * n})
        ),
    )


bodies = st.one_of(
    st.none(),
    documents.map(lambda doc: json.dumps(doc, allow_nan=True)),  # NaN/Infinity literals included
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
    st.lists(
        st.lists(st.sampled_from(["1", "2.5", "x", "", "nan", "inf", '"a,b"', "red", "S"]), max_size=5),
        max_size=4,
    ).map(lambda lines: "\n".join(",".join(cells) for cells in lines)),
    huge_or_deep(),
)
headers = st.dictionaries(
    st.sampled_from(["content-type", "Content-Type", "CONTENT-TYPE", "accept", "Accept", "x-junk", ""]),
    st.one_of(st.sampled_from(CONTENT_TYPES + ACCEPTS), st.text(max_size=30)),
    max_size=4,
)
queries = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["method", "x", ""]),
        st.one_of(
            st.sampled_from(["predict", "predict_proba", "decision_function", "fit"]), st.text(max_size=10)
        ),
        max_size=2,
    ),
)


@st.composite
def events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["http", "rest", "url", "mutated", "random"]))
    if kind == "random":
        return draw(json_values)
    builder = {"http": http_api_event, "rest": rest_api_event, "url": function_url_event}.get(
        kind, http_api_event
    )
    body = draw(bodies)
    event = builder(
        draw(st.sampled_from(METHODS)),
        draw(st.one_of(st.sampled_from(ROUTES), st.text(max_size=30))),
        body,
        headers=draw(headers),
        query=draw(queries),
        base64_encoded=draw(st.booleans()) if body is not None else False,
    )
    if kind == "mutated":
        # Break the envelope: wrong types, missing fields, base64 flags on non-base64 bodies.
        for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=4, unique=True)):
            if draw(st.booleans()):
                del event[key]
            else:
                event[key] = draw(json_values)
        if draw(st.booleans()):
            event["isBase64Encoded"] = True
            event["body"] = draw(
                st.one_of(
                    st.text(max_size=50), st.binary(max_size=50).map(lambda b: base64.b64encode(b).decode())
                )
            )
    return event


@pytest.fixture(scope="module")
def fuzz_apps(model_files: dict[str, Path]) -> dict[str, App]:
    from tests.helpers import models

    devnull = open(os.devnull, "w")  # noqa: SIM115 - kept for the module's apps
    loaded = {}
    for name in ("scaled_pipeline", "column_transformer"):
        path = model_files[name]
        loaded[name] = create_app(
            {"MODEL_URI": str(path), "MODEL_SHA256": models.sha256(path.read_bytes())}, stream=devnull
        )
    loaded["no_model"] = create_app({}, stream=devnull)
    return loaded


def check(app_name: str, app: App, event: Any) -> None:
    response = app.handle(event, LambdaContext())  # must not raise: that is most of the property
    assert isinstance(response, dict)
    status = response["statusCode"]
    assert isinstance(status, int)
    body = response["body"]
    assert isinstance(body, str)
    if status >= 500:
        assert status == 503 and app_name == "no_model", (status, body[:300])
    for leak in LEAKS:
        assert leak not in body, (leak, body[:300])
    if response["headers"]["Content-Type"] == "application/json":
        document = json.loads(body)
        if status >= 400:
            assert isinstance(document["error"], str) and document["error"]
            assert document["request_id"]


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(event=events())
def test_handler_never_raises_leaks_or_fails_on_generated_events(
    fuzz_apps: dict[str, App], event: Any
) -> None:
    for name, app in fuzz_apps.items():
        check(name, app, event)
