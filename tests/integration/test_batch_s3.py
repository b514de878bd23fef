"""The batch entry point with real boto3 against an S3 server on loopback (moto in server mode).

Objects in, output and error objects out, a rerun idempotent: the same keys with the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from lambda_runtime import contract
from lambda_runtime.batch import S3Store, handle_batch
from lambda_runtime.model import LoadedModel
from tests.helpers import models
from tests.helpers.batch import IRIS_HEADER, iris_csv, job, loaded

MALFORMED = "r999,5.1,not-a-number,1.4,0.2\n"
IN, OUT = "batch-in", "batch-out"


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    # boto3 itself honours AWS_ENDPOINT_URL_S3: the runtime has no test-only switch.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3")
    for bucket in (IN, OUT):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=IN, Key="data/a.csv", Body=iris_csv().encode())
    client.put_object(Bucket=IN, Key="data/b/c.csv", Body=(IRIS_HEADER + "\n" + MALFORMED).encode())
    yield client
    for bucket in (IN, OUT):
        for entry in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=entry["Key"])
        client.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return loaded(models.random_forest(), tmp_path_factory.mktemp("forest"))


def run(forest: LoadedModel, s3: Any) -> dict[str, Any]:
    """Plan, score every work item, summarize: what the state machine does, minus Step Functions."""
    job_event = job(bucket=IN, output_bucket=OUT, id_column="id", split_bytes=1024).to_event()

    def call(**body: Any) -> dict[str, Any]:
        return handle_batch({contract.BATCH_EVENT_KEY: {"job": job_event, **body}}, lambda: forest)

    planned = call(action="plan", run="run-1")
    manifest = s3.get_object(Bucket=OUT, Key=planned["manifest_key"])["Body"].read().decode()
    children = [call(action="score", items=[json.loads(line)]) for line in manifest.splitlines()]
    return {"planned": planned, "children": children}


def objects(s3: Any) -> dict[str, bytes]:
    keys = [e["Key"] for e in s3.list_objects_v2(Bucket=OUT).get("Contents", [])]
    return {key: s3.get_object(Bucket=OUT, Key=key)["Body"].read() for key in keys}


def test_a_range_planned_object_is_split_into_several_work_items(forest, s3):
    planned = run(forest, s3)["planned"]
    assert planned["objects"] == 2 and planned["work_items"] > 2


def test_every_input_row_is_in_an_output_object(forest, s3):
    run(forest, s3)
    rows = [
        line.split(",")[0]
        for key, body in objects(s3).items()
        if "/part-" in key
        for line in body.decode().splitlines()[1:]
    ]
    assert sorted(rows) == sorted(f"r{i}" for i in range(150))


def test_the_malformed_row_is_in_the_errors_object_of_its_range(forest, s3):
    run(forest, s3)
    body = objects(s3)[contract.batch_error_key("scored/", "data/", "data/b/c.csv", 0)]
    (error,) = map(json.loads, body.decode().splitlines())
    assert error["id"] == "r999" and "not a number" in error["reason"]


def test_children_summaries_account_for_every_row(forest, s3):
    children = run(forest, s3)["children"]
    assert sum(c["rows"] for c in children) == 151
    assert sum(c["errors"] for c in children) == 1


def test_rerun_writes_the_same_keys_with_the_same_bytes(forest, s3):
    run(forest, s3)
    first = objects(s3)
    run(forest, s3)
    assert objects(s3) == first


def test_segments_carry_the_etag_s3_listed(forest, s3):
    planned = run(forest, s3)["planned"]
    manifest = s3.get_object(Bucket=OUT, Key=planned["manifest_key"])["Body"].read().decode()
    etags = {
        s["key"]: s[contract.SEGMENT_ETAG]
        for line in manifest.splitlines()
        for s in json.loads(line)["segments"]
    }
    assert etags["data/a.csv"] == s3.head_object(Bucket=IN, Key="data/a.csv")["ETag"]


def test_fails_the_work_item_of_an_object_replaced_after_planning(forest, s3):
    from lambda_runtime.batch import BatchJobError

    job_event = job(bucket=IN, output_bucket=OUT, id_column="id", split_bytes=1024).to_event()
    body = {"job": job_event, "action": "plan", "run": "run-1"}
    planned = handle_batch({contract.BATCH_EVENT_KEY: body}, lambda: forest)
    manifest = s3.get_object(Bucket=OUT, Key=planned["manifest_key"])["Body"].read().decode()
    item = next(json.loads(line) for line in manifest.splitlines() if "data/a.csv" in line)
    s3.put_object(Bucket=IN, Key="data/a.csv", Body=iris_csv(120).encode())  # If-Match: 412
    score = {"job": job_event, "action": "score", "items": [item]}
    with pytest.raises(BatchJobError, match="changed after the run was planned"):
        handle_batch({contract.BATCH_EVENT_KEY: score}, lambda: forest)


def test_the_run_summary_names_its_output_manifest(forest, s3):
    from lambda_runtime.batch import add_summary, empty_summary, write_summary

    children = run(forest, s3)["children"]
    total = empty_summary()
    for child in children:
        add_summary(total, child)
    written = write_summary(S3Store(), job(bucket=IN, output_bucket=OUT), "run-1", total, [])
    listing = json.loads(s3.get_object(Bucket=OUT, Key=written["outputs_key"])["Body"].read())
    assert sorted(listing["outputs"] + listing["error_objects"]) == sorted(
        key for key in objects(s3) if "/_runs/" not in key
    )
