"""The batch entry point over local folders: planning, line alignment, rows in, predictions and errors out."""

from __future__ import annotations

import csv
import io
import json
from itertools import pairwise
from typing import Any

import pytest

from lambda_runtime import contract
from lambda_runtime.batch import (
    BatchJobError,
    LocalStore,
    handle_batch,
    owned_lines,
    plan_work_items,
    score_segment,
    score_work_item,
    summarize,
)
from lambda_runtime.model import LoadedModel
from tests.helpers import models
from tests.helpers.batch import IRIS_HEADER, iris_csv, job, loaded


def put(store: LocalStore, key: str, text: str) -> None:
    store.write("in", key, io.BytesIO(text.encode()))


def read_out(store: LocalStore, key: str) -> str:
    return store.read_all("out", key).decode()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_line_belongs_to_exactly_one_range_wherever_the_cuts_fall(store):
    text = "h\nalpha\n\nbeta\r\ngamma-delta\nlast"
    put(store, "data/a.csv", text)
    size = len(text)
    expected = [(0, b"h"), (2, b"alpha"), (8, b""), (9, b"beta"), (15, b"gamma-delta"), (27, b"last")]
    for cut in range(size + 1):
        first = list(owned_lines(store, "in", "data/a.csv", 0, cut))
        second = list(owned_lines(store, "in", "data/a.csv", cut, size))
        assert first + second == expected, cut


def test_plan_splits_a_large_object_into_ranges_of_split_bytes():
    items = list(plan_work_items([("data/big.csv", 250)], split_bytes=100))
    assert [item["segments"] for item in items] == [
        [{"key": "data/big.csv", "start": 0, "end": 100}],
        [{"key": "data/big.csv", "start": 100, "end": 200}],
        [{"key": "data/big.csv", "start": 200, "end": 250}],
    ]


def test_plan_packs_small_objects_up_to_split_bytes():
    objects = [(f"data/{i}.csv", 30) for i in range(5)]
    items = list(plan_work_items(objects, split_bytes=100))
    assert [item["bytes"] for item in items] == [90, 60]


def test_plan_leaves_out_empty_objects_and_folder_markers():
    assert list(plan_work_items([("data/", 0), ("data/empty.csv", 0)], split_bytes=100)) == []


def test_plan_writes_the_manifest_under_the_run_folder(store):
    put(store, "data/a.csv", iris_csv())
    result = plan_and_read(store, split_bytes=1000)
    assert result["manifest_key"] == contract.batch_manifest_key("scored/", "run-1")
    assert result["work_items"] == len(result["items"]) > 1


def plan_and_read(store: LocalStore, **job_fields: Any) -> dict[str, Any]:
    from lambda_runtime.batch import plan

    result = plan(store, job(**job_fields), "run-1")
    manifest = read_out(store, result["manifest_key"])
    return {**result, "items": [json.loads(line) for line in manifest.splitlines()]}


def score_all(store: LocalStore, model: LoadedModel, **job_fields: Any) -> dict[str, Any]:
    from lambda_runtime.batch import add_summary, empty_summary

    planned = plan_and_read(store, **job_fields)
    total = empty_summary()
    for item in planned["items"]:
        add_summary(total, score_work_item(store, job(**job_fields), model, item))
    return total


def test_every_row_is_predicted_once_across_ranges(store, forest):
    put(store, "data/a.csv", iris_csv())
    summary = score_all(store, forest, split_bytes=700, id_column="id")
    ids = [row["id"] for key in summary["outputs"] for row in csv_rows(read_out(store, key))]
    assert sorted(ids) == sorted(f"r{i}" for i in range(150))


def test_predictions_equal_the_estimators(store, forest):
    put(store, "data/a.csv", iris_csv())
    summary = score_all(store, forest, id_column="id")
    (key,) = summary["outputs"]
    predicted = [int(row[contract.PREDICTION_FIELD]) for row in csv_rows(read_out(store, key))]
    assert predicted == forest.estimator.predict(models.iris()[0]).tolist()


def test_rows_without_id_column_are_identified_by_object_and_offset(store, forest):
    put(store, "data/a.csv", "a,b,c,d\n5.1,3.5,1.4,0.2\n")
    summary = score_all(store, forest)
    rows = csv_rows(read_out(store, summary["outputs"][0]))
    first_row_offset = len("a,b,c,d\n")
    assert (rows[0]["object"], rows[0]["offset"]) == ("data/a.csv", str(first_row_offset))


