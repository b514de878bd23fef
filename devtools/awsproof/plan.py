"""What an AWS proof run creates, checks and costs, decided before anything touches AWS.

The plan is built from cdk.json's ``environments`` (read as JSON: no aws_cdk, so ``--dry-run`` needs
neither credentials nor jsii) and is what ``python -m devtools.awsproof --dry-run`` prints.

Each environment gets its own stack, ``SklearnProof-<env>-<run id>``, holding two endpoints configured
as the environment says (cold start, monitoring, rollout, memory): ``Iris``, the demo model behind the
environment's front door, and ``Frame``, a DataFrame pipeline behind another front door, so the three
environments between them exercise the HTTP API, the REST API and the Function URL, all with IAM auth.
Model names carry the environment and the run id: the runtime's metrics are keyed by ``ModelName``
alone, and two environments (or an earlier run) sharing a name would read each other's metrics.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cdk_sklearn.cost.prices import HOURS_PER_MONTH, PRICES_CHECKED, REGION, price
from lambda_runtime import contract
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_MEMORY_MB

ENVIRONMENTS: Final = ("dev", "staging", "prod")
"""The environments a run deploys, in order (cdk.json ``environments``)."""
RUN_TAG: Final = "cdk-sklearn:aws-proof-run"
"""Tag key carried by every stack (and so every taggable resource) of a run; the value is the run id."""
STACK_PREFIX: Final = "SklearnProof"
ROLLBACK_ENVIRONMENT: Final = "prod"
"""Where the rollback is proven: canary rollout judged by the alarms, provisioned concurrency."""
ROLLBACK_MODEL: Final = "iris"

# Defaults of SklearnLambdaEndpoint the plan needs without importing it (aws_cdk); a test compares
# them with EndpointProps' own.
DEFAULT_FRONT_DOOR: Final = "http_api"
DEFAULT_MONITORING: Final = True
DEFAULT_ROLLOUT: Final = "canary"

# The Frame endpoint's front door per environment: with Iris on the environment's own (HTTP API in
# cdk.json), the three environments cover every kind of front door.
FRAME_FRONT_DOORS: Final[Mapping[str, str]] = {
    "dev": "function_url",
    "staging": "rest_api",
    "prod": "http_api",
}

# How long each part of a run takes, in minutes: the basis of the cost estimate. Deploys build the
# layer and wait for CloudFormation (provisioned concurrency takes minutes to allocate); the checks
# wait for logs and metrics to arrive; the rollback lasts a canary (5 minutes) plus CloudFormation's
# own rollback; teardown deletes three stacks.
STEP_MINUTES: Final[Mapping[str, float]] = {
    "deploy": 36.0,
    "calls, logs and metrics": 12.0,
    "rollback": 20.0,
    "teardown": 12.0,
}
CALLS_PER_ROUTE: Final = 3
ROLLBACK_REQUESTS_PER_SECOND: Final = 2.0
ASSUMED_DURATION_MS: Final = 50.0
SNAPSTART_MINIMUM_HOURS: Final = 3.0

_RUN_ID = re.compile(r"^[a-z][a-z0-9]{3,19}$")


@dataclass(frozen=True)
class ModelPlan:
    """One endpoint of an environment's stack.

    Attributes
    ----------
    key
        ``iris`` or ``frame``: which model file (see :mod:`devtools.awsproof.models`).
    construct_id
        The endpoint's construct id in the stack (``Iris``, ``Frame``); outputs and resources start with it.
    model_name
        ``MODEL_NAME``: the OIP ``{name}`` and the metrics' ``ModelName`` dimension.
    front_door
        ``http_api``, ``rest_api`` or ``function_url``; IAM auth on each.
    """

    key: str
    construct_id: str
    model_name: str
    front_door: str
    auth: str = "iam"


@dataclass(frozen=True)
class EnvironmentPlan:
    """One environment: its stack and what its configuration makes AWS do."""

    name: str
    stack_name: str
    cold_start: str
    provisioned_min: int
    provisioned_upper: int
    monitoring: bool
    rollout: str
    memory_mb: int
    architecture: str
    models: tuple[ModelPlan, ...]

    @property
    def cold_start_check(self) -> str:
        """What the REPORT lines must show for this environment's cold-start strategy."""
        return {
            "none": "on-demand: the first call's REPORT line has an Init Duration",
            "snapstart": "SnapStart: a REPORT line has a Restore Duration",
            "provisioned": (
                "provisioned concurrency: REPORT lines of calls on the alias have no Init Duration"
            ),
        }[self.cold_start]


