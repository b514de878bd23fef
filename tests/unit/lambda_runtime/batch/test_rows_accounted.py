"""Every batch row accounted for: one reproduction per finding of issue 21 (3, 5, 10, 11).

3: a row's data never fails the work item; 5: a maximum line length, read in linear time and
bounded memory; 10: the vectorized paths give what row-by-row decoding gives; 11: reads tied to the
planned object version, and a per-run output manifest.
"""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
from typing import Any

import pytest

from lambda_runtime import contract
from lambda_runtime.batch import (
    BatchJobError,
    LocalStore,
    handle_batch,
    owned_line_blocks,
    plan,
    score_segment,
    score_work_item,
    write_summary,
)
from lambda_runtime.model import LoadedModel
from tests.helpers import models
from tests.helpers.batch import iris_csv, job, loaded


@pytest.fixture(scope="module")
def gradient_boosting(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return loaded(models.frame_pipeline(), tmp_path_factory.mktemp("hgb"))


def put(store: LocalStore, key: str, data: str | bytes) -> int:
    body = data.encode() if isinstance(data, str) else data
    store.write("in", key, io.BytesIO(body))
    return len(body)


def errors_of(store: LocalStore, summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for key in summary["error_objects"]
        for line in store.read_all("out", key).decode().splitlines()
    ]


def predictions_of(store: LocalStore, summary: dict[str, Any]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for key in summary["outputs"]:
        text = store.read_all("out", key).decode()
        if key.endswith(".jsonl"):
            rows.update((r["id"], r["prediction"]) for r in map(json.loads, text.splitlines()))
        else:
            rows.update((r["id"], r["prediction"]) for r in csv.DictReader(io.StringIO(text)))
    return rows


def frame_jsonl(n: int) -> list[str]:
    frame, _ = models.ct_frame(n)
    return [
        json.dumps({"id": str(i), "colour": r.colour, "size": r.size, "weight": r.weight})
        for i, r in enumerate(frame.itertuples())
    ]


# -- finding 3: one bad row never fails the work item ------------------------------------------


def test_a_json_line_nested_past_the_recursion_limit_is_that_rows_error(store, frame_model):
    lines = frame_jsonl(10)
    lines[4] = "[" * 100_000
    size = put(store, "data/a.jsonl", "\n".join(lines) + "\n")
    summary = score_segment(store, job(format="jsonl", id_column="id"), frame_model, "data/a.jsonl", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (10, 9, 1)
    assert "nested too deeply" in errors_of(store, summary)[0]["reason"]


def test_an_unseen_category_on_the_onnx_engine_is_that_rows_error(store, tmp_path):
    import hashlib

    from lambda_runtime.config import Settings
    from lambda_runtime.store import load_model
    from tests.helpers import onnx_models

    estimator, data = onnx_models.column_transformer()
    path = onnx_models.save(data, tmp_path / "ct.onnx")
    environment = {"MODEL_URI": str(path), "MODEL_SHA256": hashlib.sha256(data).hexdigest()}
    model = load_model(Settings.from_environ({**environment, "MODEL_FORMAT": "onnx"}))
    frame, _ = models.ct_frame(12)
    lines = frame_jsonl(12)
    lines[5] = lines[5].replace(f'"colour": "{frame["colour"][5]}"', '"colour": "purple"')  # never seen
    size = put(store, "data/a.jsonl", "\n".join(lines) + "\n")
    summary = score_segment(store, job(format="jsonl", id_column="id"), model, "data/a.jsonl", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (12, 11, 1)
    assert errors_of(store, summary)[0]["id"] == "5"
    expected = {str(i): v for i, v in enumerate(estimator.predict(frame).tolist()) if i != 5}
    assert predictions_of(store, summary) == expected


def test_fails_the_work_item_on_a_storage_failure(store, forest, monkeypatch):
    from lambda_runtime.batch import score

    def unreachable(*args: Any) -> Any:
        raise ConnectionResetError("the network went away")

    size = put(store, "data/a.csv", iris_csv(20))
    monkeypatch.setattr(score, "fast_csv", lambda *args: None)
    monkeypatch.setattr(score, "predict_table", unreachable)
    with pytest.raises(ConnectionResetError):
        score_segment(store, job(id_column="id"), forest, "data/a.csv", 0, size)


def test_the_cli_scores_around_bad_rows_without_a_traceback(tmp_path, capsys):
    from cdk_sklearn.cli import main

    model = tmp_path / "ct.joblib"
    models.save(models.column_transformer(), model)
    (tmp_path / "in").mkdir()
    lines = frame_jsonl(10)
    lines[3] = "[" * 100_000
    (tmp_path / "in" / "a.jsonl").write_text("\n".join(lines) + "\n")
    argv = [
        "batch",
        "--model",
        str(model),
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
    ]
    code = main([*argv, "--format", "jsonl", "--id-column", "id", "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert code == 3 and "Traceback" not in captured.err  # finished, some rows refused
    assert json.loads(captured.out)["errors"] == 1


def test_fails_with_exit_2_before_scoring_when_the_id_column_is_not_in_the_header(tmp_path, capsys):
    from cdk_sklearn.cli import main

    model = tmp_path / "forest.joblib"
    models.save(models.random_forest(), model)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(iris_csv(5))
    argv = [
        "batch",
        "--model",
        str(model),
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
    ]
    code = main([*argv, "--id-column", "no-such-column", "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert (
        "a.csv cannot be scored, so nothing was: --id-column 'no-such-column' is not a column" in captured.err
    )
    assert captured.out == "" and not (tmp_path / "out").exists()


# -- finding 5: a maximum line length; reading stays linear ------------------------------------


def test_a_line_longer_than_the_maximum_is_an_error_record_and_the_next_rows_are_read(store, forest):
    rows = iris_csv(10).splitlines()
    long_row = "r-long," + "1" * (contract.MAX_LINE_BYTES + 10) + ",2,3,4"
    size = put(store, "data/a.csv", "\n".join([*rows[:5], long_row, *rows[5:]]) + "\n")
    summary = score_segment(store, job(id_column="id"), forest, "data/a.csv", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (11, 10, 1)
    (error,) = errors_of(store, summary)
    assert "longer than the maximum" in error["reason"] and error["offset"] == len("\n".join(rows[:5])) + 1
    assert len(error["line"]) <= 500


def test_reading_a_64_mib_line_keeps_memory_and_time_bounded(store):
    size = put(store, "data/a.csv", b"x" * (64 << 20) + b"\nlast\n")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        lines = [line for _, block in owned_line_blocks(store, "in", "data/a.csv", 0, size) for line in block]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(lines) == 2 and lines[1] == b"last" and len(lines[0]) <= 500
    assert peak < 8 << 20 and time.perf_counter() - started < 5


class CountingStore(LocalStore):
    """A local store that counts the bytes its reads yield."""

    read_bytes = 0

    def read(self, bucket: str, key: str, first: int, etag: str | None = None) -> Any:
        for chunk in super().read(bucket, key, first, etag):
            self.read_bytes += len(chunk)
            yield chunk


def test_a_range_inside_a_long_line_stops_reading_at_its_end(tmp_path, forest):
    from lambda_runtime.batch import storage

    store = CountingStore({"in": tmp_path / "in", "out": tmp_path / "out"})
    size = put(store, "data/a.csv", iris_csv(3).replace("\n", "\r") * 200_000)  # ~16 MiB, no LF
    start, end = 8 << 20, 9 << 20
    summary = score_segment(store, job(id_column="id"), forest, "data/a.csv", start, end)
    assert summary["rows"] == 0 and size > end
    # the header read and the range each stop within a read chunk of their bound
    assert store.read_bytes <= contract.MAX_LINE_BYTES + (end - start) + 4 * storage.READ_CHUNK


def test_a_csv_with_bare_cr_line_ends_is_an_error_record_not_a_crash(store, forest):
    size = put(store, "data/a.csv", iris_csv(5).replace("\n", "\r"))
    summary = score_segment(store, job(id_column="id"), forest, "data/a.csv", 0, size)
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (1, 0, 1)
    assert "LF or CRLF" in errors_of(store, summary)[0]["reason"]


# -- finding 10: the vectorized paths give what row-by-row decoding gives ----------------------


def test_a_hash_in_a_number_is_refused_as_row_by_row_decoding_refuses_it(store, forest):
    lines = iris_csv(6).splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0] + ",2.3#garbage"  # np.loadtxt read it as 2.3
    size = put(store, "data/a.csv", "\n".join(lines) + "\n")
    summary = score_segment(store, job(id_column="id"), forest, "data/a.csv", 0, size)
    assert (summary["predicted"], summary["errors"]) == (5, 1)
    assert errors_of(store, summary)[0]["id"] == "r3"


def test_a_quoted_comma_is_read_as_row_by_row_decoding_reads_it(store, gradient_boosting):
    frame, _ = models.ct_frame(6)
    lines = [f"{i},{r.colour},{r.size},{r.weight!r}" for i, r in enumerate(frame.itertuples())]
    lines[2] = '2,"red,S",M'  # three fields to the csv module (the header has four); pandas fills in
    size = put(store, "data/a.csv", "\n".join(["id,colour,size,weight", *lines]) + "\n")
    summary = score_segment(store, job(id_column="id"), gradient_boosting, "data/a.csv", 0, size)
    assert (summary["predicted"], summary["errors"]) == (5, 1)
    assert "fields" in errors_of(store, summary)[0]["reason"]


# -- finding 11: reads tied to the planned version; a per-run output manifest ------------------


def test_fails_the_work_item_of_an_object_replaced_after_planning(store, forest):
    put(store, "data/a.csv", iris_csv(20))
    the_job = job(id_column="id")
    planned = plan(store, the_job, "run-1")
    (item,) = [json.loads(line) for line in store.read_all("out", planned["manifest_key"]).splitlines()]
    assert item["segments"][0][contract.SEGMENT_ETAG]
    put(store, "data/a.csv", iris_csv(30))
    with pytest.raises(BatchJobError, match="changed after the run was planned"):
        score_work_item(store, the_job, forest, item)


def test_fails_the_work_item_of_an_object_deleted_after_planning(store, forest, tmp_path):
    put(store, "data/a.csv", iris_csv(20))
    the_job = job(id_column="id")
    planned = plan(store, the_job, "run-1")
    (item,) = [json.loads(line) for line in store.read_all("out", planned["manifest_key"]).splitlines()]
    (tmp_path / "in" / "data" / "a.csv").unlink()
    with pytest.raises(BatchJobError, match="changed after the run was planned"):
        score_work_item(store, the_job, forest, item)


def run_locally(store: LocalStore, model: LoadedModel, run: str, split_bytes: int) -> dict[str, Any]:
    event_job = job(id_column="id", split_bytes=split_bytes).to_event()

    def call(**body: Any) -> dict[str, Any]:
        return handle_batch({contract.BATCH_EVENT_KEY: {"job": event_job, **body}}, lambda: model, store)

    planned = call(action="plan", run=run)
    manifest = store.read_all("out", planned["manifest_key"]).decode()
    children = [call(action="score", items=[json.loads(line)]) for line in manifest.splitlines()]
    total = {name: [] for name in ("outputs", "error_objects")}
    counts = {name: sum(child[name] for child in children) for name in ("rows", "predicted", "errors")}
    for child in children:
        for name in total:
            total[name] += child[name]
    return write_summary(store, job(id_column="id"), run, {**counts, **total}, [])


def test_the_run_lists_exactly_its_own_output_objects(store, forest):
    size = put(store, "data/a.csv", iris_csv() + "r999,1,x,2,3\n")
    run_locally(store, forest, "run-1", split_bytes=500)
    written = run_locally(store, forest, "run-2", split_bytes=2000)
    listing = json.loads(store.read_all("out", written["outputs_key"]))
    keys = sorted(entry.key for entry in store.list("out", "scored/") if "_runs/" not in entry.key)
    ours = sorted(listing["outputs"] + listing["error_objects"])
    assert set(ours) < set(keys)  # the first run's other ranges remain: nothing is deleted
    last = (size - 1) // 2000 * 2000
    assert ours == sorted(
        [contract.batch_output_key("scored/", "data/", "data/a.csv", s, "csv") for s in range(0, size, 2000)]
        + [contract.batch_error_key("scored/", "data/", "data/a.csv", last)]
    )
    predicted = sum(len(store.read_all("out", key).decode().splitlines()) - 1 for key in listing["outputs"])
    assert predicted == 150
