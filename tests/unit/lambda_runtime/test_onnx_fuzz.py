"""Fuzzing the ONNX engine and the binary tensor extension: nothing escapes, leaks or answers 5xx.

The same generated events as ``test_handler_fuzz`` go to two ONNX apps (a float32 matrix graph and a
graph with one input per named column), plus binary-extension bodies: JSON headers whose inputs claim
``binary_data_size``, arbitrary bytes after them, and right or wrong ``Inference-Header-Content-Length``
values, to the ONNX and the scikit-learn apps. ``FUZZ_EXAMPLES`` sets the count, as there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime.app import App, create_app
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import LambdaContext, http_api_event, rest_api_event
from tests.unit.lambda_runtime.test_handler_fuzz import FUZZ_EXAMPLES, LEAKS, check, events

SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module")
def onnx_apps(tmp_path_factory: pytest.TempPathFactory, model_files: dict[str, Path]) -> dict[str, App]:
    folder = tmp_path_factory.mktemp("onnx-fuzz")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - kept for the module's apps
    loaded = {}
    for name, make in (("onnx_forest", onnx_models.forest), ("onnx_columns", onnx_models.column_transformer)):
        _, data = make()
        path = onnx_models.save(data, folder / f"{name}.onnx")
        environ = {"MODEL_URI": str(path), "MODEL_SHA256": models.sha256(data), "MODEL_FORMAT": "onnx"}
        loaded[name] = create_app(environ, stream=devnull)
    path = model_files["column_transformer"]
    loaded["sklearn_columns"] = create_app(
        {"MODEL_URI": str(path), "MODEL_SHA256": models.sha256(path.read_bytes())}, stream=devnull
    )
    return loaded


@SETTINGS
@given(event=events())
def test_onnx_apps_never_raise_leak_or_fail(onnx_apps: dict[str, App], event: Any) -> None:
    for name, app in onnx_apps.items():
        check(name, app, event)


sizes = st.one_of(st.integers(min_value=-2, max_value=40), st.none(), st.text(max_size=3), st.booleans())
binary_tensor = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["X", "input-0", "colour", "size", "weight"]),
        "shape": st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=2),
        "datatype": st.sampled_from(["FP32", "FP64", "INT64", "BYTES", "BOOL", "FP16", "UINT8", "X"]),
    },
    optional={"parameters": st.fixed_dictionaries({"binary_data_size": sizes}), "data": st.just([1.0])},
)
outputs = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["predict", "predict_proba", "decision_function", "x"])},
        optional={"parameters": st.fixed_dictionaries({"binary_data": st.one_of(st.booleans(), st.none())})},
    ),
    max_size=3,
)


@st.composite
def binary_bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    header = json.dumps(
        {"inputs": draw(st.lists(binary_tensor, min_size=1, max_size=3)), "outputs": draw(outputs)}
    ).encode()
    payload = draw(st.binary(max_size=64))
    length = draw(
        st.one_of(
            st.just(str(len(header))),
            st.integers(min_value=-5, max_value=len(header) + len(payload) + 5).map(str),
            st.text(max_size=5),
            st.none(),
        )
    )
    return header + payload, length


@SETTINGS
@given(body=binary_bodies(), rest=st.booleans(), octet=st.booleans())
def test_binary_bodies_never_raise_leak_or_fail(
    onnx_apps: dict[str, App], body: tuple[bytes, str | None], rest: bool, octet: bool
) -> None:
    raw, length = body
    headers = {"Inference-Header-Content-Length": length} if length is not None else {}
    if octet:
        headers |= {"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"}
    make = rest_api_event if rest else http_api_event
    for name, app in onnx_apps.items():
        response = app.handle(make("POST", "/v2/models/model/infer", raw, headers=headers), LambdaContext())
        status = response["statusCode"]
        assert status < 500, (name, response["body"][:300])
        if not response["isBase64Encoded"]:
            for leak in LEAKS:
                assert leak not in response["body"]
