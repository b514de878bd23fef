"""The runtime on many processes (Lambda Managed Instances): the worker count, one thread per process,
and N real processes loading one model from a real S3 server on loopback at the same moment."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from lambda_runtime import s3_get
from lambda_runtime.engines.onnx import lambda_vcpus
from lambda_runtime.processes import (
    MAX_CONCURRENCY_ENV,
    THREAD_VARIABLES,
    one_thread_per_process,
    worker_processes,
)
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, http_api_event
from tests.support.deploy_proof import s3_server
from tests.support.worker_process import serve_once

WORKERS = 4
BUCKET = "managed-instances-assets"
KEY = "asset/forest.joblib"
ALLOCATOR_THREADS = {"jemalloc_bg_thd"}


def test_worker_processes_is_the_concurrency_managed_instances_set() -> None:
    assert worker_processes({MAX_CONCURRENCY_ENV: "4"}) == 4
    assert worker_processes({MAX_CONCURRENCY_ENV: " 16 "}) == 16


@pytest.mark.parametrize("value", [None, "", "0", "four", "-2", "1.5"])
def test_worker_processes_is_none_on_demand(value: str | None) -> None:
    assert worker_processes({} if value is None else {MAX_CONCURRENCY_ENV: value}) is None


def test_one_thread_per_process_sets_every_thread_pool_to_one() -> None:
    environ = {MAX_CONCURRENCY_ENV: "4", "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "1"}
    replaced = one_thread_per_process(environ)
    assert {name: environ[name] for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "1")
    assert replaced == {"OMP_NUM_THREADS": "3"}


def test_on_demand_thread_settings_are_left_alone() -> None:
    environ = {"OMP_NUM_THREADS": "2"}
    assert one_thread_per_process(environ) == {}
    assert environ == {"OMP_NUM_THREADS": "2"}


def test_an_onnx_session_uses_one_thread_per_worker_process() -> None:
    # 8,192 MB buys 5 vCPUs on demand; on managed instances the 8 processes share them instead.
    environ = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "8192"}
    assert lambda_vcpus(environ) == min(os.cpu_count() or 1, 5)
    assert lambda_vcpus({**environ, MAX_CONCURRENCY_ENV: "8"}) == 1


def test_the_model_read_may_take_longer_on_managed_instances() -> None:
    assert s3_get.deadline_seconds({}) == 8.0
    assert s3_get.deadline_seconds({MAX_CONCURRENCY_ENV: "4"}) == 60.0


# -- N processes at once ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forest() -> tuple[Any, bytes]:
    # n_jobs=-1: left alone, joblib would predict with one thread per CPU in every process.
    features, target = models.iris()
    model = RandomForestClassifier(n_estimators=20, max_depth=4, n_jobs=-1, random_state=0)
    model.fit(features, target)
    return model, models.dump_bytes(model)


def test_worker_processes_started_together_each_load_the_model_and_answer(
    forest: tuple[Any, bytes], tmp_path: Path
) -> None:
    model, data = forest
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    with s3_server() as endpoint:
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="proof", aws_secret_access_key="proof",
        )  # fmt: skip
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)
        environ = {
            "MODEL_URI": f"s3://{BUCKET}/{KEY}",
            "MODEL_SHA256": models.sha256(data),
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": "proof",
            "AWS_SECRET_ACCESS_KEY": "proof",
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "4096",
            MAX_CONCURRENCY_ENV: str(WORKERS),
            "OMP_NUM_THREADS": "3",  # what 4,096 MB would get on demand
            "TMPDIR": str(shared_tmp),
        }
        context = multiprocessing.get_context("spawn")  # fresh interpreters, as forked workers import anew
        barrier, results = context.Barrier(WORKERS), context.Queue()
        row = models.IRIS_ROW
        body = json.dumps({"instances": [row], "method": "predict_proba"})
        event = http_api_event("POST", "/predict", body, headers=JSON_HEADERS)
        processes = [
            context.Process(target=serve_once, args=(environ, barrier, results, event))
            for _ in range(WORKERS)
        ]
        for process in processes:
            process.start()
        answers = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    assert len({a["pid"] for a in answers}) == WORKERS
    expected = model.predict_proba(np.asarray([row]))
    for answer in answers:
        assert answer["load_error"] is None and answer["sha256"] == models.sha256(data), answer
        assert answer["status"] == 200, answer
        np.testing.assert_allclose(answer["body"]["predictions"], expected, rtol=1e-12, atol=0)
        # One thread per process: every native pool, joblib's n_jobs=-1, and the process itself (an
        # allocator's background thread, jemalloc's from a library of this machine, computes nothing).
        assert answer["pools"] == [1] and answer["joblib_jobs"] == 1, answer
        assert set(answer["other_threads"]) <= ALLOCATOR_THREADS, answer
    # Loading and answering wrote nothing to the /tmp the processes share.
    assert list(shared_tmp.iterdir()) == []
