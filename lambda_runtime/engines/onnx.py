"""The ONNX engine: a graph converted from scikit-learn at synth, run by onnxruntime.

The function then needs onnxruntime and numpy only: no scikit-learn, SciPy, pandas or joblib, so a
smaller layer and a shorter cold start. The converter writes what the runtime cannot read from the
graph itself (classes, which output answers which method, which inputs may hold NaN, the converter's
versions and its verification) as JSON under :data:`contract.ONNX_METADATA_KEY` in the model's
``metadata_props``; the schema is documented there.

The graph has no ZipMap: a classifier's outputs are plain tensors (``label`` and ``probabilities``).
Its inputs are either one numeric matrix (float or double, as declared) or one input per named column
(string columns as string tensors, numeric ones as float/double ``[N, 1]``). Named columns are mapped
to the graph's inputs here, without pandas.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..codec import Table
from ..config import Settings
from ..contract import ONNX_METADATA_KEY, ONNX_METADATA_SCHEMA, PREDICTION_METHODS
from ..errors import BadRequest
from ..model import LoadedModel, ModelInput, ModelLoadError
from ..processes import worker_processes
from .checks import (
    TAKES_NUMBERS,
    TAKES_STRINGS,
    missing_refused,
    named_rows,
    numeric_rows,
    refuse_names,
    refused_cell,
)
from .onnx_errors import data_refusal

MB_PER_VCPU = 1769
"""Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB (up to 6 at 10,240 MB)."""
_MAX_LAMBDA_VCPUS = 6
TELEMETRY_SWITCH = "ORT_DISABLE_TELEMETRY"
"""onnxruntime's switch for its telemetry, set to ``1`` unless the function's environment sets it."""
# ONNX tensor element types this engine feeds, with the numpy dtype and the protocol datatype.
_NUMERIC = {
    "tensor(float)": (np.float32, "FP32"),
    "tensor(double)": (np.float64, "FP64"),
    "tensor(int64)": (np.int64, "INT64"),
    "tensor(int32)": (np.int32, "INT32"),
}
_STRING = "tensor(string)"
_OUTPUT_DATATYPES = {
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(int64)": "INT64",
    "tensor(int32)": "INT32",
    "tensor(bool)": "BOOL",
    "tensor(string)": "BYTES",
}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# The float64 values an integer input takes: [low, high), both exact powers of two.
_INT_RANGES: dict[Any, tuple[float, float]] = {
    np.int64: (-(2.0**63), 2.0**63),
    np.int32: (-(2.0**31), 2.0**31),
}


@dataclass(frozen=True)
class GraphInput:
    """One input of the graph and how request cells become its tensor.

    Attributes
    ----------
    name
        The graph input's name (the feed key).
    column
        The request column it takes (named-column graphs); the input name unless the metadata says.
    onnx_type
        The declared element type, e.g. ``tensor(float)`` or ``tensor(string)``.
    width
        Columns per row (the declared second dimension), ``None`` when the graph leaves it open.
    allow_nan
        Whether the estimator accepts missing values in this input (metadata; default no).
    """

    name: str
    column: str
    onnx_type: str
    width: int | None
    allow_nan: bool


@dataclass(frozen=True)
class OnnxModel:
    """What :attr:`LoadedModel.estimator` holds for this engine.

    Attributes
    ----------
    session
        The ``onnxruntime.InferenceSession``, created once at init.
    inputs
        The graph's inputs in declared order.
    outputs
        The graph output answering each method, e.g. ``{"predict": "label"}``.
    per_column
        True when each input is one named column; False for one numeric matrix.
    n_classes
        Number of classes of a classifier, when known.
    """

    session: Any
    inputs: tuple[GraphInput, ...]
    outputs: Mapping[str, str]
    per_column: bool
    n_classes: int | None


def lambda_vcpus(environ: Mapping[str, str] | None = None) -> int:
    """The threads one session may use: the function's vCPUs on demand (from its memory size), one per
    process on managed instances (the processes share the vCPUs), else this machine's CPU count."""
    environ = os.environ if environ is None else environ
    if worker_processes(environ) is not None:
        return 1
    cpus = os.cpu_count() or 1
    try:
        memory = int(environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""))
    except ValueError:
        return cpus
    # os.cpu_count() on Lambda reports the host's cores visible to the sandbox, not the CPU share
    # the memory size buys; more threads than that share only contend for it.
    return max(1, min(cpus, _MAX_LAMBDA_VCPUS, math.ceil(memory / MB_PER_VCPU)))


