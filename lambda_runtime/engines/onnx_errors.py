"""Which onnxruntime failures the request's data caused, and the 400 that says what to change.

onnxruntime reports a kernel's refusal of a value with the same exception classes as a broken graph:
``InvalidArgument`` for a feed of the wrong type or shape, but ``Fail`` (or ``RuntimeException``) both
for a category an encoder never saw in training (``OneHotEncoder`` with ``handle_unknown="error"``)
and for a fault of the model or the runtime. The data is to blame when the failure follows a row: the
same graph runs some rows and fails on another. So, only after a failure (never on the success path),
the rows are run one at a time (at most :data:`~.diagnosis.DIAGNOSED_ROWS` of them): a row that fails
alone while another passes is named, and so is its column, found by giving it the passing row's value
in one input at a time. A failure every row shares, with no message known to be about a value, stays a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import BadRequest
from .diagnosis import locate_rows

ORT_ERRORS = frozenset({"InvalidArgument", "Fail", "RuntimeException"})
"""onnxruntime's exception classes that can be about the input's values (others, such as
``NotImplemented`` or ``InvalidGraph``, are always faults of the model or the runtime)."""
# Kernel messages that always mean a value the model cannot take, whatever the other rows do.
_VALUE_MESSAGES = {
    "Unknown Category": "a category the model did not see in training",
}

# onnxruntime's build paths and C++ signatures ("/onnxruntime_src/...h:91 onnxruntime::F(...)").
_SOURCE = re.compile(r"\S*/\S+:\d+|\S+::\S+\([^)]*\)")

Run = Callable[[Mapping[str, Any]], Any]


def data_refusal(
    exc: Exception, run: Run, feed: Mapping[str, Any], n_rows: int, columns: list[str], short: str
) -> BadRequest | None:
    """The 400 for ``exc`` if the request's data caused it, else ``None`` (a fault: 500).

    Parameters
    ----------
    exc
        What ``run(feed)`` raised.
    run
        Runs the graph on a feed (input name -> array with a row per request row).
    feed
        The request's feed.
    n_rows
        Rows in ``feed``.
    columns
        The request column each input of ``feed`` takes, in the feed's order.
    short
        The estimator's class name, for the message.
    """
    kind = type(exc).__name__
    if kind not in ORT_ERRORS:
        return None
    text = _status_message(str(exc))
    known = next((why for marker, why in _VALUE_MESSAGES.items() if marker in text), None)
    bad, good = _locate(run, feed, n_rows)
    if bad is None and n_rows == 1 and (known or kind == "InvalidArgument"):
        bad = 0
    if kind != "InvalidArgument" and known is None and (bad is None or good is None):
        return None
    why = known or f"onnxruntime said: {text[:300]}"
    where = "" if bad is None else f"row {bad}{_column(run, feed, bad, good, columns)}: "
    return BadRequest(
        f"{where}the model ({short}) refused the input ({why}); check the values against what the "
        "model was trained on"
    )


def _status_message(text: str) -> str:
    """The kernel's own words (after ``Status Message:``), on one line, without source locations."""
    text = text.rsplit("Status Message:", 1)[-1]
    text = _SOURCE.sub("", text)
    return " ".join(text.split())


def _row(feed: Mapping[str, Any], i: int) -> dict[str, Any]:
    return {name: array[i : i + 1] for name, array in feed.items()}


def _passes(run: Run, feed: Mapping[str, Any]) -> bool:
    try:
        run(feed)
    except Exception:
        return False
    return True


def _locate(run: Run, feed: Mapping[str, Any], n_rows: int) -> tuple[int | None, int | None]:
    """The first row that fails alone and the first that passes, among the first rows."""
    return locate_rows(lambda i: _passes(run, _row(feed, i)), n_rows)


def _column(run: Run, feed: Mapping[str, Any], bad: int, good: int | None, columns: list[str]) -> str:
    """``, column 'c' = value`` for the one input whose value makes row ``bad`` fail, if found."""
    names = list(feed)
    failing = _row(feed, bad)
    if len(names) == 1:
        one = failing[names[0]]
        return f", column {columns[0]!r} = {_value(one)}" if one.size == 1 else ""
    if good is not None:
        passing = _row(feed, good)
        for k, name in enumerate(names):
            if _passes(run, {**failing, name: passing[name]}):
                return f", column {columns[k]!r} = {_value(failing[name])}"
    # No passing row to compare with: show the row's text cells, where unseen categories hide.
    texts = [
        f"{columns[k]!r} = {_value(failing[n])}" for k, n in enumerate(names) if failing[n].dtype == object
    ]
    return f" ({', '.join(texts[:8])})" if texts else ""


def _value(array: Any) -> str:
    return repr(array.ravel()[0].item() if hasattr(array.ravel()[0], "item") else array.ravel()[0])[:80]
