"""Worst-case handler time per MB of request, for each protocol, on hostile request shapes.

Run: ``.venv/bin/python -m benchmarks.request_bounds [--mb 1 4] [--repeats 3]``

Each case builds a body of about the given size (JSON instances, CSV, Open Inference Protocol JSON,
the binary tensor extension), sends it through the real handler in this process, and reports the
median time of ``--repeats`` runs, the status, and milliseconds per MB of body. A valid request of
the same protocol and size is the baseline of each protocol: the ``x valid`` column is the hostile
case's time per MB over the baseline's, measured in the same run (ratios, not absolute times, are
what carries from this host to Lambda). Work linear in the request's size shows as a ms/MB that
stays flat from the smaller size to the larger; quadratic work would grow with it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lambda_runtime import contract as c
from lambda_runtime.app import App, create_app
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import LambdaContext, http_api_event

MB = 1024 * 1024
INFER = "/v2/models/model/infer"
ROW = "[5.1,3.5,1.4,0.2]"


@dataclass(frozen=True)
class Case:
    """One request shape: its protocol, the app it goes to, and how to build a body of ``size`` bytes."""

    protocol: str
    name: str
    app: str
    build: Callable[[int], tuple[bytes, dict[str, str], str]]  # body, headers, path


def _json(text: str) -> tuple[bytes, dict[str, str], str]:
    return text.encode(), {"Content-Type": "application/json"}, "/predict"


def _csv(text: str) -> tuple[bytes, dict[str, str], str]:
    return text.encode(), {"Content-Type": "text/csv"}, "/predict"


def _oip(document: Any) -> tuple[bytes, dict[str, str], str]:
    return json.dumps(document).encode(), {"Content-Type": "application/json"}, INFER


def _binary(header: dict[str, Any], data: bytes) -> tuple[bytes, dict[str, str], str]:
    head = json.dumps(header).encode()
    headers = {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"}
    return head + data, headers, INFER


def _records(size: int, columns: int) -> str:
    record = json.dumps({f"unknown_{k}": 1 for k in range(columns)})
    return '{"instances": [' + ",".join([record] * max(1, size // (len(record) + 1))) + "]}"


def _binary_tensor(datatype: str, shape: list[int], size: int) -> dict[str, Any]:
    tensor = {"name": "X", "shape": shape, "datatype": datatype, "parameters": {"binary_data_size": size}}
    return {"inputs": [tensor]}


def json_cases() -> list[Case]:
    n = lambda size, unit: max(1, size // unit)  # noqa: E731 - rows that fit the size
    return [
        Case(
            "JSON",
            "valid rows",
            "iris",
            lambda s: _json('{"instances": [' + ",".join([ROW] * n(s, 18)) + "]}"),
        ),
        Case(
            "JSON",
            "one record, cap of unknown columns",
            "columns",
            lambda s: _json(_records(s, c.MAX_COLUMNS)),
        ),
        Case("JSON", "one record, columns past the cap", "columns", lambda s: _json(_records(s, s // 21))),
        Case("JSON", "records of 40 unknown columns", "columns", lambda s: _json(_records(s, 40))),
        Case(
            "JSON",
            "split naming the cap of columns",
            "columns",
            lambda s: _json(
                json.dumps(
                    {
                        "dataframe_split": {
                            "columns": [f"c{k}" for k in range(c.MAX_COLUMNS)],
                            "data": [[1] * c.MAX_COLUMNS] * max(1, s // (3 * c.MAX_COLUMNS)),
                        }
                    }
                )
            ),
        ),
        Case("JSON", "deep nesting", "iris", lambda s: _json("[" * (s // 2) + "]" * (s // 2))),
        Case("JSON", "many empty rows", "iris", lambda s: _json("[" + ",".join(["[]"] * n(s, 3)) + "]")),
        Case("JSON", "one very wide row", "iris", lambda s: _json("[[" + ",".join(["1"] * n(s, 2)) + "]]")),
        Case(
            "JSON",
            "4,000-digit integers",
            "iris",
            lambda s: _json("[[" + ",".join(["9" * 4000] * n(s, 4001)) + "]]"),
        ),
    ]


def csv_cases() -> list[Case]:
    return [
        Case("CSV", "valid rows", "iris", lambda s: _csv("5.1,3.5,1.4,0.2\n" * (s // 16))),
        Case("CSV", "one very wide row", "iris", lambda s: _csv(",".join(["1"] * (s // 2)))),
        Case("CSV", "many one-cell rows", "iris", lambda s: _csv("1\n" * (s // 2))),
        Case("CSV", "text cells", "iris", lambda s: _csv("abcdefgh,1,2,3\n" * (s // 15))),
    ]


def oip_json_cases() -> list[Case]:
    def tensor(shape: list[int], data: Any) -> Any:
        return {"inputs": [{"name": "X", "shape": shape, "datatype": "FP32", "data": data}]}

    return [
        Case(
            "OIP JSON",
            "valid tensor",
            "onnx",
            lambda s: _oip(tensor([s // 18, 4], [5.1, 3.5, 1.4, 0.2] * (s // 18))),
        ),
        Case(
            "OIP JSON",
            "huge shape, little data",
            "onnx",
            lambda s: _oip(tensor([10**9, 10**9], [1.0] * (s // 5))),
        ),
        Case("OIP JSON", "zero dimension", "onnx", lambda s: _oip(tensor([10**9, 0], [1.0] * (s // 5)))),
        Case("OIP JSON", "long shape", "onnx", lambda s: _oip(tensor([1] * (s // 3), [1.0]))),
        Case("OIP JSON", "data nested 500 deep, repeated", "onnx", _oip_nested),
        Case(
            "OIP JSON",
            "the cap of one-column inputs",
            "onnx",
            lambda s: _oip(
                {
                    "inputs": [
                        {
                            "name": f"c{k}",
                            "shape": [max(1, s // 60 // c.MAX_COLUMNS)],
                            "datatype": "FP32",
                            "data": [1.0] * max(1, s // 60 // c.MAX_COLUMNS),
                        }
                        for k in range(c.MAX_COLUMNS)
                    ]
                }
            ),
        ),
        Case(
            "OIP JSON",
            "unseen categories",
            "onnx_columns",
            lambda s: _oip(
                {
                    "inputs": [
                        {
                            "name": "colour",
                            "shape": [s // 40, 1],
                            "datatype": "BYTES",
                            "data": ["purple"] * (s // 40),
                        },
                        {
                            "name": "size",
                            "shape": [s // 40, 1],
                            "datatype": "BYTES",
                            "data": ["S"] * (s // 40),
                        },
                        {
                            "name": "weight",
                            "shape": [s // 40, 1],
                            "datatype": "FP32",
                            "data": [1.0] * (s // 40),
                        },
                    ]
                }
            ),
        ),
    ]


def _oip_nested(size: int) -> tuple[bytes, dict[str, str], str]:
    # Within the parser's recursion limit, past MAX_TENSOR_DATA_DEPTH: the flattening must stop early.
    deep = "[" * 500 + "1.0" + "]" * 500
    data = "[" + ",".join([deep] * max(1, size // (len(deep) + 1))) + "]"
    text = '{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": ' + data + "}]}"
    return text.encode(), {"Content-Type": "application/json"}, INFER


def oip_binary_cases() -> list[Case]:
    def fp32(s: int) -> tuple[bytes, dict[str, str], str]:
        rows = s // 16
        data = np.tile(np.array([5.1, 3.5, 1.4, 0.2], dtype=np.float32), rows).tobytes()
        return _binary(_binary_tensor("FP32", [rows, 4], len(data)), data)

    def bools(s: int) -> tuple[bytes, dict[str, str], str]:
        rows = min(s // 4, c.MAX_TENSOR_ELEMENTS // 4)
        return _binary(_binary_tensor("BOOL", [rows, 4], rows * 4), b"\x01" * (rows * 4))

    def empty_strings(s: int) -> tuple[bytes, dict[str, str], str]:
        rows = s // 16
        return _binary(_binary_tensor("BYTES", [rows, 4], rows * 16), b"\x00\x00\x00\x00" * (rows * 4))

    def huge_shape(s: int) -> tuple[bytes, dict[str, str], str]:
        return _binary(_binary_tensor("FP32", [10**9, 4], s), b"\x00" * s)

    return [
        Case("OIP binary", "valid FP32 tensor", "onnx", fp32),
        Case("OIP binary", "BOOL elements", "onnx", bools),
        Case("OIP binary", "empty BYTES elements", "onnx", empty_strings),
        Case("OIP binary", "huge shape", "onnx", huge_shape),
    ]


def make_apps(folder: Path) -> dict[str, App]:
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the apps
    apps = {}
    for name, trainer in (("iris", models.scaled_pipeline), ("columns", models.column_transformer)):
        path = folder / f"{name}.joblib"
        digest = models.save(trainer(), path)
        apps[name] = create_app({"MODEL_URI": str(path), "MODEL_SHA256": digest}, stream=devnull)
    for name, make in (("onnx", onnx_models.forest), ("onnx_columns", onnx_models.column_transformer)):
        _, data = make()
        path = onnx_models.save(data, folder / f"{name}.onnx")
        environ = {"MODEL_URI": str(path), "MODEL_SHA256": models.sha256(data), "MODEL_FORMAT": "onnx"}
        apps[name] = create_app(environ, stream=devnull)
    return apps


def measure(app: App, body: bytes, headers: dict[str, str], path: str, repeats: int) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(repeats):
        event = http_api_event("POST", path, body, headers=headers)
        started = time.perf_counter()
        status = app.handle(event, LambdaContext())["statusCode"]
        times.append(time.perf_counter() - started)
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases = json_cases() + csv_cases() + oip_json_cases() + oip_binary_cases()
    with tempfile.TemporaryDirectory() as folder:
        apps = make_apps(Path(folder))
        print(f"{'protocol':<11} {'case':<38} {'MB':>5} {'status':>6} {'ms':>8} {'ms/MB':>8} {'x valid':>8}")
        worst: dict[str, tuple[float, str]] = {}
        for mb in args.mb:
            baseline: dict[str, float] = {}
            for case in cases:
                body, headers, path = case.build(int(mb * MB))
                seconds, status = measure(apps[case.app], body, headers, path, args.repeats)
                size = len(body) / MB
                per_mb = seconds * 1000 / size
                baseline.setdefault(case.protocol, per_mb)
                ratio = per_mb / baseline[case.protocol]
                print(
                    f"{case.protocol:<11} {case.name:<38} {size:5.2f} {status:>6} {seconds * 1000:8.1f} "
                    f"{per_mb:8.1f} {ratio:8.2f}"
                )
                if per_mb > worst.get(case.protocol, (0.0, ""))[0]:
                    worst[case.protocol] = (per_mb, f"{case.name} at {size:.2f} MB")
        print("\nworst case per protocol (ms per MB of request):")
        for protocol, (per_mb, where) in worst.items():
            print(f"  {protocol:<11} {per_mb:8.1f}  ({where})")


if __name__ == "__main__":
    main()