@dataclass(frozen=True)
class CostLine:
    """One line of the estimate: what, its USD, and how it was computed."""

    what: str
    usd: float
    basis: str


@dataclass(frozen=True)
class CostEstimate:
    """What one run costs, from the project's dated price table (``cdk_sklearn/cost/prices.py``)."""

    hours: float
    lines: tuple[CostLine, ...]

    @property
    def total_usd(self) -> float:
        """The sum of the lines."""
        return sum(line.usd for line in self.lines)


@dataclass(frozen=True)
class ProofPlan:
    """Everything a run will do, printable before it does any of it."""

    run_id: str
    region: str
    account: str | None
    environments: tuple[EnvironmentPlan, ...]
    cost: CostEstimate

    @property
    def rollback_environment(self) -> EnvironmentPlan:
        """The environment the rollback is proven in."""
        return next(env for env in self.environments if env.name == ROLLBACK_ENVIRONMENT)

    def calls_per_environment(self, env: EnvironmentPlan) -> int:
        """The route calls the proof sends to ``env`` (every route and verb, every model)."""
        routes = sum(len(route.verbs) for route in contract.ROUTES)
        return (routes * CALLS_PER_ROUTE + 1) * len(env.models)


def new_run_id(now: dt.datetime, token: str | None = None) -> str:
    """A run id: ``ap`` + UTC minute + 4 hex digits, e.g. ``ap2611300945c0de``.

    It suffixes stack names, model names and the run tag, so it is short, lower case and starts
    with a letter.
    """
    return f"ap{now:%y%m%d%H%M}{token if token is not None else secrets.token_hex(2)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it can suffix stack and model names, else raise ValueError saying why."""
    if not _RUN_ID.match(run_id):
        raise ValueError(
            f"run id {run_id!r} is invalid; allowed: 4 to 20 lower-case letters and digits, starting "
            "with a letter (it suffixes stack names and model names)"
        )
    return run_id


def stack_name(environment: str, run_id: str) -> str:
    """The proof's stack for ``environment`` in run ``run_id``."""
    return f"{STACK_PREFIX}-{environment}-{run_id}"


def read_environments(cdk_json: Path) -> dict[str, Any]:
    """Return cdk.json's ``context.environments`` object.

    Raises
    ------
    ValueError
        When cdk.json lacks it, or lacks one of :data:`ENVIRONMENTS`.
    """
    context = json.loads(cdk_json.read_text()).get("context", {})
    environments = context.get("environments")
    if not isinstance(environments, dict):
        raise ValueError(f"{cdk_json}: no context.environments object")
    missing = [name for name in ENVIRONMENTS if name not in environments]
    if missing:
        raise ValueError(
            f"{cdk_json}: environments {', '.join(missing)} are missing; the proof deploys all of "
            f"{', '.join(ENVIRONMENTS)}"
        )
    return environments


def environment_plan(name: str, settings: Mapping[str, Any], run_id: str) -> EnvironmentPlan:
    """Plan one environment from its cdk.json settings."""
    cold = settings.get("cold_start") or {}
    if "provisioned_concurrency" in settings and not cold:
        cold = {"strategy": "provisioned", "min": settings["provisioned_concurrency"]}
    strategy = str(cold.get("strategy", "provisioned" if "min" in cold else "none"))
    minimum = int(cold.get("min", 0)) if strategy == "provisioned" else 0
    # A schedule can raise the minimum while the run lasts: the estimate takes the highest.
    upper = max([minimum, *(int(s.get("min", 0)) for s in cold.get("schedules", []))])
    models = (
        ModelPlan(
            "iris", "Iris", f"iris-{name}-{run_id}", str(settings.get("front_door", DEFAULT_FRONT_DOOR))
        ),
        ModelPlan("frame", "Frame", f"frame-{name}-{run_id}", FRAME_FRONT_DOORS[name]),
    )
    return EnvironmentPlan(
        name=name,
        stack_name=stack_name(name, run_id),
        cold_start=strategy,
        provisioned_min=minimum,
        provisioned_upper=upper,
        monitoring=bool(settings.get("monitoring", DEFAULT_MONITORING)),
        rollout=str(settings.get("rollout", DEFAULT_ROLLOUT)),
        memory_mb=int(settings.get("memory_size", DEFAULT_MEMORY_MB)),
        architecture=str(settings.get("architecture", DEFAULT_ARCHITECTURE)),
        models=models,
    )


