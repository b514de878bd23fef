"""A bounded load test of ``cdk-sklearn serve`` on loopback (about 5 s on two cores)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.load_serve import cases_for, report, run_load, serve
from tests.helpers import models

REQUESTS = int(os.environ.get("LOAD_REQUESTS", "2000"))
CONCURRENCY = 16


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("load") / "iris.joblib"
    models.save(models.scaled_pipeline(), path)
    return path


@pytest.mark.slow
def test_serve_answers_every_request_correctly_under_concurrent_load(model_path: Path) -> None:
    cases = cases_for(model_path)
    assert {c.status for c in cases} == {200, 400, 404, 405, 415}  # valid and invalid mixed
    with serve(model_path) as url:
        result = run_load(url, cases, REQUESTS, CONCURRENCY)
    print(report(result, REQUESTS, CONCURRENCY))
    assert result.connection_errors == []
    assert result.wrong_answers == []
    assert len(result.latencies_ms) == REQUESTS
