"""Every batch row accounted for, over generated input files (the class of issue 21 findings 3, 5, 10).

Files mix line lengths (past a lowered maximum), LF/CRLF/bare-CR line ends, quotes, a BOM, ``#``,
deeply nested JSON, unseen categories, blank lines, wrong field counts, and are cut at every split
size. Each file is scored as the state machine does (plan, then every work item); the test checks
that the rows in are the rows predicted plus the rows refused, each line answered or refused
exactly once, and each prediction the estimator's own for that line, computed here from the raw
bytes with the csv and json modules and scikit-learn. ``BATCH_FUZZ_EXAMPLES`` sets the count (default 30).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_runtime import contract
from lambda_runtime.batch import LocalStore, plan, score, score_work_item, storage
from tests.helpers.batch import job, loaded

# Its own budget: each example scores whole files (about 0.13 s), so CI's 10,000 handler events would
# take it over 20 minutes; .ci/run sets a few hundred.
FUZZ_EXAMPLES = int(os.environ.get("BATCH_FUZZ_EXAMPLES", "30"))
LIMIT = 48
"""The maximum line length while fuzzing: small, so long lines are cheap to generate."""
COLOURS = ("red", "blue")


def _frame_estimator() -> Any:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=40), "colour": rng.choice(COLOURS, size=40)})
    target = 3 * frame["x"] + (frame["colour"] == "red") * 10
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="error"), ["colour"])], remainder="passthrough"
    )
    return make_pipeline(encode, LinearRegression()).fit(frame, target)


def _array_estimator() -> Any:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    features = rng.normal(size=(40, 2))
    return LinearRegression().fit(features, features @ [2.0, -5.0] + 1)


@pytest.fixture(scope="module")
def fuzz_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    folder = tmp_path_factory.mktemp("fuzz-models")
    estimators = {"frame": _frame_estimator(), "array": _array_estimator()}
    return {kind: (estimator, loaded(estimator, folder, kind)) for kind, estimator in estimators.items()}


# -- generated files ---------------------------------------------------------------------------

numbers = st.one_of(st.floats(-1e6, 1e6, allow_nan=False).map(repr), st.integers(-1000, 1000).map(str))
number_cells = st.one_of(
    numbers,
    numbers.map(lambda n: f'"{n}"'),  # quoted: the csv module reads the number
    numbers.map(lambda n: f" {n} "),
    numbers.map(lambda n: f"{n}#garbage"),  # not a comment
    st.just(""),
    st.just(" " * 60 + "1.5"),  # past the maximum line length
)
colour_cells = st.sampled_from(["red", "blue", '"red"', " blue", "purple", "re#d"])


@st.composite
def csv_row(draw: st.DrawFn, kind: str) -> str:
    cells = [draw(number_cells), draw(colour_cells if kind == "frame" else number_cells)]
    if draw(st.integers(0, 9)) == 0:
        cells = cells[:1] if draw(st.booleans()) else [*cells, "1"]
    return ",".join(cells)


@st.composite
def jsonl_row(draw: st.DrawFn, kind: str) -> str:
    choice = draw(st.integers(0, 11))
    if choice == 0:
        # Unterminated, or past the recursion limit (and the lowered maximum line length; a deep
        # line within the real maximum is test_rows_accounted's)
        return "[" * draw(st.sampled_from([3, 2000]))
    if choice == 1:
        return '{"x": 1, "colour": "red"'  # not JSON
    x: Any = json.loads(draw(numbers)) if choice != 2 else "2.3#garbage"
    if kind == "frame":
        return json.dumps({"x": x, "colour": draw(st.sampled_from(["red", "blue", "purple"]))})
    return json.dumps([x, json.loads(draw(numbers))])


@st.composite
def input_files(draw: st.DrawFn) -> tuple[str, str, bytes]:
    kind = draw(st.sampled_from(["frame", "array"]))
    fmt = draw(st.sampled_from(contract.BATCH_FORMATS))
    rows = draw(st.lists(csv_row(kind) if fmt == "csv" else jsonl_row(kind), max_size=14))
    rows += draw(st.lists(st.sampled_from(["", "   "]), max_size=2))  # blank lines
    rows = draw(st.permutations(rows))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(rows), max_size=len(rows)))
    body = "".join(row + end for row, end in zip(rows, ends, strict=True))
    if rows and draw(st.booleans()):
        body = body.removesuffix(ends[-1])  # no newline at the end
    header = ("x,colour" if kind == "frame" else "x,y") + draw(st.sampled_from(["\n", "\r\n"]))
    text = (header if fmt == "csv" else "") + body
    bom = "\ufeff" if fmt == "csv" and draw(st.booleans()) else ""
    return kind, fmt, (bom + text).encode()


# -- the oracle: each line decoded here, independently of the batch code -----------------------


def _lines(data: bytes, fmt: str) -> dict[int, bytes]:
    """The rows of a file by offset: LF ends a line, CR of CRLF dropped, blank lines and the CSV
    header left out."""
    rows: dict[int, bytes] = {}
    offset = 0
    for raw in data.split(b"\n"):
        line = raw.removesuffix(b"\r")
        if line.strip() and not (fmt == "csv" and offset == 0) and offset < len(data):
            rows[offset] = line
        offset += len(raw) + 1
    return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and str(value).strip() else None


def _features(line: bytes, kind: str, fmt: str) -> list[Any] | None:
    """The line's features as the estimator takes them, or None when the line is not a valid row."""
    if len(line) > LIMIT:
        return None
    try:
        text = line.decode("utf-8")
        cells: Any = next(csv.reader([text])) if fmt == "csv" else json.loads(text)
    except (ValueError, csv.Error, RecursionError):
        return None
    if fmt == "jsonl" and kind == "frame":
        if not isinstance(cells, dict) or set(cells) != {"x", "colour"}:
            return None
        cells = [cells["x"], cells["colour"]]
    if not isinstance(cells, list) or len(cells) != 2:
        return None
    x = _number(cells[0])
    if kind == "frame":
        colour = cells[1].strip() if isinstance(cells[1], str) else None
        return [x, colour] if x is not None and colour in COLOURS else None
    y = _number(cells[1])
    return [x, y] if x is not None and y is not None else None


