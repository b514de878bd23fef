"""Why a model is not served as ONNX: a refusal is an exception whose message is one line.

Converters and onnxruntime fail in many ways (skl2onnx's ``RuntimeError``/``ValueError``/``KeyError``,
onnxruntime's ``Fail``, ``NotImplemented``, ``InvalidGraph``, ``RuntimeException``), often with a
multi-line dump. :func:`refusing` turns any of them into a :class:`ConversionError` that keeps the
useful head (the operator or node named), so ``engine="auto"`` can fall back and say why in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

_MAX_REASON: Final = 240
"""Characters of a failure's message kept in a refusal: enough for the operator, node and types."""
_ORT_PREFIX: Final = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*")
# onnxruntime prefixes every message with its status code ("[ONNXRuntimeError] : 9 : NOT_IMPLEMENTED :"),
# which the exception's class name already says.


class ConversionError(ValueError):
    """The model cannot be served as ONNX: no converter, a feature converters get wrong, or bad input.

    The message is one line; it names the estimator and what to do instead.
    """


class VerificationError(ConversionError):
    """The converted graph does not answer like the model on the sample or an edge row.

    Attributes
    ----------
    estimator
        The model's class name.
    rows
        The first rows (0-based in the sample, or edge-case names) that disagree.
    max_difference
        The largest absolute difference seen (``inf`` when labels or outcomes differ).
    """

    def __init__(self, message: str, *, estimator: str, rows: Sequence[str], max_difference: float) -> None:
        super().__init__(message)
        self.estimator = estimator
        self.rows = tuple(rows)
        self.max_difference = max_difference


def one_line(exc: BaseException) -> str:
    """``"<ExceptionType>: <first line of its message>"``, without onnxruntime's status prefix.

    Parameters
    ----------
    exc
        Any exception.

    Returns
    -------
    str
        One line of at most about 240 characters of message.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    head = _ORT_PREFIX.sub("", lines[0]).rstrip(".") if lines else ""
    # KeyError's str() is the repr of the key; keep it as it is, it names the missing key.
    if len(head) > _MAX_REASON:
        head = head[: _MAX_REASON - 3].rstrip() + "..."
    name = type(exc).__name__
    return f"{name}: {head}" if head else name


@contextmanager
def refusing(estimator: str, stage: str) -> Iterator[None]:
    """Turn any failure inside the block into a one-line :class:`ConversionError`.

    A :class:`ConversionError` passes unchanged, and so does an ``ImportError`` (the caller says which
    extra to install) and a ``MemoryError`` (the machine, not the model, is the problem). Only
    ``Exception`` is caught: ``KeyboardInterrupt``, ``SystemExit`` and other ``BaseException`` propagate.

    Parameters
    ----------
    estimator
        The model's short name (:func:`~cdk_sklearn.model.onnx.estimators.describe`).
    stage
        What was being done, e.g. ``"could not be converted to ONNX"``.
    """
    try:
        yield
    except (ConversionError, ImportError, MemoryError):
        raise
    except Exception as exc:
        raise ConversionError(
            f"{estimator} {stage} ({one_line(exc)}); serve it with the scikit-learn engine"
        ) from exc
