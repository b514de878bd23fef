"""``python -m devtools.awsproof`` (``make aws-proof``): deploy dev, staging and prod to a sandbox
account, prove what only AWS can show, write docs/aws-proof/, and tear everything down.

``--dry-run`` prints the plan and the cost estimate and needs nothing. A real run needs AWS
credentials, ``AWS_PROOF_ACCOUNT`` equal to their account, and a region; without them it explains
in one paragraph and exits 2. boto3 and botocore are imported only when the command runs; aws_cdk
never is (the CDK CLI runs the proof app in its own process).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devtools.awsproof.clock import SystemClock
from devtools.awsproof.plan import (
    ENVIRONMENTS,
    ProofPlan,
    build_plan,
    check_run_id,
    format_plan,
    new_run_id,
    read_environments,
)
from devtools.awsproof.report import REPORT_DIR
from devtools.awsproof.session import (
    ACCOUNT_VARIABLE,
    NotConfirmed,
    confirm_account,
    preconditions,
    region_from,
)

EXIT_NOT_CONFIRMED = 2
EXIT_FAILED = 1
EXIT_USAGE = 2
DRY_RUN_REGION = "us-east-1"
PROG = "python -m devtools.awsproof"


def build_parser() -> argparse.ArgumentParser:
    """The proof's command line: ``--dry-run``, ``--keep``, ``--region``, ``--run-id``, ``--project-dir``."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.awsproof",
        description=(
            "Deploy the dev, staging and prod environments of the example app (the iris model and a "
            "DataFrame pipeline) to a sandbox account, call every route through every front door "
            "(SigV4), measure cold starts from REPORT lines, check the metrics the alarms read, prove a "
            "CodeDeploy rollback on alarm, write docs/aws-proof/<date>-<run>.json and .md, and delete "
            f"everything. Needs AWS credentials, {ACCOUNT_VARIABLE}=<their account id> and a region."
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan and cost estimate; touch nothing"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stacks in place for inspection")
    parser.add_argument(
        "--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)"
    )
    parser.add_argument("--run-id", help="run id suffixing stack and model names (default: generated)")
    parser.add_argument(
        "--project-dir", type=Path, default=Path.cwd(), help="the project (cdk.json, node_modules, models)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the proof (or its dry run); return the exit code.

    A run id or cdk.json the plan refuses is one line on stderr and exit code 2, like a usage error.
    """
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _plan(args: argparse.Namespace, region: str, account: str | None) -> ProofPlan:
    run_id = check_run_id(args.run_id) if args.run_id else new_run_id(SystemClock().now())
    return build_plan(run_id, region, account, read_environments(args.project_dir / "cdk.json"))


def _commands(plan: ProofPlan, project_dir: Path) -> dict[str, list[str]]:
    from devtools.awsproof import deploy  # botocore: paid only by this command

    work = Path(".cache") / "aws-proof" / plan.run_id
    models = {"iris": Path("models/iris.joblib"), "frame": work / "frame.joblib"}
    return {
        env.name: deploy.cdk_deploy_argv(
            env,
            plan.run_id,
            cdk="node_modules/.bin/cdk",
            python="python",
            outputs_file=work / f"{env.name}-outputs.json",
            out_dir=work / f"cdk.out-{env.name}",
            model_paths=models,
        )
        for env in plan.environments
    }


def run(args: argparse.Namespace) -> int:
    """Print the plan (``--dry-run``), or confirm the account and run the proof."""
    if args.dry_run:
        region = region_from(os.environ, args.region) or DRY_RUN_REGION
        plan = _plan(args, region, os.environ.get(ACCOUNT_VARIABLE) or None)
        print(format_plan(plan, _commands(plan, args.project_dir)))
        print(f"\ndry run: nothing created. Environments: {', '.join(ENVIRONMENTS)}.")
        return 0
    import boto3

    session: Any = boto3.Session(region_name=args.region) if args.region else boto3.Session()
    try:
        target = preconditions(session, os.environ, args.region)
        clients = {name: session.client(name, region_name=target.region) for name in _CLIENTS}
        account = confirm_account(clients["sts"], target.account)
    except NotConfirmed as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NOT_CONFIRMED
    plan = _plan(args, target.region, account)
    print(format_plan(plan, _commands(plan, args.project_dir)), file=sys.stderr)
    return _execute(plan, args, session, clients)


_CLIENTS = ("sts", "cloudformation", "cloudwatch", "logs", "lambda", "codedeploy", "s3")


def _execute(plan: ProofPlan, args: argparse.Namespace, session: Any, clients: dict[str, Any]) -> int:
    from devtools.awsproof import deploy
    from devtools.awsproof.calls import SignedCaller, urllib_transport
    from devtools.awsproof.run import ProofRun, Services, Settings

    project = args.project_dir.resolve()
    clock = SystemClock()
    settings = Settings(
        project_dir=project,
        work_dir=project / ".cache" / "aws-proof" / plan.run_id,
        report_dir=project / REPORT_DIR,
        cdk=str(project / "node_modules" / ".bin" / "cdk"),
        keep=args.keep,
    )
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    services = Services(
        cloudformation=clients["cloudformation"],
        cloudwatch=clients["cloudwatch"],
        logs=clients["logs"],
        lambda_=clients["lambda"],
        codedeploy=clients["codedeploy"],
        s3=clients["s3"],
    )
    caller = SignedCaller(lambda: session.get_credentials().get_frozen_credentials(), clock, urllib_transport)
    proof = ProofRun(
        plan,
        services,
        settings,
        runner=deploy.subprocess_runner,
        caller=caller,
        transport=urllib_transport,
        clock=clock,
        say=lambda line: print(line, file=sys.stderr),
    )
    record, _ = proof.execute()
    return 0 if record.result == "passed" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