def _expected(estimator: Any, kind: str, features: list[Any]) -> float:
    if kind == "frame":
        import pandas as pd

        return float(estimator.predict(pd.DataFrame([features], columns=["x", "colour"]))[0])
    return float(estimator.predict(np.array([features], dtype=float))[0])


def _answers(
    store: LocalStore, summary: dict[str, Any], fmt: str
) -> tuple[list[tuple[int, float]], list[int]]:
    predicted: list[tuple[int, float]] = []
    for key in summary["outputs"]:
        text = store.read_all("out", key).decode()
        if fmt == "csv":
            records: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(text)))
        else:
            records = [json.loads(line) for line in text.splitlines()]
        predicted += [(int(r["offset"]), float(r["prediction"])) for r in records]
    refused = [
        int(json.loads(line)["offset"])
        for key in summary["error_objects"]
        for line in store.read_all("out", key).decode().splitlines()
    ]
    return predicted, refused


# -- the property ------------------------------------------------------------------------------


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(
    generated=input_files(), split=st.integers(16, 10_000), chunk=st.integers(4, 64), batch=st.integers(1, 5)
)
def test_every_row_is_predicted_with_its_own_answer_or_refused_exactly_once(
    fuzz_models: dict[str, tuple[Any, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    generated: tuple[str, str, bytes],
    split: int,
    chunk: int,
    batch: int,
) -> None:
    kind, fmt, data = generated
    estimator, model = fuzz_models[kind]
    root = tmp_path_factory.mktemp("fuzz")
    store = LocalStore({"in": root / "in", "out": root / "out"})
    store.write("in", "data/f", io.BytesIO(data))
    # Every split size from 16 bytes to the whole file (each range of a long line scans to its end).
    the_job = job(format=fmt, split_bytes=16 + split % (len(data) + 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(contract, "MAX_LINE_BYTES", LIMIT)
        patch.setattr(storage, "READ_CHUNK", chunk)  # lines cross reads
        patch.setattr(score, "MINI_BATCH_ROWS", batch)  # refused rows share mini-batches
        planned = plan(store, the_job, "fuzz")
        items = [json.loads(line) for line in store.read_all("out", planned["manifest_key"]).splitlines()]
        summaries = [score_work_item(store, the_job, model, item) for item in items]
    rows = _lines(data, fmt)
    predicted: list[tuple[int, float]] = []
    refused: list[int] = []
    for summary in summaries:
        got = _answers(store, summary, fmt)
        predicted += got[0]
        refused += got[1]
    answered = sorted([offset for offset, _ in predicted] + refused)
    assert answered == sorted(rows), "each row answered or refused exactly once"
    assert sum(s["rows"] for s in summaries) == len(rows)
    assert sum(s["predicted"] for s in summaries) == len(predicted)
    assert sum(s["errors"] for s in summaries) == len(refused)
    for offset in refused:
        assert _features(rows[offset], kind, fmt) is None, rows[offset]
    for offset, value in predicted:
        features = _features(rows[offset], kind, fmt)
        assert features is not None, rows[offset]
        assert math.isclose(value, _expected(estimator, kind, features), rel_tol=1e-9, abs_tol=1e-9)
