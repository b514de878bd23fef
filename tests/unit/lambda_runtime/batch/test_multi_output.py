"""Multi-output models in batch: each row gets its own answer whatever the mini-batch size (issue 21 #4)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from lambda_runtime import contract
from lambda_runtime.batch import LocalStore, score_segment
from tests.helpers import models
from tests.helpers.batch import job, loaded
from tests.unit.lambda_runtime.conftest import two_output_forest

N_OUTPUTS = 2


def scored(tmp_path: Path, estimator: Any, text: str, file_format: str) -> list[Any]:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    store = LocalStore({"in": tmp_path / "in", "out": tmp_path / "out"})
    store.write("in", "data/a", io.BytesIO(text.encode()))
    model = loaded(estimator, tmp_path)
    the_job = job(format=file_format, method="predict_proba")
    summary = score_segment(store, the_job, model, "data/a", 0, len(text))
    body = store.read_all("out", summary["outputs"][0]).decode()
    if file_format == "csv":
        return [json.loads(row[contract.PREDICTION_FIELD]) for row in csv.DictReader(io.StringIO(body))]
    return [json.loads(line)[contract.PREDICTION_FIELD] for line in body.splitlines()]


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_multi_output_probabilities_stay_on_their_rows_when_rows_equal_outputs(tmp_path, file_format):
    estimator = two_output_forest()
    features, _ = models.iris()
    rows = features[[0, 100]]  # as many rows as the model has outputs, of different classes
    assert len(rows) == N_OUTPUTS == len(estimator.classes_)
    if file_format == "csv":
        text = "a,b,c,d\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    else:
        text = "".join(json.dumps([float(v) for v in row]) + "\n" for row in rows)
    expected = [[part[i].tolist() for part in estimator.predict_proba(rows)] for i in range(len(rows))]
    assert scored(tmp_path, estimator, text, file_format) == expected