def build_plan(run_id: str, region: str, account: str | None, environments: Mapping[str, Any]) -> ProofPlan:
    """Plan a run over :data:`ENVIRONMENTS`.

    Parameters
    ----------
    run_id
        From :func:`new_run_id` (or ``--run-id``); checked by :func:`check_run_id`.
    region
        The region everything is created in.
    account
        The confirmed account id; None in a dry run without ``AWS_PROOF_ACCOUNT``.
    environments
        cdk.json's ``environments`` (:func:`read_environments`).
    """
    check_run_id(run_id)
    envs = tuple(environment_plan(name, environments[name], run_id) for name in ENVIRONMENTS)
    plan = ProofPlan(run_id, region, account, envs, CostEstimate(0.0, ()))
    return ProofPlan(run_id, region, account, envs, estimate_cost(plan))


def estimate_cost(plan: ProofPlan) -> CostEstimate:
    """Estimate what a run costs with the project's price table.

    Upper bounds where the run's timing decides: provisioned concurrency and CloudWatch resources are
    counted for the whole run, at the highest scheduled minimum. Lambda's and API Gateway's free tiers
    are not applied. Hourly-prorated items (alarms, dashboards, custom metrics) use the monthly price
    divided by the hours of a month.
    """
    hours = sum(STEP_MINUTES.values()) / 60.0
    lines: list[CostLine] = []
    requests = 0.0
    gb_s = 0.0
    alarm_metrics = 0
    dashboards = 0
    for env in plan.environments:
        env_requests = _environment_requests(plan, env)
        requests += env_requests
        gb_s += env_requests * ASSUMED_DURATION_MS / 1000.0 * env.memory_mb / 1024.0
        cold_start = _cold_start_line(env, hours)
        if cold_start is not None:
            lines.append(cold_start)
        if env.monitoring:
            # Error rate reads 3 metrics; latency p99, throttles, (spillover) one each.
            per_model = 5 + (1 if env.cold_start == "provisioned" else 0)
            alarm_metrics += per_model * len(env.models)
            dashboards += len(env.models)
    lines.extend(_request_lines(requests, gb_s))
    lines.append(_cloudwatch_line(plan, alarm_metrics, dashboards, hours))
    return CostEstimate(hours, tuple(lines))


def _environment_requests(plan: ProofPlan, env: EnvironmentPlan) -> float:
    # The rollback environment also takes the steady traffic that makes the alarm fire.
    requests = float(plan.calls_per_environment(env))
    if env.name == ROLLBACK_ENVIRONMENT:
        requests += ROLLBACK_REQUESTS_PER_SECOND * STEP_MINUTES["rollback"] * 60.0
    return requests


def _cold_start_line(env: EnvironmentPlan, hours: float) -> CostLine | None:
    gb = env.memory_mb / 1024.0
    arch = env.architecture
    n_models = len(env.models)
    if env.cold_start == "provisioned":
        # During the rollback the new version holds its own provisioned concurrency too.
        held = env.provisioned_upper * gb * (n_models * hours * 3600.0 + STEP_MINUTES["rollback"] * 60.0)
        return CostLine(
            f"{env.name}: provisioned concurrency",
            held * price(f"lambda.pc.held.{arch}"),
            f"{env.provisioned_upper} x {n_models} models x {gb:g} GB x {hours:.2f} h "
            f"(+ the rollback's new version) x lambda.pc.held.{arch}",
        )
    if env.cold_start == "snapstart":
        cached = n_models * gb * SNAPSTART_MINIMUM_HOURS * 3600.0
        restores = n_models * 2 * gb
        return CostLine(
            f"{env.name}: SnapStart cache and restores",
            cached * price("lambda.snapstart.cache") + restores * price("lambda.snapstart.restore"),
            f"{n_models} versions x {gb:g} GB x the {SNAPSTART_MINIMUM_HOURS:g}-hour minimum x "
            "lambda.snapstart.cache, + restores x lambda.snapstart.restore",
        )
    return None


def _request_lines(requests: float, gb_s: float) -> list[CostLine]:
    arch = DEFAULT_ARCHITECTURE
    return [
        CostLine(
            "Lambda requests and duration",
            requests * price("lambda.request") + gb_s * price(f"lambda.duration.{arch}"),
            f"{requests:,.0f} requests x lambda.request + {gb_s:,.0f} GB-s (at {ASSUMED_DURATION_MS:g} ms) "
            f"x lambda.duration.{arch}",
        ),
        CostLine(
            "API Gateway requests",
            requests * price("apigw.rest.request"),
            f"{requests:,.0f} requests x apigw.rest.request (the dearer API type, as an upper bound)",
        ),
    ]


