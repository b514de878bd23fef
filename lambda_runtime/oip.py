"""Open Inference Protocol (KServe v2) request decoding and response encoding.

A request is ``{"inputs": [{"name", "shape", "datatype", "data"}, ...], "outputs": [{"name"}, ...]}``.
One input is the whole feature matrix (shape ``[rows, features]``; a rank-1 shape is one row); several
inputs are one column each, matched to the model's columns by name. Output names are the estimator
methods to run (``predict`` when none are asked for).

The binary tensor data extension (Triton's ``binary_tensor_data``, as ``tritonclient`` sends it) is
supported both ways: a request whose ``Inference-Header-Content-Length`` header gives the length of its
JSON part carries, after that part, the raw bytes of every input with ``parameters.binary_data_size``
(little-endian, row-major; a ``BYTES`` element is a 4-byte little-endian length then its bytes).
Outputs asked for with ``parameters: {"binary_data": true}`` (or all of them, with the request's
``parameters: {"binary_data_output": true}``) are sent the same way after the JSON part of the
response, whose length is the response's ``Inference-Header-Content-Length`` header.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .codec import Table, check_columns, check_rows
from .contract import (
    MAX_TENSOR_DATA_DEPTH,
    MAX_TENSOR_ELEMENTS,
    MAX_TENSOR_RANK,
    PREDICTION_METHODS,
)
from .errors import BadRequest
from .model import LoadedModel

DATATYPES = frozenset(
    {
        "BOOL",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
    }
)
# ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses.
_LENGTH = re.compile(r"[0-9]{1,18}")
BINARY_EXTENSION = "binary_tensor_data"
"""The extension's name as ``GET /v2`` lists it (Triton's name)."""
HEADER_LENGTH = "Inference-Header-Content-Length"
"""The header giving the length of the JSON part of a body that carries binary tensors."""
BINARY_CONTENT_TYPE = "application/octet-stream"
"""Content type of a response that carries binary tensors."""
# Fixed-size element types: their little-endian numpy dtype.
_BINARY_DTYPES = {
    "BOOL": "|b1",
    "UINT8": "|u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "|i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}


class _Typed(list[Any]):
    """Flat values decoded from the binary extension: each already has its datatype's type, so they
    are not checked one by one again (that check cost more than the decoding)."""


@dataclass(frozen=True)
class InferRequest:
    """A decoded inference request: the table, the methods to run, and the caller's request id."""

    table: Table
    outputs: tuple[str, ...]
    id: str | None
    binary_outputs: frozenset[str] = frozenset()


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """Split a request body into its JSON part and the binary tensor data after it.

    Raises
    ------
    BadRequest
        ``Inference-Header-Content-Length`` is not a length within the body.
    """
    if header_length is None:
        return body, b""
    text = header_length.strip()
    if _LENGTH.fullmatch(text) is None or not 0 < int(text) <= len(body):
        raise BadRequest(
            f"{HEADER_LENGTH} must be the length in bytes of the JSON part of the body (1 to {len(body)}), "
            f"got {text[:40]!r}"
        )
    return body[: int(text)], body[int(text) :]


def decode_infer(document: Any, binary: bytes = b"") -> InferRequest:
    """Decode a parsed ``POST /v2/models/{name}/infer`` JSON body (and its binary tensor data).

    Raises
    ------
    BadRequest
        The body is not a valid inference request.
    """
    if not isinstance(document, dict):
        raise BadRequest('the inference request must be a JSON object with "inputs"')
    inputs = document.get("inputs")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, dict) for t in inputs):
        raise BadRequest(
            '"inputs" must be a non-empty array of tensors, such as '
            '[{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]'
        )
    check_columns(len(inputs), '"inputs"')
    offset = 0
    for index, tensor in enumerate(inputs):
        offset = _read_binary(tensor, index, binary, offset)
    if offset != len(binary):
        raise BadRequest(
            f"the body has {len(binary) - offset} bytes after the tensors its inputs' binary_data_size "
            "account for; each binary input needs parameters.binary_data_size"
        )
    tensors = [_tensor(t, i) for i, t in enumerate(inputs)]
    if len(tensors) == 1:
        shape, data, _ = tensors[0]
        if len(shape) == 1:
            table = Table(rows=[data])
        else:  # rank 2: _shape refused longer shapes and zero dimensions
            width = shape[1]
            table = Table(rows=[data[r * width : (r + 1) * width] for r in range(shape[0])])
    else:
        table = _columns(tensors)
    outputs = document.get("outputs")
    return InferRequest(
        table,
        _outputs(outputs),
        _id(document.get("id")),
        _binary_outputs(outputs, document.get("parameters")),
    )


