"""The proof's steps in order, and teardown whatever happens.

Every stack is recorded as created *before* its deploy starts, so a deploy that fails half-way, a
failed check, an exception or an interrupt (SIGINT, SIGTERM) all end in the same ``finally``: delete
every stack of the run and the overwritten model object, then write the report. ``--keep`` skips the
deletion and says what was left.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import platform
import signal
import statistics
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, Final

from devtools.awsproof import deploy, logs, metrics, models, rollback
from devtools.awsproof.calls import (
    CallResult,
    ModelUnderTest,
    Response,
    Transport,
    call_every_route,
    call_unsigned,
    route_url,
)
from devtools.awsproof.clock import Clock
from devtools.awsproof.plan import (
    CALLS_PER_ROUTE,
    ROLLBACK_ENVIRONMENT,
    ROLLBACK_MODEL,
    EnvironmentPlan,
    ModelPlan,
    ProofPlan,
)
from devtools.awsproof.report import Check, ProofRecord, mask_account, write_report
from lambda_runtime import contract
from lambda_runtime.limits import DEFAULT_RUNTIME

PACKAGES: Final = ("cdk-sklearn", "aws-cdk-lib", "boto3", "scikit-learn")
ROLLBACK_ALARM_STEMS: Final = ("ServerErrorRateAlarm", "LatencyP99Alarm")


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised where the run was, so teardown runs next."""


@dataclass(frozen=True)
class Services:
    """The AWS clients a run uses (boto3 clients, or stubbed ones in tests)."""

    cloudformation: Any
    cloudwatch: Any
    logs: Any
    lambda_: Any
    codedeploy: Any
    s3: Any


@dataclass(frozen=True)
class Settings:
    """Where things are, and how the run ends."""

    project_dir: Path
    work_dir: Path
    report_dir: Path
    cdk: str
    python: str = sys.executable
    keep: bool = False


@dataclass
class _Deployed:
    env: EnvironmentPlan
    endpoints: dict[str, deploy.DeployedEndpoint] = field(default_factory=dict)
    resources: list[deploy.StackResource] = field(default_factory=list)
    calls_since: dt.datetime | None = None


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def interrupts_deferred(say: Callable[[str], None]) -> Iterator[None]:
    """Keep SIGINT and SIGTERM from stopping teardown half-way; say so when one arrives."""

    def handler(signum: int, frame: FrameType | None) -> None:
        say(f"{signal.Signals(signum).name} ignored: tearing down; stopping now would leave stacks behind")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def versions(cdk_version: str) -> dict[str, str]:
    """The versions the report records: packages, CDK CLI, Python here, Lambda runtime deployed."""
    found = {"python": platform.python_version(), "cdk CLI": cdk_version, "lambda runtime": DEFAULT_RUNTIME}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