def _cloudwatch_line(plan: ProofPlan, alarm_metrics: int, dashboards: int, hours: float) -> CostLine:
    custom = len(contract.METRIC_NAMES) * sum(len(env.models) for env in plan.environments)
    return CostLine(
        "CloudWatch alarms, dashboards, custom metrics",
        (
            alarm_metrics * price("cloudwatch.alarm.standard")
            + dashboards * price("cloudwatch.dashboard")
            + custom * price("cloudwatch.metric.custom")
        )
        * (hours / HOURS_PER_MONTH),
        f"{alarm_metrics} alarm metrics, {dashboards} dashboards, {custom} custom metrics, "
        f"monthly prices x {hours:.2f} h / {HOURS_PER_MONTH:g} h",
    )


def format_plan(plan: ProofPlan, commands: Mapping[str, list[str]] | None = None) -> str:
    """The plan as text: what is created, checked, torn down, and the cost estimate.

    Parameters
    ----------
    plan
        The plan.
    commands
        The ``cdk deploy`` command line of each environment, shown under it.
    """
    account = plan.account or "<AWS_PROOF_ACCOUNT, not set>"
    out = [
        f"aws-proof: run {plan.run_id}, account {account}, region {plan.region}",
        f"every stack tagged {RUN_TAG}={plan.run_id}; everything below is deleted at the end "
        "(after a failure or an interrupt too; --keep leaves it for inspection)",
        "",
        "1. confirm the account: AWS_PROOF_ACCOUNT must equal sts get-caller-identity's account",
        "2. deploy, with the pinned CDK CLI:",
    ]
    for env in plan.environments:
        cold = env.cold_start + (
            f" (min {env.provisioned_min}, up to {env.provisioned_upper} by schedule)"
            if env.cold_start == "provisioned"
            else ""
        )
        out.append(
            f"   {env.name}: stack {env.stack_name}; cold start {cold}; monitoring "
            f"{'on' if env.monitoring else 'off'}; rollout {env.rollout}; "
            f"{env.memory_mb} MB {env.architecture}"
        )
        for model in env.models:
            out.append(
                f"     {model.construct_id}: model {model.model_name} ({_MODEL_SOURCES[model.key]}) "
                f"behind {model.front_door}, auth {model.auth}"
            )
        if commands and env.name in commands:
            out.append("     $ " + shlex.join(commands[env.name]))
    routes = ", ".join(f"{verb} {route.path}" for route in contract.ROUTES for verb in route.verbs)
    out += [
        f"3. call every contract route through every front door, SigV4-signed ({CALLS_PER_ROUTE} times "
        "each), and compare predictions with scikit-learn's computed here:",
        f"   {routes}",
        "   and one unsigned GET /health per front door, which IAM auth must refuse with 403",
        "4. cold starts, from the functions' REPORT log lines:",
        *(f"   {env.name}: {env.cold_start_check}" for env in plan.environments),
        "5. the metrics the alarms read exist with the alarms' names and dimensions "
        "(alarms read with cloudwatch describe-alarms), and the runtime's "
        f"{', '.join(contract.METRIC_NAMES)} in {contract.DEFAULT_METRICS_NAMESPACE} by "
        f"{contract.METRIC_DIMENSION}:",
        *(f"   {env.name}" for env in plan.environments if env.monitoring),
        f"6. rollback in {ROLLBACK_ENVIRONMENT} ({plan.rollback_environment.rollout}): prepare a change set "
        f"with a new {ROLLBACK_MODEL} model, overwrite the new model object in S3 with other bytes, execute; "
        "the new version answers 503, the error-rate alarm fires, CodeDeploy stops the deployment and "
        "the alias stays on the previous version",
        "7. tear down: delete the three stacks and the overwritten model object (the other assets stay "
        "in the CDK bootstrap bucket, as after any cdk deploy; `cdk gc` removes unused ones)",
        "8. write docs/aws-proof/<date>-<run id>.json and .md",
        "",
        f"estimated cost: about ${plan.cost.total_usd:.2f} for a run of about {plan.cost.hours:.1f} h "
        f"({REGION} list prices checked {PRICES_CHECKED}, cdk_sklearn/cost/prices.py):",
        *(f"   ${line.usd:.4f}  {line.what}: {line.basis}" for line in plan.cost.lines),
        "   not counted: S3 storage of the assets (kilobytes to a few hundred MB for minutes), "
        "CloudWatch Logs (well under a GB), CloudFormation and CodeDeploy for Lambda (no charge)",
    ]
    return "\n".join(out)


_MODEL_SOURCES: Final[Mapping[str, str]] = {
    "iris": "models/iris.joblib, examples/train_iris.py",
    "frame": "a DataFrame pipeline on named columns, trained at the start of the run",
}
