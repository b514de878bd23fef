"""The record and report under docs/aws-proof/."""

from __future__ import annotations

import dataclasses
import json

from devtools.awsproof.report import (
    Check,
    ProofRecord,
    latest_record,
    markdown,
    mask_account,
    write_report,
)
from tests.unit.devtools.awsproof.fakes import START


def record(**changes):
    base = ProofRecord(
        run_id="ap2611300945c0de",
        region="eu-west-1",
        account=mask_account("123456789012"),
        started=START,
        versions={"cdk-sklearn": "0.1.0", "cdk CLI": "2.1148.1"},
        environments=[
            {
                "name": "dev",
                "stack": "SklearnProof-dev-ap1",
                "cold_start": "none",
                "front_doors": ["Iris: http_api"],
            }
        ],
        checks=[Check("cold start", "dev", "Iris (none)", True, "Init Duration 1543 ms")],
    )
    return dataclasses.replace(base, **changes)


def test_every_check_passed_is_a_pass():
    assert record().result == "passed"


def test_fails_when_a_check_failed():
    assert (
        record(checks=[Check("call", "dev", "Iris http_api POST predict", False, "HTTP 503")]).result
        == "failed"
    )


def test_fails_when_a_step_stopped_the_run():
    assert record(error="DeployError: cdk deploy failed").result == "failed"


def test_fails_without_any_check():
    assert record(checks=[]).result == "failed"


def test_report_files_are_named_by_date_and_run(tmp_path):
    paths = write_report(record(), tmp_path)
    assert [p.name for p in paths] == ["2026-11-30-ap2611300945c0de.json", "2026-11-30-ap2611300945c0de.md"]


def test_json_record_holds_each_check_with_its_figure(tmp_path):
    json_path, _ = write_report(record(), tmp_path)
    assert json.loads(json_path.read_text())["checks"][0]["figure"] == "Init Duration 1543 ms"


def test_markdown_names_region_and_versions():
    text = markdown(record())
    assert "region: eu-west-1" in text and "cdk CLI 2.1148.1" in text


def test_latest_record_is_the_newest(tmp_path):
    write_report(record(), tmp_path)
    later = dataclasses.replace(record(run_id="ap2612011200beef"), started=START.replace(month=12, day=1))
    write_report(later, tmp_path)
    assert latest_record(tmp_path)["run_id"] == "ap2612011200beef"


def test_no_record_yet(tmp_path):
    assert latest_record(tmp_path) is None
