"""The proof's record: a JSON file and a short Markdown report under ``docs/aws-proof/``.

A maintainer commits both after a run; the README's "What is verified, and where" section cites the
latest. The account id is masked to its last four digits: the report is public.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

REPORT_DIR: Final = Path("docs") / "aws-proof"
SCHEMA: Final = 1


@dataclass(frozen=True)
class Check:
    """One check of the run and its figure.

    Attributes
    ----------
    step
        ``deploy``, ``call``, ``cold start``, ``metric``, ``rollback`` or ``teardown``.
    environment
        ``dev``, ``staging``, ``prod``, or empty for the whole run.
    subject
        What was checked (a route and front door, a function, a metric).
    passed
        The verdict.
    figure
        The measured value, as shown ("Init Duration 1543 ms", "HTTP 200 in 84 ms").
    detail
        Why, in one line.
    """

    step: str
    environment: str
    subject: str
    passed: bool
    figure: str
    detail: str = ""


@dataclass
class ProofRecord:
    """Everything a run found, in the order it found it."""

    run_id: str
    region: str
    account: str
    started: dt.datetime
    versions: Mapping[str, str]
    environments: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None
    finished: dt.datetime | None = None
    kept: bool = False

    @property
    def result(self) -> str:
        """``passed`` when every check passed and no step failed, else ``failed``."""
        ok = self.error is None and bool(self.checks) and all(c.passed for c in self.checks)
        return "passed" if ok else "failed"

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (schema :data:`SCHEMA`)."""
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "result": self.result,
            "region": self.region,
            "account": self.account,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "versions": dict(self.versions),
            "environments": self.environments,
            "checks": [asdict(c) for c in self.checks],
            "error": self.error,
            "kept": self.kept,
        }


def mask_account(account: str) -> str:
    """``123456789012`` -> ``********9012``."""
    return "*" * max(len(account) - 4, 0) + account[-4:]


def report_stem(record: ProofRecord) -> str:
    """``<UTC date>-<run id>``: the reports' file name without extension."""
    return f"{record.started:%Y-%m-%d}-{record.run_id}"


def markdown(record: ProofRecord) -> str:
    """The short report: result, region, versions, and every check with its figure."""
    passed = sum(c.passed for c in record.checks)
    lines = [
        f"# AWS proof {record.run_id}: {record.result}",
        "",
        f"- date: {record.started:%Y-%m-%d %H:%M} UTC"
        + (f" to {record.finished:%H:%M} UTC" if record.finished else ""),
        f"- region: {record.region}; account {record.account}",
        f"- checks: {passed} of {len(record.checks)} passed",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in record.versions.items()),
    ]
    if record.error:
        lines.append(f"- stopped by: {record.error}")
    if record.kept:
        lines.append("- resources kept (--keep): delete the stacks by hand")
    lines += ["", "| environment | stack | cold start | front doors |", "|---|---|---|---|"]
    for env in record.environments:
        lines.append(
            f"| {env['name']} | {env['stack']} | {env['cold_start']} | {', '.join(env['front_doors'])} |"
        )
    lines += ["", "| step | environment | subject | result | figure |", "|---|---|---|---|---|"]
    for c in record.checks:
        verdict = "pass" if c.passed else f"FAIL: {c.detail}"
        lines.append(f"| {c.step} | {c.environment} | {c.subject} | {verdict} | {c.figure} |")
    return "\n".join(lines) + "\n"


def write_report(record: ProofRecord, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(record)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(record.to_json(), indent=2) + "\n")
    md_path.write_text(markdown(record))
    return json_path, md_path


def latest_record(out_dir: Path) -> dict[str, Any] | None:
    """The most recent committed record in ``out_dir`` (by start time), or None when there is none."""
    records: Sequence[dict[str, Any]] = [json.loads(p.read_text()) for p in sorted(out_dir.glob("*.json"))]
    return max(records, key=lambda r: str(r["started"]), default=None)
