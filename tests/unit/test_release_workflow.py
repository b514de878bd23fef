"""The release workflow publishes through trusted publishing, only from a tag, only after the tests and the
reproducibility check, and only the bytes that check built."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import PROJECT_DIR

WORKFLOW = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "release.yml").read_text())
JOBS: dict[str, Any] = WORKFLOW["jobs"]
PUBLISH_ACTION = "pypa/gh-action-pypi-publish@"


def _steps(job: str) -> list[dict[str, Any]]:
    return list(JOBS[job]["steps"])


def _needs(job: str) -> set[str]:
    needs = JOBS[job].get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


def _upstream(job: str) -> set[str]:
    found: set[str] = set()
    for parent in _needs(job):
        found |= {parent, *_upstream(parent)}
    return found


def _publishing_jobs() -> list[str]:
    return [
        job for job in JOBS if any(step.get("uses", "").startswith(PUBLISH_ACTION) for step in _steps(job))
    ]


def test_runs_only_for_version_tags():
    triggers = WORKFLOW[True]  # YAML 1.1 reads the key `on` as true
    assert triggers == {"push": {"tags": ["v*"]}}


def test_default_token_can_only_read():
    assert WORKFLOW["permissions"] == {"contents": "read"}


def test_one_job_publishes_in_the_pypi_environment_with_an_oidc_token():
    (job,) = _publishing_jobs()
    assert JOBS[job]["environment"]["name"] == "pypi"
    assert JOBS[job]["permissions"] == {"id-token": "write"}


def test_no_other_job_can_mint_an_oidc_token():
    others = [job for job in JOBS if job not in _publishing_jobs()]
    assert all("id-token" not in JOBS[job].get("permissions", {}) for job in others)


def test_publishing_waits_for_the_tag_check_the_ci_and_the_reproducibility_check():
    (job,) = _publishing_jobs()
    assert {"verify", "test", "test-python", "build"} <= _upstream(job)
    assert ".ci/run" in "".join(step.get("run", "") for step in _steps("test"))
    assert "devtools.release verify-tag" in "".join(step.get("run", "") for step in _steps("verify"))


def test_build_job_builds_twice_and_compares():
    assert "python -m devtools.release reproduce" in "".join(step.get("run", "") for step in _steps("build"))


def test_publish_uploads_the_checked_bytes_without_building_again():
    (job,) = _publishing_jobs()
    runs = "".join(step.get("run", "") for step in _steps(job))
    assert "sha256sum --check" in runs and "build" not in runs
    assert not any(step.get("uses", "").startswith("actions/checkout@") for step in _steps(job))


def test_checkouts_keep_no_credentials():
    checkouts = [
        step for job in JOBS for step in _steps(job) if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)