def test_output_key_is_derived_from_object_and_range_start(store, forest):
    put(store, "data/sub/a.csv", iris_csv(3))
    summary = score_all(store, forest)
    assert summary["outputs"] == ["scored/sub/a.csv/part-000000000000000.csv"]


def test_malformed_rows_go_to_the_errors_object_with_their_reason(store, forest):
    put(store, "data/a.csv", IRIS_HEADER + "\nr0,5.1,3.5,1.4,0.2\nr1,5.1,oops,1.4,0.2\nr2,5.1\n")
    summary = score_all(store, forest, id_column="id")
    (key,) = summary["error_objects"]
    errors = {e["id"]: e["reason"] for e in map(json.loads, read_out(store, key).splitlines())}
    assert "'oops', not a number" in errors["r1"] and "2 fields" in errors["r2"]


def test_summary_accounts_for_every_row(store, forest):
    put(store, "data/a.csv", IRIS_HEADER + "\nr0,5.1,3.5,1.4,0.2\nr1,5.1,oops,1.4,0.2\nr2,5.1\n")
    summary = score_all(store, forest, id_column="id")
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (3, 1, 2)


def test_a_row_the_model_refuses_does_not_cost_its_neighbours(store, frame_model):
    lines = ["colour,size,weight", "red,S,10.0", "purple,M,9.5", "blue,L,11.0"]  # purple: unknown category
    put(store, "data/a.csv", "\n".join(lines) + "\n")
    summary = score_all(store, frame_model)
    assert (summary["predicted"], summary["errors"]) == (2, 1)


def test_dataframe_model_reads_columns_by_name(store, frame_model):
    put(store, "data/a.csv", "weight,size,colour\n10.0,S,red\n")
    summary = score_all(store, frame_model)
    rows = csv_rows(read_out(store, summary["outputs"][0]))
    assert rows[0][contract.PREDICTION_FIELD] == "hot"


def test_jsonl_records_keep_their_id(store, frame_model):
    put(store, "data/a.jsonl", '{"key": 7, "colour": "red", "size": "S", "weight": 10.0}\n')
    summary = score_all(store, frame_model, format="jsonl", id_column="key")
    (record,) = map(json.loads, read_out(store, summary["outputs"][0]).splitlines())
    assert record == {"key": 7, contract.PREDICTION_FIELD: "hot"}


def test_predict_proba_writes_one_column_per_class(store, forest):
    put(store, "data/a.csv", iris_csv(1))
    summary = score_all(store, forest, method="predict_proba", id_column="id")
    header = read_out(store, summary["outputs"][0]).splitlines()[0]
    assert header == "id,predict_proba_0,predict_proba_1,predict_proba_2"


def test_fails_on_an_id_column_missing_from_the_header(store, forest):
    put(store, "data/a.csv", iris_csv(1))
    with pytest.raises(BatchJobError, match="id_column 'key'"):
        score_segment(store, job(id_column="key"), forest, "data/a.csv", 0, 10_000)


def test_fails_on_a_method_the_model_lacks(store, tmp_path):
    model = loaded(models.regressor(), tmp_path)
    put(store, "data/a.csv", "a,b,c\n1,2,3\n")
    with pytest.raises(BatchJobError, match="predict_proba"):
        score_segment(store, job(method="predict_proba"), model, "data/a.csv", 0, 100)


def test_summarize_adds_up_the_result_writers_files(store):
    results = "scored/_runs/step-functions-results/map-run"
    child = {contract.SUMMARY_ROWS: 5, contract.SUMMARY_PREDICTED: 4, contract.SUMMARY_ERRORS: 1}
    child.update({contract.SUMMARY_OUTPUTS: ["o"], contract.SUMMARY_ERROR_OBJECTS: ["e"]})
    lines = [json.dumps({"Output": json.dumps(child), "Status": "SUCCEEDED"})] * 2
    store.write("out", f"{results}/SUCCEEDED_0.json", io.BytesIO("\n".join(lines).encode()))
    failed = json.dumps({"Input": json.dumps({"Items": [{"segments": []}]}), "Status": "FAILED"})
    store.write("out", f"{results}/FAILED_0.json", io.BytesIO(failed.encode()))
    manifest = {
        "ResultFiles": {
            "SUCCEEDED": [{"Key": f"{results}/SUCCEEDED_0.json"}],
            "FAILED": [{"Key": f"{results}/FAILED_0.json"}],
        }
    }
    store.write("out", f"{results}/manifest.json", io.BytesIO(json.dumps(manifest).encode()))
    counts = summarize(store, job(), "run-1", {"Bucket": "out", "Key": f"{results}/manifest.json"})
    assert (counts["rows"], counts["errors"], counts["failed_work_items"]) == (10, 2, 1)