class ProofRun:
    """One run of the proof.

    Parameters
    ----------
    plan
        What to do (:func:`devtools.awsproof.plan.build_plan`), with the confirmed account.
    services
        AWS clients.
    settings
        Paths, the CDK CLI, ``keep``.
    runner
        Runs CDK commands (:func:`devtools.awsproof.deploy.subprocess_runner`).
    caller
        Sends signed requests (:class:`devtools.awsproof.calls.SignedCaller`).
    transport
        Sends the unsigned request IAM auth must refuse.
    clock
        Time, for waits and the record.
    say
        Where progress goes (stderr).
    model_files
        Model file per key (``iris``, ``frame``, ``rollback``); default :meth:`prepare_models`.
    """

    def __init__(
        self,
        plan: ProofPlan,
        services: Services,
        settings: Settings,
        *,
        runner: deploy.CommandRunner,
        caller: Callable[[str, str, Any], Response],
        transport: Transport,
        clock: Clock,
        say: Callable[[str], None],
        model_files: Mapping[str, Path] | None = None,
    ) -> None:
        if plan.account is None:
            raise ValueError("a run needs the confirmed account in its plan")
        self.plan = plan
        self.account: str = plan.account
        self.aws = services
        self.settings = settings
        self.runner = runner
        self.caller = caller
        self.transport = transport
        self.clock = clock
        self.say = say
        self.model_files = dict(model_files) if model_files is not None else None
        self.created: list[str] = []
        self.overwritten: list[deploy.S3Object] = []
        self.deployed: dict[str, _Deployed] = {}
        self.record = ProofRecord(
            run_id=plan.run_id,
            region=plan.region,
            account=mask_account(self.account),
            started=clock.now(),
            versions={},
            environments=[
                {
                    "name": env.name,
                    "stack": env.stack_name,
                    "cold_start": env.cold_start,
                    "front_doors": [f"{m.construct_id}: {m.front_door}" for m in env.models],
                }
                for env in plan.environments
            ],
        )

    # -- the run ----------------------------------------------------------------------------

    def execute(self) -> tuple[ProofRecord, tuple[Path, Path]]:
        """Run every step, tear down, write the report; return the record and the report's paths."""
        try:
            with interrupts_raise():
                self._steps()
        except Exception as exc:  # Interrupted included: every failure ends in teardown
            self.record.error = f"{type(exc).__name__}: {exc}"
            self.say(f"aws-proof: stopped: {self.record.error}")
        finally:
            with interrupts_deferred(self.say):
                self.teardown()
                self.record.finished = self.clock.now()
        paths = write_report(self.record, self.settings.report_dir)
        self.say(f"aws-proof: {self.record.result}; report: {paths[1]} and {paths[0]}")
        return self.record, paths

    def _steps(self) -> None:
        code, output = self.runner([self.settings.cdk, "--version"], self.settings.project_dir)
        self.record.versions = versions(
            output.strip().splitlines()[-1] if code == 0 and output.strip() else "?"
        )
        files = self.model_files or self.prepare_models()
        self.model_files = dict(files)
        for env in self.plan.environments:
            self.deploy_environment(env, files)
        under_test = self.models_under_test(files)
        for env in self.plan.environments:
            self.call_environment(env, under_test)
        for env in self.plan.environments:
            self.check_cold_starts(env)
        for env in self.plan.environments:
            if env.monitoring:
                self.check_metrics(env)
        self.prove_rollback(files)

    def _check(self, check: Check) -> None:
        self.record.checks.append(check)
        mark = "ok  " if check.passed else "FAIL"
        self.say(f"  {mark} {check.step} {check.environment} {check.subject}: {check.figure}")

    # -- steps ------------------------------------------------------------------------------

    def prepare_models(self) -> dict[str, Path]:
        """The iris model (must exist: ``make models/iris.joblib``) and the two trained here."""
        iris = self.settings.project_dir / "models" / "iris.joblib"
        if not iris.is_file():
            raise deploy.DeployError(f"{iris} is missing; train it with `make models/iris.joblib`")
        work = self.settings.work_dir
        return {
            "iris": iris,
            "frame": models.train_frame(work / "frame.joblib"),
            "rollback": models.train_rollback(work / "iris-rollback.joblib", self.plan.run_id),
        }

    def models_under_test(self, files: Mapping[str, Path]) -> dict[str, tuple[Any, Path]]:
        """Rows and model file per model key, for the calls."""
        return {"iris": (models.IRIS_ROWS, files["iris"]), "frame": (models.FRAME_ROWS, files["frame"])}

    def deploy_environment(self, env: EnvironmentPlan, files: Mapping[str, Path]) -> None:
        """``cdk deploy`` one environment's stack and read its outputs and resources."""
        outputs = self.settings.work_dir / f"{env.name}-outputs.json"
        argv = deploy.cdk_deploy_argv(
            env,
            self.plan.run_id,
            cdk=self.settings.cdk,
            python=self.settings.python,
            outputs_file=outputs,
            out_dir=self.settings.work_dir / f"cdk.out-{env.name}",
            model_paths={key: files[key] for key in ("iris", "frame")},
        )
        self.say(f"aws-proof: deploying {env.stack_name}")
        self.created.append(env.stack_name)  # before the deploy: a half-made stack is torn down too
        started = self.clock.monotonic()
        deploy.run_cdk(argv, self.runner, self.settings.project_dir, f"cdk deploy {env.stack_name}")
        minutes = (self.clock.monotonic() - started) / 60.0
        done = _Deployed(env, deploy.parse_outputs(outputs, env.stack_name))
        done.resources = deploy.stack_resources(self.aws.cloudformation, env.stack_name)
        self.deployed[env.name] = done
        missing = [m.construct_id for m in env.models if m.construct_id not in done.endpoints]
        self._check(
            Check(
                "deploy",
                env.name,
                env.stack_name,
                not missing,
                f"{minutes:.1f} min, {len(done.resources)} resources",
                f"no EndpointUrl for {missing}" if missing else "",
            )
        )

    def call_environment(self, env: EnvironmentPlan, under_test: Mapping[str, tuple[Any, Path]]) -> None:
        """Call every route of every endpoint of ``env``, :data:`CALLS_PER_ROUTE` times."""
        done = self.deployed[env.name]
        done.calls_since = self.clock.now()
        for model in env.models:
            rows, path = under_test[model.key]
            target = ModelUnderTest(
                model.model_name, rows, models.local_predictions(path, rows), models.sha256_file(path)
            )
            url = done.endpoints[model.construct_id].url
            rounds: list[list[CallResult]] = [
                call_every_route(url, target, self.caller, self.clock) for _ in range(CALLS_PER_ROUTE)
            ]
            for results in zip(*rounds, strict=True):
                first = results[0]
                failed = [r for r in results if not r.passed]
                median = statistics.median(r.latency_ms for r in results)
                self._check(
                    Check(
                        "call",
                        env.name,
                        f"{model.construct_id} {model.front_door} {first.verb} {first.route}",
                        not failed,
                        f"HTTP {'/'.join(sorted({str(r.status) for r in results}))}, median {median:.0f} ms",
                        failed[0].detail if failed else "",
                    )
                )
            unsigned = call_unsigned(url, target, self.transport, self.clock)
            self._check(
                Check(
                    "call",
                    env.name,
                    f"{model.construct_id} {model.front_door} unsigned GET {unsigned.route}",
                    unsigned.passed,
                    f"HTTP {unsigned.status}",
                    "" if unsigned.passed else unsigned.detail,
                )
            )

    def _function(self, env: EnvironmentPlan, model: ModelPlan) -> str:
        resources = self.deployed[env.name].resources
        return deploy.resource_of(resources, model.construct_id, "AWS::Lambda::Function", "Function")

    def check_cold_starts(self, env: EnvironmentPlan) -> None:
        """Judge each function's REPORT lines against the environment's cold-start strategy."""
        done = self.deployed[env.name]
        since = done.calls_since or self.record.started
        calls = sum(len(r.verbs) for r in contract.ROUTES) * CALLS_PER_ROUTE
        for model in env.models:
            function = self._function(env, model)
            config = self.aws.lambda_.get_function_configuration(FunctionName=function)
            group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function}"
            reports = logs.wait_for_reports(self.aws.logs, group, since, at_least=calls, clock=self.clock)
            verdict = logs.judge_cold_start(env.cold_start, reports)
            self._check(
                Check(
                    "cold start",
                    env.name,
                    f"{model.construct_id} ({env.cold_start})",
                    verdict.passed,
                    verdict.figure,
                    verdict.detail,
                )
            )

    def check_metrics(self, env: EnvironmentPlan) -> None:
        """Every metric each deployed alarm of ``env`` reads, and the runtime's, exist."""
        done = self.deployed[env.name]
        readers: dict[str, list[metrics.MetricId]] = {}
        for model in env.models:
            names = deploy.resources_of(done.resources, model.construct_id, "AWS::CloudWatch::Alarm")
            alarms = metrics.describe_alarms(self.aws.cloudwatch, names)
            if len(alarms) != len(names):
                self._check(
                    Check(
                        "metric",
                        env.name,
                        f"{model.construct_id} alarms",
                        False,
                        f"{len(alarms)} of {len(names)} alarms described",
                    )
                )
            for alarm in alarms:
                readers[alarm["AlarmName"]] = metrics.alarm_metrics(alarm)
            readers[f"{model.construct_id} dashboard"] = metrics.runtime_metrics(model.model_name)
        since = done.calls_since or self.record.started
        for found in metrics.check_metrics(self.aws.cloudwatch, readers, start=since, clock=self.clock):
            figure = (
                "absent"
                if not found.found
                else (f"present, sum {found.total:g}" if found.total is not None else "present")
            )
            detail = "" if found.passed else "not published: this alarm can never fire"
            if not found.found and not found.required:
                detail = (
                    "absent, allowed: " + metrics.MAY_BE_ABSENT[found.metric.split("/")[-1].split("{")[0]]
                )
            self._check(
                Check("metric", env.name, f"{found.reader}: {found.metric}", found.passed, figure, detail)
            )

    def prove_rollback(self, files: Mapping[str, Path]) -> None:
        """Prepare a change set with a new model, break its object, execute, judge the rollback."""
        env = self.plan.rollback_environment
        done = self.deployed[env.name]
        model = next(m for m in env.models if m.key == ROLLBACK_MODEL)
        change_set = f"aws-proof-rollback-{self.plan.run_id}"
        out_dir = self.settings.work_dir / f"cdk.out-{env.name}-rollback"
        argv = deploy.cdk_deploy_argv(
            env,
            self.plan.run_id,
            cdk=self.settings.cdk,
            python=self.settings.python,
            outputs_file=self.settings.work_dir / f"{env.name}-rollback-outputs.json",
            out_dir=out_dir,
            model_paths={"iris": files["rollback"], "frame": files["frame"]},
            method="prepare-change-set",
            change_set_name=change_set,
        )
        self.say(f"aws-proof: preparing change set {change_set} on {env.stack_name}")
        deploy.run_cdk(argv, self.runner, self.settings.project_dir, "cdk deploy --method prepare-change-set")
        target_object = deploy.model_object(
            out_dir / f"{env.stack_name}.assets.json",
            files["rollback"],
            account=self.account,
            region=self.plan.region,
        )
        self.overwritten.append(target_object)  # before writing it: teardown deletes it whatever happens
        resources = done.resources
        alarm_names = [
            r.physical_id
            for r in resources
            if r.type == "AWS::CloudWatch::Alarm"
            and r.logical_id.startswith(model.construct_id)
            and any(stem in r.logical_id for stem in ROLLBACK_ALARM_STEMS)
        ]
        rows = models.IRIS_ROWS
        target = rollback.RollbackTarget(
            stack_name=env.stack_name,
            change_set_name=change_set,
            function_name=self._function(env, model),
            application_name=deploy.resource_of(
                resources, model.construct_id, "AWS::CodeDeploy::Application"
            ),
            deployment_group_name=deploy.resource_of(
                resources, model.construct_id, "AWS::CodeDeploy::DeploymentGroup"
            ),
            alarm_names=alarm_names,
            predict_url=route_url(done.endpoints[model.construct_id].url, contract.PREDICT, model.model_name),
            predict_body={"instances": [list(r) for r in rows]},
            model_object=target_object,
        )
        self.say("aws-proof: executing the change set; the new version refuses its model")
        result = rollback.drive_rollback(
            target,
            cloudformation=self.aws.cloudformation,
            codedeploy=self.aws.codedeploy,
            cloudwatch=self.aws.cloudwatch,
            lambda_client=self.aws.lambda_,
            s3=self.aws.s3,
            caller=self.caller,
            clock=self.clock,
        )
        subject = f"{model.construct_id} {env.rollout} rollout of a version that refuses its model"
        stop = f" after {result.seconds_to_stop:.0f} s" if result.seconds_to_stop is not None else ""
        self._check(
            Check(
                "rollback",
                env.name,
                subject,
                result.passed,
                f"deployment {result.deployment_status}{stop} ({result.error_code}); alarms fired: "
                f"{', '.join(result.alarms_fired) or 'none'}; answers {result.answers}; alias on version "
                f"{result.alias_version} (was {result.previous_version}); stack {result.stack_status}",
                "; ".join(result.problems),
            )
        )

    # -- teardown ---------------------------------------------------------------------------

    def teardown(self) -> None:
        """Delete every stack of the run (newest first) and every overwritten object; or, with
        ``keep``, say what is left."""
        if self.settings.keep:
            self.record.kept = True
            left = [*self.created, *(o.uri for o in self.overwritten)]
            self.say(
                "aws-proof: --keep: left in place: "
                + (", ".join(left) or "nothing")
                + ". Delete each stack with `aws cloudformation delete-stack --stack-name NAME` and the "
                "object with `aws s3 rm URI` when done."
            )
            return
        for stack in reversed(self.created):
            try:
                status = deploy.delete_stack(self.aws.cloudformation, stack, clock=self.clock)
                self._check(Check("teardown", _env_of(self.plan, stack), stack, True, status))
            except Exception as exc:
                self._check(
                    Check(
                        "teardown",
                        _env_of(self.plan, stack),
                        stack,
                        False,
                        "not deleted",
                        f"{exc}; delete it by hand",
                    )
                )
        for obj in self.overwritten:
            try:
                self.aws.s3.delete_object(Bucket=obj.bucket, Key=obj.key)
                self._check(
                    Check("teardown", ROLLBACK_ENVIRONMENT, "overwritten model object", True, "deleted")
                )
            except Exception as exc:
                self._check(
                    Check(
                        "teardown",
                        ROLLBACK_ENVIRONMENT,
                        "overwritten model object",
                        False,
                        "not deleted",
                        f"{exc}; delete {obj.uri} by hand",
                    )
                )


def _env_of(plan: ProofPlan, stack: str) -> str:
    return next((env.name for env in plan.environments if env.stack_name == stack), "")
