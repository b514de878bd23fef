"""refusing / one_line: a converter or onnxruntime failure becomes one line; the process's own do not."""

from __future__ import annotations

import onnxruntime as ort
import pytest

from cdk_sklearn.model.onnx.errors import ConversionError, one_line, refusing


def _onnxruntime_failure() -> Exception:
    try:
        ort.InferenceSession(b"not a graph", providers=["CPUExecutionProvider"])
    except Exception as exc:
        return exc
    raise AssertionError("onnxruntime loaded a graph from garbage")


def test_one_line_drops_the_onnxruntime_status_prefix():
    line = one_line(_onnxruntime_failure())
    assert "[ONNXRuntimeError]" not in line and line.startswith(type(_onnxruntime_failure()).__name__ + ": ")


def test_one_line_keeps_the_first_line_only():
    assert one_line(RuntimeError("Imputer(1) has no kernel\n  at node 3\n  at graph")) == (
        "RuntimeError: Imputer(1) has no kernel"
    )


def test_one_line_bounds_a_long_message():
    assert len(one_line(ValueError("x" * 5000))) < 300


def test_refusing_turns_an_onnxruntime_failure_into_a_conversion_error():
    expected = r"^M as ONNX fails \(.*\); serve it with the scikit-learn engine$"
    with pytest.raises(ConversionError, match=expected), refusing("M", "as ONNX fails"):
        raise _onnxruntime_failure()


def test_refusing_lets_keyboard_interrupt_through():
    with pytest.raises(KeyboardInterrupt), refusing("M", "as ONNX fails"):
        raise KeyboardInterrupt


def test_refusing_lets_memory_error_through():
    with pytest.raises(MemoryError), refusing("M", "as ONNX fails"):
        raise MemoryError


def test_refusing_lets_import_error_through():
    with pytest.raises(ModuleNotFoundError), refusing("M", "as ONNX fails"):
        import cdk_sklearn_no_such_module  # noqa: F401