def test_fails_on_an_event_without_an_action(store):
    with pytest.raises(BatchJobError, match="action"):
        handle_batch({contract.BATCH_EVENT_KEY: {"job": {}}}, lambda: None, store)  # type: ignore[arg-type,return-value]


def frame_csv() -> str:
    frame, _ = models.ct_frame(40)
    lines = [f"{i},{row.colour},{row.size},{row.weight!r}" for i, row in enumerate(frame.itertuples())]
    return "\n".join(["id,colour,size,weight", *lines]) + "\n"


@pytest.mark.parametrize(("model_name", "text"), [("forest", iris_csv()), ("frame_model", frame_csv())])
def test_vectorized_csv_path_writes_the_bytes_of_the_row_by_row_path(
    store, request, monkeypatch, model_name, text
):
    from lambda_runtime.batch import score

    model = request.getfixturevalue(model_name)
    put(store, "data/a.csv", text)
    fast = score_segment(store, job(id_column="id"), model, "data/a.csv", 0, len(text))
    fast_bytes = read_out(store, fast["outputs"][0])
    monkeypatch.setattr(score, "fast_csv", lambda *args: None)
    slow = score_segment(store, job(id_column="id"), model, "data/a.csv", 0, len(text))
    assert read_out(store, slow["outputs"][0]) == fast_bytes


@pytest.mark.parametrize(("model_name", "text"), [("forest", iris_csv()), ("frame_model", frame_csv())])
def test_clean_csv_takes_the_vectorized_path(store, request, monkeypatch, model_name, text):
    from lambda_runtime.batch import score

    taken = []
    original = score.fast_csv
    monkeypatch.setattr(score, "fast_csv", lambda *args: taken.append(original(*args)) or taken[-1])
    put(store, "data/a.csv", text)
    score_segment(store, job(id_column="id"), request.getfixturevalue(model_name), "data/a.csv", 0, len(text))
    assert taken and all(result is not None for result in taken)


