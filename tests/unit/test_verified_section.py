"""The guide "What is verified, and where" (docs/readme/verified.md) agrees with the AWS proof records."""

from __future__ import annotations

from devtools.awsproof.plan import build_plan, read_environments
from devtools.awsproof.report import latest_record
from tests.conftest import PROJECT_DIR

SECTION = PROJECT_DIR / "docs" / "readme" / "verified.md"


def test_last_run_paragraph_matches_the_committed_records():
    last_run = SECTION.read_text().split("### Last run on AWS", 1)[1]
    latest = latest_record(PROJECT_DIR / "docs" / "aws-proof")
    if latest is None:
        assert "No run on AWS has been recorded yet" in last_run
    else:
        assert latest["started"][:10] in last_run and latest["result"] in last_run


def test_cost_figure_is_the_plans_estimate():
    plan = build_plan("ap0000000000abcd", "us-east-1", None, read_environments(PROJECT_DIR / "cdk.json"))
    figure = f"about ${plan.cost.total_usd:.2f} for a run of about {plan.cost.hours:.1f} h"
    assert figure in SECTION.read_text()
