"""Cold starts, from the ``REPORT`` lines Lambda writes after every invocation.

A ``REPORT`` line carries ``Init Duration`` when the invocation started a new execution environment
on demand, ``Restore Duration`` when SnapStart restored one from a snapshot, and neither when the
environment was already warm — which, on the first calls to an alias with provisioned concurrency,
shows that the pre-initialized environments answered::

    REPORT RequestId: 3f1c... Duration: 12.34 ms Billed Duration: 13 ms Memory Size: 1024 MB
    Max Memory Used: 180 MB Init Duration: 1543.21 ms
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from devtools.awsproof.clock import Clock, ProofTimeout, wait_for

REPORT_FILTER: Final = '"REPORT RequestId"'
LOG_POLL_SECONDS: Final = 10.0
LOG_TIMEOUT_SECONDS: Final = 300.0

_REQUEST_ID = re.compile(r"^REPORT RequestId: (?P<id>\S+)")
_FIELD = re.compile(
    r"(?P<name>Billed Restore Duration|Restore Duration|Init Duration|Billed Duration|Duration|"
    r"Memory Size|Max Memory Used): (?P<value>[0-9.]+) (?:ms|MB)"
)


@dataclass(frozen=True)
class Report:
    """One ``REPORT`` line."""

    request_id: str
    duration_ms: float
    billed_ms: float
    init_ms: float | None
    restore_ms: float | None
    max_memory_mb: float | None


def parse_report(message: str) -> Report | None:
    """Parse a ``REPORT`` log line; None for any other line."""
    head = _REQUEST_ID.match(message.strip())
    if head is None:
        return None
    fields = {m["name"]: float(m["value"]) for m in _FIELD.finditer(message)}
    if "Duration" not in fields:
        return None
    return Report(
        request_id=head["id"],
        duration_ms=fields["Duration"],
        billed_ms=fields.get("Billed Duration", 0.0),
        init_ms=fields.get("Init Duration"),
        restore_ms=fields.get("Restore Duration"),
        max_memory_mb=fields.get("Max Memory Used"),
    )


def fetch_reports(logs: Any, log_group: str, since: dt.datetime) -> list[Report]:
    """Every ``REPORT`` line of ``log_group`` since ``since`` (``filter_log_events``, all pages)."""
    kwargs: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": int(since.timestamp() * 1000),
        "filterPattern": REPORT_FILTER,
    }
    reports = []
    while True:
        page = logs.filter_log_events(**kwargs)
        for event in page.get("events", []):
            report = parse_report(event.get("message", ""))
            if report is not None:
                reports.append(report)
        if not page.get("nextToken"):
            return reports
        kwargs["nextToken"] = page["nextToken"]


def wait_for_reports(
    logs: Any,
    log_group: str,
    since: dt.datetime,
    *,
    at_least: int,
    clock: Clock,
    timeout: float = LOG_TIMEOUT_SECONDS,
    interval: float = LOG_POLL_SECONDS,
) -> list[Report]:
    """Poll until ``at_least`` REPORT lines have arrived (logs lag invocations by seconds to minutes).

    Returns what arrived by the deadline even when fewer: the judgement says what is missing.
    """
    seen: list[Report] = []

    def probe() -> list[Report] | None:
        seen[:] = fetch_reports(logs, log_group, since)
        return list(seen) if len(seen) >= at_least else None

    try:
        return wait_for(
            probe,
            what=f"{at_least} REPORT lines in {log_group}",
            timeout=timeout,
            interval=interval,
            clock=clock,
            last_seen=lambda: f"{len(seen)} lines",
        )
    except ProofTimeout:
        return list(seen)


@dataclass(frozen=True)
class ColdStartVerdict:
    """What the REPORT lines show for one function."""

    strategy: str
    passed: bool
    figure_ms: float | None
    figure: str
    detail: str


def judge_cold_start(strategy: str, reports: Sequence[Report]) -> ColdStartVerdict:
    """Judge the REPORT lines of one function against its cold-start strategy.

    Parameters
    ----------
    strategy
        ``none`` (on demand: an ``Init Duration`` must appear), ``snapstart`` (a ``Restore Duration``
        must appear) or ``provisioned`` (no line may carry an ``Init Duration``).
    reports
        The function's REPORT lines since it was deployed.
    """
    inits = [r.init_ms for r in reports if r.init_ms is not None]
    restores = [r.restore_ms for r in reports if r.restore_ms is not None]
    counts = (
        f"{len(reports)} REPORT lines, {len(inits)} with Init Duration, {len(restores)} with Restore Duration"
    )
    if not reports:
        return ColdStartVerdict(strategy, False, None, "no REPORT lines", "no REPORT line arrived in time")
    if strategy == "none":
        if not inits:
            return ColdStartVerdict(strategy, False, None, "no init", f"{counts}: no on-demand init seen")
        return ColdStartVerdict(strategy, True, max(inits), f"Init Duration {max(inits):.0f} ms", counts)
    if strategy == "snapstart":
        if not restores:
            return ColdStartVerdict(
                strategy, False, None, "no restore", f"{counts}: no SnapStart restore seen"
            )
        return ColdStartVerdict(
            strategy, True, max(restores), f"Restore Duration {max(restores):.0f} ms", counts
        )
    if strategy == "provisioned":
        median = statistics.median(r.duration_ms for r in reports)
        if inits:
            return ColdStartVerdict(
                strategy,
                False,
                max(inits),
                f"Init Duration {max(inits):.0f} ms",
                f"{counts}: an invocation initialized on demand instead of using provisioned concurrency",
            )
        return ColdStartVerdict(
            strategy,
            True,
            median,
            f"no init in {len(reports)} calls, median Duration {median:.1f} ms",
            counts,
        )
    raise ValueError(f"unknown cold-start strategy {strategy!r}; allowed: none, snapstart, provisioned")