def session_options(ort: Any, environ: Mapping[str, str] | None = None) -> Any:
    """The ``SessionOptions`` used for every model.

    * intra-op threads = the function's vCPUs: one below 1,769 MB, so a 1-row request never wakes a
      thread pool (measured faster, see docs/readme/runtime.md); more only where Lambda gives cores;
      one on managed instances, where each concurrent request has a process of its own;
    * no spinning: a spinning pool burns the CPU share the request itself needs, and is billed;
    * inter-op 1 and sequential execution: converted scikit-learn graphs are chains of a few nodes;
    * all graph optimisations (they run once, at init, where provisioned concurrency or SnapStart pay
      for them), no profiling, warnings only when they matter.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = lambda_vcpus(environ)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_profiling = False
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class OnnxEngine:
    """Serves an ONNX graph with onnxruntime."""

    name = "onnx"

    def load(self, data: bytes, settings: Settings, file_format: str) -> LoadedModel:
        """Create the inference session from the verified bytes and read the cdk_sklearn metadata."""
        # Before the import: onnxruntime (1.32 and later) otherwise starts a telemetry thread that
        # uploads to Microsoft and writes a device id and an SQLite queue under XDG_CACHE_HOME, ~/.cache
        # or /tmp, the /tmp every worker process of a managed-instances environment shares.
        os.environ.setdefault(TELEMETRY_SWITCH, "1")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelLoadError(
                "the model is an ONNX file but onnxruntime is not installed in the function; deploy it "
                "with the ONNX engine's layer (onnxruntime and numpy)",
                detail=f"import onnxruntime: {exc!r}",
            ) from None
        try:
            session = ort.InferenceSession(
                data, sess_options=session_options(ort), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelLoadError(
                f"the ONNX model could not be loaded by onnxruntime {ort.__version__} "
                f"({type(exc).__name__}); convert it again with a target opset this onnxruntime supports",
                detail=f"InferenceSession: {exc}",
            ) from None
        meta = session.get_modelmeta()
        record = _record(meta.custom_metadata_map)
        inputs = _graph_inputs(session.get_inputs(), record)
        declared_outputs = session.get_outputs()
        output_names = [o.name for o in declared_outputs]
        outputs = _method_outputs(output_names, record)
        methods = tuple(m for m in PREDICTION_METHODS if m in outputs)
        if not methods:
            raise ModelLoadError(
                f"the ONNX graph's outputs {output_names} answer none of {', '.join(PREDICTION_METHODS)}; "
                f'name them in its "{ONNX_METADATA_KEY}" metadata ("outputs")',
            )
        classes = record.get("classes")
        classes = list(classes) if isinstance(classes, list) else None
        per_column = _is_per_column(inputs, record)
        if per_column:
            feature_names: tuple[str, ...] | None = tuple(i.column for i in inputs)
            n_features: int | None = len(inputs)
        else:
            names = record.get("feature_names")
            feature_names = tuple(str(n) for n in names) if isinstance(names, list) else None
            n_features = inputs[0].width or (len(feature_names) if feature_names else None)
        model = OnnxModel(session, inputs, outputs, per_column, len(classes) if classes else None)
        estimator_class = str(record.get("estimator_class") or f"onnx.{meta.graph_name or 'graph'}")
        return LoadedModel(
            estimator=model,
            sha256=settings.model_sha256 or "",
            file_format=file_format,
            size_bytes=len(data),
            estimator_class=estimator_class,
            n_features_in=n_features,
            feature_names_in=feature_names,
            classes=classes,
            methods=methods,
            load_warnings=(),
            load_seconds=0.0,  # the store times the whole load
            engine=self,
            details={
                "training_sklearn_version": record.get("training_sklearn_version"),
                "converter": record.get("converter"),
                "verification": record.get("verification"),
                "producer": meta.producer_name or None,
                "onnxruntime_version": ort.__version__,
                "intra_op_num_threads": session.get_session_options().intra_op_num_threads,
                "output_datatypes": {
                    method: _OUTPUT_DATATYPES.get(o.type, "BYTES")
                    for o in declared_outputs
                    for method, name in outputs.items()
                    if name == o.name
                },
            },
            input_specs=tuple(_input_spec(i, per_column) for i in inputs),
        )

    def prepare(self, table: Table, model: LoadedModel) -> ModelInput:
        """Check ``table`` as scikit-learn would, and build the session's feed without pandas."""
        graph: OnnxModel = model.estimator
        if graph.per_column:
            names = model.feature_names_in or ()
            return _column_feed(named_rows(table, names), graph.inputs, model)
        the_input = graph.inputs[0]
        if model.feature_names_in is not None:
            rows = named_rows(table, model.feature_names_in)
        else:
            refuse_names(table, model.n_features_in)
            rows = table.rows or []
        checked = numeric_rows(rows, model.n_features_in)
        if checked.has_missing and not the_input.allow_nan:
            raise missing_refused(model)
        return ModelInput(
            {the_input.name: _cast(checked.data, the_input, None)}, checked.n_rows, checked.has_missing
        )

    def call(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Run the graph for the output answering ``method``; onnxruntime's exceptions propagate."""
        graph: OnnxModel = model.estimator
        result = graph.session.run([graph.outputs[method]], model_input.data)[0]
        # Shape the answer as scikit-learn's method would: a single-target regressor's [N, 1] output
        # is predict's [N]; a binary classifier's raw scores [N, 2] are decision_function's [N]
        # (the positive class's score).
        if result.ndim == 2 and result.shape[1] == 1 and method == "predict":
            return result.ravel()
        if (
            method == "decision_function"
            and graph.n_classes == 2
            and result.ndim == 2
            and result.shape[1] == 2
        ):
            return result[:, 1]
        return result

    def predict(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Run ``method``; a failure the request's values caused is a 400 naming the row and column.

        Raises
        ------
        BadRequest
            onnxruntime refused the feed because of its values (a wrong type or shape, a category
            the model never saw): see :mod:`.onnx_errors` for how that is told from a fault of the
            model or runtime, which propagates and becomes a 500.
        """
        try:
            return self.call(model, method, model_input)
        except Exception as exc:
            graph: OnnxModel = model.estimator
            output = graph.outputs[method]

            def run(feed: Mapping[str, Any]) -> Any:
                return graph.session.run([output], feed)

            columns = [i.column for i in graph.inputs] if graph.per_column else [graph.inputs[0].name]
            short = model.estimator_class.rsplit(".", 1)[-1]
            refusal = data_refusal(exc, run, model_input.data, model_input.n_rows, columns, short)
            if refusal is None:
                raise
            raise refusal from None

    def warm_up_input(self, model: LoadedModel) -> ModelInput | None:
        """One row of zeros (empty strings for string inputs); ``None`` when a width is unknown."""
        graph: OnnxModel = model.estimator
        feed: dict[str, Any] = {}
        for graph_input in graph.inputs:
            width = 1 if graph.per_column else graph_input.width or model.n_features_in
            if width is None:
                return None
            if graph_input.onnx_type == _STRING:
                feed[graph_input.name] = np.full((1, width), "", dtype=object)
            else:
                feed[graph_input.name] = np.zeros((1, width), dtype=_NUMERIC[graph_input.onnx_type][0])
        return ModelInput(feed, 1, False)

    def describe(self, model: LoadedModel) -> dict[str, Any]:
        """``engine``, onnxruntime's version, the session's threads, the converter's record."""
        details = model.details
        return {
            "engine": self.name,
            "runtime_onnxruntime_version": details.get("onnxruntime_version"),
            "intra_op_num_threads": details.get("intra_op_num_threads"),
            "producer": details.get("producer"),
            "converter": details.get("converter"),
            "verification": details.get("verification"),
        }


ENGINE = OnnxEngine()
"""The one instance the app uses."""


def _record(custom: Mapping[str, str]) -> dict[str, Any]:
    """The JSON object under ``cdk_sklearn`` in metadata_props; empty when the graph has none."""
    text = custom.get(ONNX_METADATA_KEY)
    if text is None:
        return {}
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ModelLoadError(
            f'the ONNX model\'s "{ONNX_METADATA_KEY}" metadata is not a JSON object; convert the model '
            "again with cdk-sklearn",
            detail=f"metadata_props[{ONNX_METADATA_KEY!r}] = {text[:200]!r}",
        )
    schema = record.get("schema", ONNX_METADATA_SCHEMA)
    if schema != ONNX_METADATA_SCHEMA:
        raise ModelLoadError(
            f'the ONNX model\'s "{ONNX_METADATA_KEY}" metadata has schema {str(schema)[:20]}, but this '
            f"runtime reads schema {ONNX_METADATA_SCHEMA}; deploy it with the cdk-sklearn that converted it",
        )
    return record


def _graph_inputs(declared: list[Any], record: Mapping[str, Any]) -> tuple[GraphInput, ...]:
    described = {str(item.get("name")): item for item in record.get("inputs") or [] if isinstance(item, dict)}
    inputs = []
    for node in declared:
        if node.type != _STRING and node.type not in _NUMERIC:
            raise ModelLoadError(
                f"the ONNX graph's input {node.name!r} has type {node.type}, which this runtime cannot "
                "feed from JSON or CSV; convert with float, double, int64 or string inputs",
            )
        shape = list(node.shape or [])
        width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        if len(shape) == 1:
            width = 1
        info = described.get(node.name, {})
        inputs.append(
            GraphInput(
                name=node.name,
                column=str(info.get("column") or node.name),
                onnx_type=node.type,
                width=width,
                allow_nan=info.get("allow_nan") is True,
            )
        )
    if not inputs:
        raise ModelLoadError("the ONNX graph has no inputs; convert the fitted estimator again")
    return tuple(inputs)


def _is_per_column(inputs: tuple[GraphInput, ...], record: Mapping[str, Any]) -> bool:
    if len(inputs) > 1 or inputs[0].onnx_type == _STRING:
        return True
    # A single numeric input is one named column only when the metadata gives it a column name.
    return any(isinstance(item, dict) and item.get("column") for item in record.get("inputs") or [])


def _method_outputs(names: list[str], record: Mapping[str, Any]) -> dict[str, str]:
    given = record.get("outputs")
    if isinstance(given, dict):
        chosen = {str(m): str(o) for m, o in given.items() if m in PREDICTION_METHODS and o in names}
        if chosen:
            return chosen
    found: dict[str, str] = {}
    if "label" in names:
        found["predict"] = "label"
    elif len(names) == 1:
        found["predict"] = names[0]  # a regressor's only output ("variable")
    if "probabilities" in names:
        found["predict_proba"] = "probabilities"
    return found


def _input_spec(graph_input: GraphInput, per_column: bool) -> dict[str, Any]:
    datatype = "BYTES" if graph_input.onnx_type == _STRING else _NUMERIC[graph_input.onnx_type][1]
    width = 1 if per_column else (graph_input.width or -1)
    return {
        "name": graph_input.column if per_column else graph_input.name,
        "datatype": datatype,
        "shape": [-1, width],
    }


def _cast(array: Any, graph_input: GraphInput, column: str | None) -> Any:
    """``array`` (float64) as the input's declared dtype; refuses values the dtype cannot hold."""
    dtype = _NUMERIC[graph_input.onnx_type][0]
    if dtype is np.float64:
        return array
    if dtype is np.float32:
        too_large = np.abs(np.nan_to_num(array)) > _FLOAT32_MAX
        if too_large.any():
            raise BadRequest(
                f"{_cell(too_large, column)} is too large for a 32-bit float; send smaller numbers"
            )
        return array.astype(np.float32)
    low, high = _INT_RANGES[dtype]
    with np.errstate(invalid="ignore"):
        # NaN compares false everywhere, so it lands in `wrong` too: an integer cannot be missing.
        wrong = ~((array >= low) & (array < high) & (array == np.floor(array)))
    if wrong.any():
        bits = np.dtype(dtype).itemsize * 8
        raise BadRequest(
            f"{_cell(wrong, column)} is {float(array[tuple(np.argwhere(wrong)[0])])!r}, but this input takes "
            f"whole numbers from {int(low)} to {int(high) - 1} ({bits}-bit integers); send an integer in "
            "that range"
        )
    return array.astype(dtype)


def _cell(mask: Any, column: str | None) -> str:
    """``row i, column c`` of the first true cell of a [rows, columns] mask."""
    row, col = (int(i) for i in np.argwhere(mask)[0])
    return f"row {row}, column {column!r}" if column is not None else f"row {row}, column {col}"


def _column_feed(rows: list[list[Any]], inputs: tuple[GraphInput, ...], model: LoadedModel) -> ModelInput:
    feed: dict[str, Any] = {}
    has_missing = False
    for j, graph_input in enumerate(inputs):
        column = graph_input.column
        cells = [row[j] for row in rows]
        if graph_input.onnx_type == _STRING:
            for i, cell in enumerate(cells):
                if not isinstance(cell, str):
                    if cell is None:
                        raise missing_refused(model, (i, column))
                    raise refused_cell(i, column, cell, TAKES_STRINGS)
            feed[graph_input.name] = np.array(cells, dtype=object).reshape(-1, 1)
            continue
        values = np.empty(len(cells), dtype=np.float64)
        for i, cell in enumerate(cells):
            values[i] = _number(cell, i, column)
        if np.isinf(values).any():
            row = int(np.argwhere(np.isinf(values))[0][0])
            raise BadRequest(f"row {row}, column {column!r} is infinite; send finite numbers")
        if np.isnan(values).any():
            if not graph_input.allow_nan:
                raise missing_refused(model)
            has_missing = True
        feed[graph_input.name] = _cast(values.reshape(-1, 1), graph_input, column)
    return ModelInput(feed, len(rows), has_missing)


def _number(cell: Any, i: int, column: str) -> float:
    if cell is None:
        return math.nan
    if isinstance(cell, (bool, int, float)):
        try:
            return float(cell)
        except OverflowError:
            raise BadRequest(
                f"row {i}, column {column!r} is too large; send numbers within 64 bits"
            ) from None
    if isinstance(cell, str):
        try:
            return float(cell)
        except ValueError:
            raise refused_cell(i, column, cell, TAKES_NUMBERS) from None
    raise refused_cell(i, column, cell, TAKES_NUMBERS)