def _read_binary(tensor: dict[str, Any], index: int, binary: bytes, offset: int) -> int:
    """Decode the input's binary data (if it has any) into ``tensor["data"]``; return the new offset."""
    parameters = tensor.get("parameters")
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is None:
        return offset
    where = f"input {index}"
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(binary):
        raise BadRequest(
            f"{where}: parameters.binary_data_size must be the byte length of its data, within the "
            f"{len(binary)} bytes after the JSON part (Inference-Header-Content-Length)"
        )
    if "data" in tensor:
        raise BadRequest(f'{where} has both "data" and parameters.binary_data_size; send one')
    chunk = binary[offset : offset + size]
    datatype = tensor.get("datatype")
    if datatype == "BYTES":
        tensor["data"] = _Typed(_bytes_elements(chunk, where))
    elif datatype in _BINARY_DTYPES:
        dtype = np.dtype(_BINARY_DTYPES[datatype])
        if size % dtype.itemsize:
            raise BadRequest(f"{where}: {size} bytes is not a whole number of {datatype} elements")
        tensor["data"] = _Typed(np.frombuffer(chunk, dtype=dtype).tolist())
    else:
        raise BadRequest(f'{where}: "datatype" must be one of {", ".join(sorted(DATATYPES))}')
    return offset + size


