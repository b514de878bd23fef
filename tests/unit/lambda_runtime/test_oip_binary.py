"""The Open Inference Protocol binary tensor extension, both engines, against tritonclient's own codec.

Request bodies are built by ``tritonclient.http`` (``InferInput.set_data_from_numpy(binary_data=True)``,
``InferenceServerClient.generate_request_body``) and responses parsed by
``InferenceServerClient.parse_response_body``: the real client's bytes, not our reading of the spec.
Where tritonclient is not installed those tests skip; the hand-built ones below still run.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambda_runtime.app import App
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import LambdaContext, http_api_event, rest_api_event

REPO = Path(__file__).resolve().parents[3]
_LOCAL_TRITON = REPO / ".cache" / "tritonclient"  # where a developer may have pip-installed it --target
INFER = "/v2/models/model/infer"


def triton() -> Any:
    if _LOCAL_TRITON.is_dir() and str(_LOCAL_TRITON) not in sys.path:
        sys.path.append(str(_LOCAL_TRITON))
    return pytest.importorskip("tritonclient.http")


@pytest.fixture(scope="module")
def onnx_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, App]]:
    folder = tmp_path_factory.mktemp("onnx")
    served = {}
    for name, make in (("forest", onnx_models.forest), ("columns", onnx_models.column_transformer)):
        estimator, data = make()
        app, _ = models.app_for(onnx_models.save(data, folder / f"{name}.onnx"), MODEL_FORMAT="onnx")
        served[name] = (estimator, app)
    return served


@pytest.fixture(scope="module")
def sklearn_apps(model_files: dict[str, Path]) -> dict[str, tuple[Any, App]]:
    import joblib

    return {
        name: (joblib.load(model_files[file]), models.app_for(model_files[file])[0])
        for name, file in (("forest", "random_forest"), ("columns", "column_transformer"))
    }


def send(
    app: App, body: bytes, header_length: int | None, *, rest: bool = False
) -> tuple[int, bytes, dict[str, str]]:
    headers = {"Inference-Header-Content-Length": str(header_length)} if header_length is not None else {}
    make = rest_api_event if rest else http_api_event
    response = app.handle(make("POST", INFER, body, headers=headers), LambdaContext())
    raw = response["body"]
    data = base64.b64decode(raw) if response["isBase64Encoded"] else raw.encode()
    return response["statusCode"], data, response["headers"]


def parse(body: bytes, headers: dict[str, str]) -> Any:
    length = headers.get("Inference-Header-Content-Length")
    return triton().InferenceServerClient.parse_response_body(
        body, header_length=int(length) if length else None
    )


@pytest.mark.parametrize("engine", ["sklearn", "onnx"])
@pytest.mark.parametrize("rest", [False, True])
def test_binary_matrix_in_binary_and_json_out(
    engine: str, rest: bool, request: pytest.FixtureRequest
) -> None:
    http = triton()
    estimator, app = request.getfixturevalue(f"{engine}_apps")["forest"]
    rows = models.iris()[0][::30]
    tensor = http.InferInput("input-0", list(rows.shape), "FP64")
    tensor.set_data_from_numpy(rows, binary_data=True)
    outputs = [
        http.InferRequestedOutput("predict_proba", binary_data=True),
        http.InferRequestedOutput("predict", binary_data=False),
    ]
    body, json_size = http.InferenceServerClient.generate_request_body([tensor], outputs=outputs)
    assert json_size is not None and len(body) > json_size
    status, answer, headers = send(app, body, json_size, rest=rest)
    assert status == 200, answer
    assert headers["Content-Type"] == "application/octet-stream"
    result = parse(answer, headers)
    np.testing.assert_allclose(result.as_numpy("predict_proba"), estimator.predict_proba(rows), atol=1e-6)
    assert result.as_numpy("predict").tolist() == estimator.predict(rows).tolist()


@pytest.mark.parametrize("engine", ["sklearn", "onnx"])
def test_binary_string_columns_and_string_labels(engine: str, request: pytest.FixtureRequest) -> None:
    http = triton()
    estimator, app = request.getfixturevalue(f"{engine}_apps")["columns"]
    frame, _ = models.ct_frame(5)
    inputs = []
    for column in ("colour", "size", "weight"):
        values = frame[column].to_numpy()
        if column == "weight":
            values = values.astype(np.float32 if engine == "onnx" else np.float64)
            datatype = "FP32" if engine == "onnx" else "FP64"
        else:
            values = values.astype(object)
            datatype = "BYTES"
        tensor = http.InferInput(column, [len(values), 1], datatype)
        tensor.set_data_from_numpy(values.reshape(-1, 1), binary_data=True)
        inputs.append(tensor)
    # No outputs named: tritonclient asks for every output in binary (binary_data_output); ours is predict.
    body, json_size = http.InferenceServerClient.generate_request_body(inputs)
    status, answer, headers = send(app, body, json_size)
    assert status == 200, answer
    labels = parse(answer, headers).as_numpy("predict")
    assert [v.decode() for v in labels.ravel()] == estimator.predict(frame).tolist()


def test_json_requests_get_json_answers(onnx_apps: dict[str, tuple[Any, App]]) -> None:
    http = triton()
    _, app = onnx_apps["forest"]
    tensor = http.InferInput("X", [1, 4], "FP32")
    tensor.set_data_from_numpy(np.array([models.IRIS_ROW], dtype=np.float32), binary_data=False)
    body, json_size = http.InferenceServerClient.generate_request_body(
        [tensor], outputs=[http.InferRequestedOutput("predict", binary_data=False)]
    )
    assert json_size is None
    status, answer, headers = send(app, body, None)
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert parse(answer, headers).as_numpy("predict").tolist() == [0]


# -- by hand, from the spec (runs without tritonclient) ---------------------------------------------


def hand_built(rows: np.ndarray, *, extra: bytes = b"") -> tuple[bytes, int]:
    data = rows.astype("<f4").tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "X",
                    "shape": list(rows.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(data)},
                }
            ],
            "outputs": [{"name": "predict", "parameters": {"binary_data": True}}],
        }
    ).encode()
    return header + data + extra, len(header)


def test_hand_built_binary_request_and_response(onnx_apps: dict[str, tuple[Any, App]]) -> None:
    _, app = onnx_apps["forest"]
    rows = models.iris()[0][[0, 75, 149]]
    body, length = hand_built(rows)
    status, answer, headers = send(app, body, length)
    assert status == 200
    split = int(headers["Inference-Header-Content-Length"])
    document = json.loads(answer[:split])
    [output] = document["outputs"]
    assert output["datatype"] == "INT64" and "data" not in output
    assert output["parameters"] == {"binary_data_size": 24}
    assert list(struct.unpack("<3q", answer[split:])) == [0, 1, 2]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda body, n: (body, "abc"), "Inference-Header-Content-Length must be"),
        (lambda body, n: (body, str(len(body) + 1)), "Inference-Header-Content-Length must be"),
        (lambda body, n: (body + b"xx", str(n)), "2 bytes after the tensors"),
        (lambda body, n: (body[:-4], str(n)), "binary_data_size must be the byte length"),
    ],
)
def test_fails_400_on_inconsistent_binary_bodies(
    onnx_apps: dict[str, tuple[Any, App]], mangle: Any, message: str
) -> None:
    _, app = onnx_apps["forest"]
    body, length = hand_built(models.iris()[0][:2])
    body, header = mangle(body, length)
    event = http_api_event("POST", INFER, body, headers={"Inference-Header-Content-Length": header})
    response = app.handle(event, LambdaContext())
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["error"]


def test_the_server_lists_the_extension(onnx_apps: dict[str, tuple[Any, App]]) -> None:
    response = onnx_apps["forest"][1].handle(http_api_event("GET", "/v2"), LambdaContext())
    assert json.loads(response["body"])["extensions"] == ["binary_tensor_data"]