def test_the_http_handler_hands_batch_events_to_the_batch_entry(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "forest.joblib"
    digest = models.save(models.random_forest(), path)
    probe = (
        "import lambda_runtime.handler as h\n"
        "try:\n"
        "    h.handler({'cdk_sklearn_batch': {'action': 'unknown'}}, None)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    env = {**os.environ, "MODEL_URI": str(path), "MODEL_SHA256": digest}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "BatchJobError"  # after the init log line


@pytest.fixture(scope="module")
def gradient_boosting(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return loaded(models.frame_pipeline(), tmp_path_factory.mktemp("hgb"))


TRICKY_CELLS = [
    ("nan", "M", "10.0"),
    ("NaN", "S", "1"),
    (" red", "M", "9.5"),
    ("red ", "L", "9"),
    ("1_000", "S", "3"),
    ("3", "M", "2"),
    ("True", "L", "1"),
    ('"red"', "S", "1.5"),
    ("red", "M", "inf"),
    ("red", "M", "1_0"),
    ("rëd", "S", "1"),
    ("red", "M", ""),
    ("", "M", "1"),
    ("red", "M", "99999999999999999999"),
    ("red", "M", "1e3"),
    ("red", "S", "nan"),
    ("red", "S", "0x10"),
    ("red", "S", "١٢"),
    ("red", "S", " 7 "),
    ("false", "S", "2"),
    ("NA", "L", "1"),
    ("null", "M", "1"),
]
"""(colour, size, weight) cells a vectorized parser and the codec may read apart."""


def tricky_frame_csv(id_at: int | None) -> str:
    """Clean rows and, between them, cells the vectorized parser and the codec may read apart.

    The id column is at index ``id_at`` (None: no id column).
    """

    def line(ident: str, *cells: str) -> str:
        fields = list(cells)
        if id_at is not None:
            fields.insert(id_at, ident)
        return ",".join(fields)

    clean = [("blue", "S", "9.5"), ("green", "M", "11"), ("red", "L", "10.25"), ("blue", "M", "-0.0")]
    tricky = TRICKY_CELLS
    lines = []
    for i in range(40):
        colour, size, weight = clean[i % len(clean)] if i < 12 or i % 3 else tricky[i % len(tricky)]
        lines.append(line(f"r{i}", colour, size, weight))
    lines[20:20] = [
        "",
        "   ",
        line("r-few", "red", "S")[:-1],
        line("r-many", "red", "S", "1,2"),
        line("", "red", "S", "1"),
    ]
    lines[30] += "\r"
    lines += [line(f"t{i}", *cells) for i, cells in enumerate(tricky)]
    header = line("id", "colour", "size", "weight")
    return "\r\n".join([header, *lines[:10]]) + "\r\n" + "\n".join(lines[10:])  # no final newline


@pytest.mark.parametrize("id_at", [0, 1, None])
def test_vectorized_paths_write_the_bytes_of_the_row_by_row_path_on_tricky_csv(
    store, gradient_boosting, monkeypatch, id_at
):
    from lambda_runtime.batch import score, storage

    id_column = None if id_at is None else "id"
    text = tricky_frame_csv(id_at)
    put(store, "data/a.csv", text)
    size = len(text.encode())
    # Small reads and mini-batches: lines cross read chunks, mini-batches cross chunks and ranges.
    monkeypatch.setattr(storage, "READ_CHUNK", 37)
    monkeypatch.setattr(score, "MINI_BATCH_ROWS", 6)
    cuts = [0, 1, 50, 51, 230, 400, size]
    item = {"segments": [{"key": "data/a.csv", "start": a, "end": b} for a, b in pairwise(cuts)]}

    def outputs() -> tuple[dict[str, Any], list[bytes]]:
        summary = score_work_item(store, job(id_column=id_column), gradient_boosting, item)
        keys = summary["outputs"] + summary["error_objects"]
        return summary, [store.read_all("out", key) for key in keys]

    taken: list[Any] = []
    original = score.fast_csv
    monkeypatch.setattr(score, "fast_csv", lambda *args: taken.append(original(*args)) or taken[-1])
    fast = outputs()
    assert any(result is not None for result in taken) and any(result is None for result in taken)
    monkeypatch.setattr(score, "fast_csv", lambda *args: None)
    slow = outputs()
    assert fast == slow
    assert slow[0]["rows"] == 40 + 3 + 22 and slow[0]["errors"] >= 3


@pytest.mark.parametrize("cells", TRICKY_CELLS)
def test_one_tricky_row_among_clean_rows_gets_the_row_by_row_bytes(
    store, gradient_boosting, monkeypatch, cells
):
    from lambda_runtime.batch import score

    text = "id,colour,size,weight\nr0,blue,S,9.5\nr1,green,M,11\nr2,{},{},{}\nr3,red,L,10.25\n".format(*cells)
    put(store, "data/a.csv", text)

    def outputs() -> list[bytes]:
        summary = score_segment(
            store, job(id_column="id"), gradient_boosting, "data/a.csv", 0, len(text.encode())
        )
        return [store.read_all("out", key) for key in summary["outputs"] + summary["error_objects"]]

    fast = outputs()
    monkeypatch.setattr(score, "fast_csv", lambda *args: None)
    assert outputs() == fast


def test_an_onnx_model_is_scored_row_by_row_with_its_own_engine(store, tmp_path, monkeypatch):
    import hashlib

    from lambda_runtime.batch import score
    from lambda_runtime.config import Settings
    from lambda_runtime.store import load_model
    from tests.helpers import onnx_models

    estimator, data = onnx_models.column_transformer()
    path = onnx_models.save(data, tmp_path / "ct.onnx")
    digest = hashlib.sha256(data).hexdigest()
    model = load_model(
        Settings.from_environ({"MODEL_URI": str(path), "MODEL_SHA256": digest, "MODEL_FORMAT": "onnx"})
    )
    assert model.engine.name == "onnx"
    text = frame_csv().replace("\n3,", "\n3,purple,", 1)  # one row the encoder refuses, with 5 fields
    text = text.replace("\n4,", "\n\n4,", 1)  # a blank line
    put(store, "data/a.csv", text)
    taken: list[Any] = []
    original = score.fast_csv
    monkeypatch.setattr(score, "fast_csv", lambda *args: taken.append(original(*args)) or taken[-1])
    summary = score_segment(store, job(id_column="id"), model, "data/a.csv", 0, len(text))
    assert taken and all(result is None for result in taken)  # the vectorized paths are sklearn's only
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (40, 39, 1)
    frame, _ = models.ct_frame(40)
    rows = csv_rows(read_out(store, summary["outputs"][0]))
    expected = {str(i): str(v) for i, v in enumerate(estimator.predict(frame)) if i != 3}
    assert {row["id"]: row["prediction"] for row in rows} == expected
