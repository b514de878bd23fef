"""Fuzzing the ONNX engine and the binary tensor extension: nothing escapes, leaks or answers 5xx.

The same generated events as ``test_handler_fuzz`` go to three ONNX apps (a float32 matrix graph, a
graph with one input per named column whose encoder refuses unseen categories, and an int64 matrix
graph), plus binary-extension bodies: JSON headers whose inputs claim ``binary_data_size``, arbitrary
bytes after them, and right or wrong ``Inference-Header-Content-Length`` values; and valid bodies built
by tritonclient's own encoder (any datatype, shape, values, categories), then mutated (header length,
truncation, extra bytes, a flipped byte, a rewritten shape or datatype). Each goes to the ONNX and the
scikit-learn apps. The invariants: no 5xx the caller caused, nothing raised out of the handler, nothing
leaked, and every 4xx body says what is wrong. ``FUZZ_EXAMPLES`` sets the count, as there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime.app import App, create_app
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import LambdaContext, http_api_event, rest_api_event
from tests.unit.lambda_runtime.test_handler_fuzz import FUZZ_EXAMPLES, LEAKS, check, events
from tests.unit.lambda_runtime.test_oip_binary import triton
from tests.unit.lambda_runtime.test_request_bounds import int64_logistic

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
    makers = {
        "onnx_forest": lambda: onnx_models.forest()[1],
        "onnx_columns": lambda: onnx_models.column_transformer()[1],
        "onnx_int64": int64_logistic,
    }
    for name, make in makers.items():
        data = make()
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
        "shape": st.one_of(
            st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=2),
            st.lists(st.sampled_from([0, 1, 4, 10**6, 10**9, 2**62, 10**30]), min_size=1, max_size=4),
        ),
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
        assert_no_caller_made_5xx(name, response)


GENERIC = "internal error"


def assert_no_caller_made_5xx(name: str, response: dict[str, Any]) -> None:
    """No 5xx, nothing leaked, and a 4xx says what is wrong (more than a status, not the 500 text)."""
    status = response["statusCode"]
    assert status < 500, (name, response["body"][:300])
    if response["isBase64Encoded"]:
        return
    for leak in LEAKS:
        assert leak not in response["body"]
    if status >= 400:
        error = json.loads(response["body"])["error"]
        assert isinstance(error, str) and len(error) >= 20 and GENERIC not in error, (name, error)


NUMERIC = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32, "FP16": np.float16}
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70).map(float),
    st.sampled_from([5.1, 3.5, 1.4, 0.2, 0.0, -1.0]),
)
categories = st.one_of(
    st.sampled_from(["red", "blue", "green", "S", "M", "L", "purple", ""]), st.text(max_size=6)
)


def _array(draw: st.DrawFn, datatype: str, shape: list[int]) -> Any:
    count = int(np.prod(shape))
    if datatype == "BYTES":
        return np.array(draw(st.lists(categories, min_size=count, max_size=count)), dtype=object).reshape(
            shape
        )
    if datatype == "BOOL":
        return np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count))).reshape(shape)
    values = np.array(draw(st.lists(numbers, min_size=count, max_size=count)), dtype=np.float64)
    with np.errstate(all="ignore"):
        return values.astype(NUMERIC[datatype]).reshape(shape)


@st.composite
def triton_inputs(draw: st.DrawFn) -> list[Any]:
    """Valid tensors as tritonclient encodes them: one matrix, or one column per input."""
    http = triton()
    rows = draw(st.integers(min_value=1, max_value=5))
    if draw(st.booleans()):
        datatype = draw(st.sampled_from([*NUMERIC, "BOOL"]))
        shapes = [("input-0", datatype, [rows, draw(st.sampled_from([4, 4, 3, 1]))])]
    else:
        names = draw(st.permutations(["colour", "size", "weight", "other"]))[: draw(st.integers(1, 4))]
        shapes = [
            (
                name,
                "FP32" if name == "weight" else draw(st.sampled_from(["BYTES", "BYTES", "FP64"])),
                [rows, 1],
            )
            for name in names
        ]
    inputs = []
    for name, datatype, shape in shapes:
        tensor = http.InferInput(name, shape, datatype)
        tensor.set_data_from_numpy(_array(draw, datatype, shape), binary_data=draw(st.booleans()))
        inputs.append(tensor)
    return inputs


@st.composite
def triton_bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """A tritonclient body, then perhaps one mutation of its header, length, bytes, shape or datatype."""
    http = triton()
    methods = draw(st.lists(st.sampled_from(["predict", "predict_proba", "decision_function"]), max_size=2))
    outputs = [http.InferRequestedOutput(m, binary_data=draw(st.booleans())) for m in methods] or None
    body, json_size = http.InferenceServerClient.generate_request_body(draw(triton_inputs()), outputs=outputs)
    length = None if json_size is None else str(json_size)
    mutation = draw(
        st.sampled_from(["none", "none", "length", "truncate", "append", "flip", "shape", "type"])
    )
    if mutation == "length":
        length = str(max(0, (json_size or len(body)) + draw(st.integers(min_value=-8, max_value=8))))
    elif mutation == "truncate":
        body = body[: draw(st.integers(min_value=0, max_value=len(body)))]
    elif mutation == "append":
        body += draw(st.binary(min_size=1, max_size=16))
    elif mutation == "flip" and body:
        at = draw(st.integers(min_value=0, max_value=len(body) - 1))
        body = body[:at] + bytes([body[at] ^ draw(st.integers(min_value=1, max_value=255))]) + body[at + 1 :]
    elif mutation in ("shape", "type"):
        header, rest = (body[:json_size], body[json_size:]) if json_size else (body, b"")
        document = json.loads(header)
        tensor = document["inputs"][draw(st.integers(min_value=0, max_value=len(document["inputs"]) - 1))]
        if mutation == "shape":
            tensor["shape"] = draw(
                st.lists(st.sampled_from([0, 1, 2, 4, 10**9, 2**62]), min_size=1, max_size=3)
            )
        else:
            tensor["datatype"] = draw(
                st.sampled_from(["FP32", "FP64", "INT64", "INT8", "BYTES", "BOOL", "UINT64"])
            )
        header = json.dumps(document).encode()
        body, length = header + rest, (str(len(header)) if json_size else None)
    return body, length


@SETTINGS
@given(body=triton_bodies(), rest=st.booleans())
def test_tritonclient_bodies_never_raise_leak_or_fail(
    onnx_apps: dict[str, App], body: tuple[bytes, str | None], rest: bool
) -> None:
    raw, length = body
    headers = {"Inference-Header-Content-Length": length} if length is not None else {}
    make = rest_api_event if rest else http_api_event
    for name, app in onnx_apps.items():
        response = app.handle(make("POST", "/v2/models/model/infer", raw, headers=headers), LambdaContext())
        assert_no_caller_made_5xx(name, response)