def _bytes_elements(chunk: bytes, where: str) -> list[Any]:
    elements: list[Any] = []
    at = 0
    while at < len(chunk):
        if at + 4 > len(chunk):
            raise BadRequest(f"{where}: BYTES data ends inside an element's 4-byte length")
        length = int.from_bytes(chunk[at : at + 4], "little")
        at += 4
        if at + length > len(chunk):
            raise BadRequest(f"{where}: a BYTES element of {length} bytes runs past the input's data")
        try:
            elements.append(chunk[at : at + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(f"{where}: BYTES element {len(elements)} is not UTF-8 text") from None
        at += length
    return elements


def _binary_outputs(outputs: Any, parameters: Any) -> frozenset[str]:
    everything = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    if not isinstance(outputs, list):
        return frozenset({"predict"}) if everything else frozenset()
    chosen = set()
    for output in outputs:
        own = output.get("parameters") if isinstance(output, dict) else None
        flag = own.get("binary_data") if isinstance(own, dict) else None
        if flag is True or (flag is None and everything):
            chosen.add(str(output.get("name")))
    return frozenset(chosen)


def binary_tensor(tensor: dict[str, Any], array: Any) -> bytes:
    """Move ``tensor``'s data into bytes for the binary extension; return those bytes."""
    del tensor["data"]
    if tensor["datatype"] == "BYTES":
        parts = []
        for value in np.asarray(array, dtype=object).ravel():
            encoded = str(value).encode("utf-8")
            parts.append(len(encoded).to_bytes(4, "little") + encoded)
        data = b"".join(parts)
    else:
        data = np.ascontiguousarray(array, dtype=np.dtype(_BINARY_DTYPES[tensor["datatype"]])).tobytes()
    tensor["parameters"] = {"binary_data_size": len(data)}
    return data


def _tensor(tensor: dict[str, Any], index: int) -> tuple[list[int], list[Any], str]:
    name = tensor.get("name")
    where = f"input {index}" + (f" ({name[:60]!r})" if isinstance(name, str) else "")
    if not isinstance(name, str) or not name:
        raise BadRequest(f'{where} needs a "name" (a string)')
    datatype = tensor.get("datatype")
    if datatype not in DATATYPES:
        raise BadRequest(
            f'{where}: "datatype" must be one of {", ".join(sorted(DATATYPES))}, got {str(datatype)[:40]!r}'
        )
    shape = _shape(tensor.get("shape"), where)
    raw = tensor.get("data")
    data = raw if isinstance(raw, _Typed) else _flatten(raw, where)
    expected = math.prod(shape)
    if len(data) != expected:
        raise BadRequest(f"{where}: shape {shape} needs {expected} values, but data has {len(data)}")
    if isinstance(raw, _Typed):
        return shape, data, name
    for k, value in enumerate(data):
        if datatype == "BYTES":
            # scikit-learn does not record column dtypes, so named columns are advertised as BYTES;
            # accept numbers there too, and let the model's own checks decide.
            if value is not None and not isinstance(value, (str, int, float)):
                raise BadRequest(f"{where}: value {k} must be a string or a number for datatype BYTES")
        elif datatype == "BOOL":
            if not isinstance(value, bool):
                raise BadRequest(f"{where}: value {k} must be true or false for datatype BOOL")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(
                f"{where}: value {k} is {str(value)[:40]!r}, not a number as datatype {datatype} needs"
            )
    return shape, data, name


def _shape(shape: Any, where: str) -> list[int]:
    """Check a tensor's shape before any work depends on it: rank, zero dimensions, element count."""
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise BadRequest(
            f'{where}: "shape" must be a non-empty array of non-negative integers, such as [1, 4]'
        )
    if len(shape) > MAX_TENSOR_RANK:
        raise BadRequest(
            f"{where}: the shape has rank {len(shape)}; use [rows, features] or [rows] "
            f"(contract.MAX_TENSOR_RANK = {MAX_TENSOR_RANK})"
        )
    if 0 in shape:
        raise BadRequest(f"{where}: the shape has a zero dimension; send at least one row of values")
    if max(shape) > MAX_TENSOR_ELEMENTS or math.prod(shape) > MAX_TENSOR_ELEMENTS:
        raise BadRequest(
            f"{where}: its shape declares more than {MAX_TENSOR_ELEMENTS} elements, the most an input "
            "may hold (contract.MAX_TENSOR_ELEMENTS); split the request"
        )
    check_rows(shape[0], where)
    return shape


def _flatten(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise BadRequest(f'{where}: "data" must be an array of values (flat, row-major, or nested)')
    flat: list[Any] = []

    def walk(items: list[Any], depth: int) -> None:
        if depth > MAX_TENSOR_DATA_DEPTH:
            raise BadRequest(f'{where}: "data" is nested too deeply')
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif isinstance(item, dict):
                raise BadRequest(f'{where}: "data" must hold values, not objects')
            else:
                flat.append(item)

    walk(data, 0)
    return flat


def _columns(tensors: list[tuple[list[int], list[Any], str]]) -> Table:
    names = [name for _, _, name in tensors]
    if len(set(names)) != len(names):
        raise BadRequest("input names must be unique when each input is one column")
    lengths = set()
    for shape, _, name in tensors:
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise BadRequest(
                f"input {name[:60]!r} has shape {shape}; with several inputs each must be one column, "
                "[rows] or [rows, 1]"
            )
        lengths.add(shape[0])
    if len(lengths) != 1 or 0 in lengths:
        raise BadRequest(
            f"all inputs must have the same number of rows (at least one); got {sorted(lengths)}"
        )
    columns = [data for _, data, _ in tensors]
    return Table(rows=[list(row) for row in zip(*columns, strict=True)], columns=names)


def _outputs(outputs: Any) -> tuple[str, ...]:
    if outputs is None:
        return ("predict",)
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, dict) for o in outputs):
        raise BadRequest('"outputs" must be a non-empty array of objects such as [{"name": "predict_proba"}]')
    names = []
    for output in outputs:
        name = output.get("name")
        if name not in PREDICTION_METHODS:
            raise BadRequest(
                f"output name {str(name)[:60]!r} is not one of {', '.join(PREDICTION_METHODS)}; "
                "the output name selects the estimator method"
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def _id(value: Any) -> str | None:
    return value[:256] if isinstance(value, str) else None


def output_tensor(name: str, array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Encode one method's result (:meth:`Prediction.tensor <lambda_runtime.predict.Prediction.tensor>`)
    as an output tensor (flat row-major data)."""
    return {
        "name": name,
        "shape": list(array.shape),
        "datatype": datatype_of(array),
        "data": array.ravel().tolist(),
    }


def datatype_of(array: np.ndarray[Any, Any]) -> str:
    """The Open Inference Protocol datatype for a numpy array's dtype."""
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind == "f":
        return {2: "FP16", 4: "FP32"}.get(array.dtype.itemsize, "FP64")
    if kind == "i":
        return f"INT{array.dtype.itemsize * 8}"
    if kind == "u":
        return f"UINT{array.dtype.itemsize * 8}"
    return "BYTES"


def model_metadata(model: LoadedModel, name: str) -> dict[str, Any]:
    """The ``GET /v2/models/{name}`` document."""
    if model.input_specs is not None:
        inputs = [dict(spec) for spec in model.input_specs]
    elif model.feature_names_in is not None:
        inputs = [
            {"name": column, "datatype": "BYTES", "shape": [-1, 1]} for column in model.feature_names_in
        ]
    else:
        inputs = [{"name": "input-0", "datatype": "FP64", "shape": [-1, model.n_features_in or -1]}]
    outputs = []
    # An ONNX graph declares its outputs' element types; a scikit-learn estimator's are inferred.
    declared = model.details.get("output_datatypes") or {}
    for method in model.methods:
        if method == "predict":
            datatype = declared.get(method) or _predict_datatype(model)
            outputs.append({"name": method, "datatype": datatype, "shape": [-1]})
        else:
            datatype = declared.get(method) or "FP64"
            outputs.append({"name": method, "datatype": datatype, "shape": _score_shape(model, method)})
    # Triton's platform names: an ONNX graph is "onnxruntime_onnx".
    platform = "onnxruntime_onnx" if model.engine.name == "onnx" else "sklearn"
    return {"name": name, "versions": [], "platform": platform, "inputs": inputs, "outputs": outputs}


def _predict_datatype(model: LoadedModel) -> str:
    if model.classes is None:
        return "FP64"
    if model.classes and all(isinstance(c, str) for c in model.classes):
        return "BYTES"
    return datatype_of(np.asarray(model.classes))


def _score_shape(model: LoadedModel, method: str) -> list[int]:
    n_classes = len(model.classes) if model.classes is not None else None
    if n_classes is None:
        return [-1, -1]
    # Binary decision_function returns one score per row; predict_proba always one per class.
    if method == "decision_function" and n_classes == 2:
        return [-1]
    return [-1, n_classes]
