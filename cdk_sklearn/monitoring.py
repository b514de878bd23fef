"""``EndpointMonitoring``: the dashboard and alarms a SageMaker endpoint would come with.

One construct per endpoint. It reads three sources of metrics, and nothing else:

- Lambda's own metrics on the ``live`` alias (``Invocations``, ``Errors``, ``Throttles``,
  ``Duration``, provisioned concurrency) and on the function (``ConcurrentExecutions``);
- the Embedded Metric Format metrics the runtime writes on each request's log line (namespace
  ``cdk-sklearn`` by default, dimension ``ModelName``): ``PredictionLatency``, ``Rows``,
  ``ColdStart``, ``4xx``, ``5xx``;
- on Lambda Managed Instances, the capacity provider's metrics (``AWS/Lambda``, dimension
  ``CapacityProviderName``: ``CPUUtilization``, ``MemoryUtilization``, ``vCPUAllocated``,
  lambda-managed-instances-monitoring.html), since its scaling follows CPU, not requests;
- the function's ``REPORT`` log lines, for init duration: Lambda publishes no init-duration
  metric (only Lambda Insights does, for an extension layer and a per-function fee), but
  every cold start's ``REPORT`` line carries ``@initDuration``, which a Logs Insights widget
  can chart for free until someone looks at it.

The alarms are per model, built only from the function's and the runtime's metrics, never
from the API's: an HTTP API shared by several models (``/models/{name}/...``) reports one
5xx count for all of them, and a Function URL front door reports none. The API's metrics
are still charted when an API is given, because they see what the function cannot (the
integration timing out, API Gateway throttling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack, overload

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_sklearn.alarm_topic import create_alarm_topic, warn_if_key_unchecked
from cdk_sklearn.validation import (
    ConfigSection,
    PropsError,
    check_bool,
    check_namespace,
    check_positive_number,
    invalid,
    props_from,
)
from lambda_runtime import contract

DEFAULT_NAMESPACE = contract.DEFAULT_METRICS_NAMESPACE
DEFAULT_LATENCY_P99_THRESHOLD_MS = 1000.0
DEFAULT_SERVER_ERROR_RATE_PERCENT = 5.0
# The metrics the runtime emits, all with the single dimension ModelName and one value per request
# (4xx/5xx/ColdStart are 0 or 1, so Sum counts).
EMF_METRICS = contract.METRIC_NAMES
# Alarm keys; ``rollback_alarms`` is the subset that judges a new version.
ALARM_KEYS = ("server_error_rate", "latency_p99", "throttles", "provisioned_spillover", "capacity_cpu")
ROLLBACK_ALARM_KEYS = ("server_error_rate", "latency_p99")

# One-minute periods, 2 of 3 datapoints: a bad version fires in about three minutes, inside
# a 5-minute canary, while a single noisy minute does not page anyone.
PERIOD = cdk.Duration.minutes(1)
EVALUATION_PERIODS = 3
DATAPOINTS_TO_ALARM = 2
# Managed instances scale on CPU over minutes, not per request: an alarm on a capacity provider's CPU
# that stays high for 15 minutes means scaling is at its ceiling (max_environments, max_vcpus) or behind.
CAPACITY_PERIOD = cdk.Duration.minutes(5)
CAPACITY_CPU_PERCENT = 85.0

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Api = apigwv2.HttpApi | apigw.RestApi


OWNER = "EndpointMonitoring"
SECTION = "monitoring"


def _fail(prop: str, value: object, allowed: str) -> PropsError:
    return invalid(prop, value, allowed, owner=OWNER)


class MonitoringSettings(TypedDict, total=False):
    """The keyword form of :class:`MonitoringProps` (for :class:`EndpointMonitoring`), and its cdk.json
    keys."""

    metrics_namespace: str
    latency_p99_threshold_ms: float
    server_error_rate_percent: float
    alarm_email: str | None
    encrypt_alarm_topic: bool


SETTINGS: tuple[str, ...] = tuple(MonitoringSettings.__annotations__)


@dataclass(frozen=True, kw_only=True)
class MonitoringProps(ConfigSection):
    """The settings of :class:`EndpointMonitoring`, checked once when made.

    Parameters
    ----------
    metrics_namespace
        Namespace of the runtime's EMF metrics; must equal the function's ``METRICS_NAMESPACE``.
        Default ``"cdk-sklearn"``, the runtime's default.
    latency_p99_threshold_ms
        The p99 of ``PredictionLatency`` above which the latency alarm fires. Default 1000 ms.
    server_error_rate_percent
        Share of invocations answered with a 5xx (handler 5xx plus function errors: timeouts,
        out of memory, crashes) above which the error-rate alarm fires. Default 5 %,
        which a canary at 10 % of traffic crosses when half its requests fail.
    alarm_email
        An address to subscribe to the alarm topic. Default none.
    encrypt_alarm_topic
        Encrypt the alarm topic created here with the stack's customer-managed KMS key (one per
        stack, rotated yearly, usable by CloudWatch alarms of this account only; $1 a month).
        Default True. False leaves SNS's default encryption and acknowledges the compliance packs'
        ``SNSEncryptedKMS`` finding on the topic. Ignored when ``alarm_topic`` is given.
    owner
        The construct named in error messages.
    """

    metrics_namespace: str = DEFAULT_NAMESPACE
    latency_p99_threshold_ms: float = DEFAULT_LATENCY_P99_THRESHOLD_MS
    server_error_rate_percent: float = DEFAULT_SERVER_ERROR_RATE_PERCENT
    alarm_email: str | None = None
    encrypt_alarm_topic: bool = True
    owner: str = field(default=OWNER, compare=False, repr=False)
    config_section = SECTION
    config_keys = SETTINGS
    default_owner = OWNER

    def __post_init__(self) -> None:
        owner = self.owner
        check_namespace("metrics_namespace", self.metrics_namespace, owner=owner)
        latency = check_positive_number(
            "latency_p99_threshold_ms", self.latency_p99_threshold_ms, owner=owner
        )
        rate = check_positive_number(
            "server_error_rate_percent", self.server_error_rate_percent, 100, owner=owner
        )
        object.__setattr__(self, "latency_p99_threshold_ms", latency)
        object.__setattr__(self, "server_error_rate_percent", rate)
        email = self.alarm_email
        if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
            raise invalid(
                "alarm_email", email, "an e-mail address such as ops@example.com, or None", owner=owner
            )
        check_bool("encrypt_alarm_topic", self.encrypt_alarm_topic, owner=owner)


class EndpointMonitoring(Construct):
    """A CloudWatch dashboard and alarms for one model endpoint.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    function
        The prediction function (its ``ConcurrentExecutions`` covers every version).
    alias
        The ``live`` alias; invocation, error, duration, throttle and provisioned concurrency
        metrics are read on it, so they follow whichever versions it routes to.
    model_name
        The ``ModelName`` dimension of the runtime's metrics (the contract's model-name rule).
    api
        The HTTP or REST API in front, charted on the dashboard. Default none (Function URL or
        no front door); the alarms never depend on it.
    alarm_topic
        An SNS topic to notify on alarm and recovery. Default: a topic created here (``AlarmTopic``),
        encrypted with the stack's alarm-topic key (``encrypt_alarm_topic``), with ``alarm_email``
        subscribed when given. A topic whose key cannot be checked here (an imported one) gets a
        synth warning: CloudWatch publishes only if its key policy allows ``cloudwatch.amazonaws.com``.
    props
        The settings as a :class:`MonitoringProps`; or pass its fields as keyword arguments
        (``metrics_namespace``, ``latency_p99_threshold_ms``, ``server_error_rate_percent``,
        ``alarm_email``, ``encrypt_alarm_topic``).
    provisioned
        Whether the alias has provisioned concurrency: adds the utilization and spillover
        charts and the spillover alarm. Default False.
    log_group_name
        The function's log group, for the init-duration widget. Default
        ``/aws/lambda/<function name>``, Lambda's default.
    capacity_provider_name
        The Lambda Managed Instances capacity provider the function runs on: adds its CPU and memory
        charts and the ``capacity_cpu`` alarm, and words the throttles alarm for it. Default none.

    Attributes
    ----------
    dashboard : aws_cloudwatch.Dashboard
        The endpoint's dashboard.
    alarms : dict[str, aws_cloudwatch.Alarm]
        Every alarm, keyed ``server_error_rate``, ``latency_p99``, ``throttles``, (when
        ``provisioned``) ``provisioned_spillover`` and (with ``capacity_provider_name``) ``capacity_cpu``.
    rollback_alarms : list[aws_cloudwatch.Alarm]
        The alarms that say a new version is bad, for CodeDeploy to roll back on: error rate
        and p99 latency. Throttles and spillover are capacity problems a rollback would not fix.
    topic : aws_sns.ITopic
        Where alarms notify: ``alarm_topic``, or a topic created here (with ``alarm_email`` subscribed).
    subscribed : bool
        False when the topic was created here with no ``alarm_email``: nobody hears the alarms yet.
    """

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        alias: lambda_.Alias,
        model_name: str,
        api: Api | None = None,
        alarm_topic: sns.ITopic | None = None,
        provisioned: bool = False,
        log_group_name: str | None = None,
        capacity_provider_name: str | None = None,
        props: MonitoringProps,
    ) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        alias: lambda_.Alias,
        model_name: str,
        api: Api | None = None,
        alarm_topic: sns.ITopic | None = None,
        provisioned: bool = False,
        log_group_name: str | None = None,
        capacity_provider_name: str | None = None,
        **settings: Unpack[MonitoringSettings],
    ) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        alias: lambda_.Alias,
        model_name: str,
        api: Api | None = None,
        alarm_topic: sns.ITopic | None = None,
        provisioned: bool = False,
        log_group_name: str | None = None,
        capacity_provider_name: str | None = None,
        props: MonitoringProps | None = None,
        **settings: Any,  # typed by the overloads: MonitoringSettings
    ) -> None:
        # Validate everything before creating anything. The endpoint passes props it already made.
        props = props_from(OWNER, MonitoringProps, props, settings, SETTINGS)
        if not contract.is_valid_model_name(model_name):
            raise _fail("model_name", model_name, contract.MODEL_NAME_RULE)
        if api is not None and not isinstance(api, apigwv2.HttpApi | apigw.RestApi):
            raise _fail("api", api, "an aws_apigatewayv2.HttpApi, an aws_apigateway.RestApi, or None")
        if not isinstance(provisioned, bool):
            raise _fail("provisioned", provisioned, "True or False")
        if provisioned and capacity_provider_name is not None:
            raise _fail(
                "provisioned",
                provisioned,
                "False on managed instances (they have no provisioned concurrency)",
            )
        super().__init__(scope, id)
        self._capacity_provider_name = capacity_provider_name

        self.props = props
        self.model_name = model_name
        self.metrics_namespace = props.metrics_namespace
        self.latency_p99_threshold_ms = props.latency_p99_threshold_ms
        self.server_error_rate_percent = props.server_error_rate_percent
        self._function = function
        self._alias = alias

        # Every alarm notifies a topic: an alarm with no action changes colour on a dashboard nobody
        # watches. Without alarm_email the topic has no subscriber yet (the endpoint outputs its ARN).
        self.topic: sns.ITopic
        if alarm_topic is None:
            self.topic = create_alarm_topic(
                self,
                "AlarmTopic",
                display_name=f"cdk-sklearn {model_name} alarms",
                encrypt=props.encrypt_alarm_topic,
            )
        else:
            self.topic = alarm_topic
            warn_if_key_unchecked(self, alarm_topic)
        self.subscribed = alarm_topic is not None or props.alarm_email is not None
        if props.alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(props.alarm_email))

        self.alarms: dict[str, cloudwatch.Alarm] = self._create_alarms(provisioned)
        self.rollback_alarms: list[cloudwatch.Alarm] = [self.alarms[key] for key in ROLLBACK_ALARM_KEYS]
        action = cw_actions.SnsAction(self.topic)
        for alarm in self.alarms.values():
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            default_interval=cdk.Duration.hours(3),
            widgets=self._widget_rows(
                api, provisioned, log_group_name or f"/aws/lambda/{function.function_name}"
            ),
        )

    # -- metrics ---------------------------------------------------------------------------

    def runtime_metric(
        self, name: str, statistic: str = "Sum", label: str | None = None
    ) -> cloudwatch.Metric:
        """One of the runtime's EMF metrics for this model.

        Parameters
        ----------
        name
            One of ``PredictionLatency``, ``Rows``, ``ColdStart``, ``4xx``, ``5xx``.
        statistic
            ``Sum``, ``Average``, ``p99``, ... Default ``Sum``.
        label
            Legend label. Default: the metric name.
        """
        if name not in EMF_METRICS:
            raise ValueError(
                f"EndpointMonitoring: metric {name!r} is not emitted by the runtime; allowed: "
                f"{', '.join(EMF_METRICS)}"
            )
        return cloudwatch.Metric(
            namespace=self.metrics_namespace,
            metric_name=name,
            dimensions_map={contract.METRIC_DIMENSION: self.model_name},
            statistic=statistic,
            period=PERIOD,
            label=label,
        )

    def _alarm(
        self, id: str, *, metric: cloudwatch.IMetric, threshold: float, alarm_description: str
    ) -> cloudwatch.Alarm:
        # Every alarm: above the threshold in 2 of 3 one-minute periods; no data (no traffic) is healthy.
        return cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=DATAPOINTS_TO_ALARM,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=alarm_description,
        )

    def _capacity_metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        assert self._capacity_provider_name is not None
        return cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name=name,
            dimensions_map={"CapacityProviderName": self._capacity_provider_name},
            statistic=statistic,
            period=CAPACITY_PERIOD,
        )

    def _alias_metric(self, name: str, statistic: str, label: str | None = None) -> cloudwatch.Metric:
        # Alias.metric names the alias as "<function name>:live" rather than referencing the
        # alias resource, so alarms on it do not depend on the alias that CodeDeploy updates.
        return self._alias.metric(name, statistic=statistic, period=PERIOD, label=label)

    # -- alarms ----------------------------------------------------------------------------

    def _create_alarms(self, provisioned: bool) -> dict[str, cloudwatch.Alarm]:
        where = f"model {self.model_name} (alias live)"
        error_rate = cloudwatch.MathExpression(
            # FILL: a minute where the function crashed before logging has no 5xx datapoint.
            # No invocations -> no datapoint -> NOT_BREACHING: a quiet endpoint is healthy.
            expression="100 * (FILL(serverErrors, 0) + FILL(functionErrors, 0)) / invocations",
            using_metrics={
                "serverErrors": self.runtime_metric("5xx"),
                "functionErrors": self._alias_metric("Errors", "Sum"),
                "invocations": self._alias_metric("Invocations", "Sum"),
            },
            period=PERIOD,
            label="5xx rate (%)",
        )
        alarms = {
            "server_error_rate": self._alarm(
                "ServerErrorRateAlarm",
                metric=error_rate,
                threshold=self.server_error_rate_percent,
                alarm_description=(
                    f"{where}: more than {self.server_error_rate_percent:g}% of invocations ended in a 5xx "
                    "or a function error. During a rollout CodeDeploy rolls back; otherwise read the "
                    "function's log for the ERROR lines."
                ),
            ),
            "latency_p99": self._alarm(
                "LatencyP99Alarm",
                metric=self.runtime_metric("PredictionLatency", "p99"),
                threshold=self.latency_p99_threshold_ms,
                alarm_description=(
                    f"{where}: p99 PredictionLatency above {self.latency_p99_threshold_ms:g} ms. "
                    "A bigger model or batch, or too little memory (CPU grows with memory)."
                ),
            ),
            "throttles": self._alarm(
                "ThrottlesAlarm",
                metric=self._alias_metric("Throttles", "Sum"),
                threshold=0,
                alarm_description=f"{where}: Lambda throttled invocations (clients got 429/5xx). "
                + (
                    "On managed instances capacity scales on CPU within minutes: traffic that more than "
                    "doubles within 5 minutes is throttled until it catches up. Raise min_environments for "
                    "expected peaks, or max_environments / max_vcpus if scaling hit them."
                    if self._capacity_provider_name is not None
                    else "Raise reserved or account concurrency, or provisioned concurrency."
                ),
            ),
        }
        if self._capacity_provider_name is not None:
            alarms["capacity_cpu"] = self._capacity_cpu_alarm(where)
        if provisioned:
            alarms["provisioned_spillover"] = self._alarm(
                "ProvisionedSpilloverAlarm",
                metric=self._alias_metric("ProvisionedConcurrencySpilloverInvocations", "Sum"),
                threshold=0,
                alarm_description=(
                    f"{where}: invocations spilled over provisioned concurrency onto on-demand "
                    "environments (cold starts). Raise provisioned_concurrency. Expected briefly "
                    "during a rollout, when the alias splits it between two versions."
                ),
            )
        return alarms

    def _capacity_cpu_alarm(self, where: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            "CapacityCpuAlarm",
            metric=self._capacity_metric("CPUUtilization", "Average"),
            threshold=CAPACITY_CPU_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            # min_environments keep instances running, so CPU data never stops: missing data means the
            # metric does not reach this alarm (AWS documents it with an InstanceType dimension too, and
            # no deployment has shown the per-provider aggregate), which INSUFFICIENT_DATA shows where
            # "not breaching" would hide it behind OK.
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            alarm_description=(
                f"{where}: the capacity provider's instances averaged over {CAPACITY_CPU_PERCENT:g}% CPU for "
                "15 minutes: scaling is at its ceiling (max_environments, max_vcpus) or behind. Latency "
                "grows and throttles follow; raise the ceiling or min_environments."
            ),
        )

    # -- dashboard -------------------------------------------------------------------------

    def _widget_rows(
        self, api: Api | None, provisioned: bool, log_group_name: str
    ) -> list[list[cloudwatch.IWidget]]:
        rows: list[list[cloudwatch.IWidget]] = [
            [
                cloudwatch.AlarmStatusWidget(
                    title=f"{self.model_name}: alarms", alarms=list(self.alarms.values()), width=24, height=3
                )
            ],
            self._traffic_row(api),
            self._capacity_row(),
            self._cold_start_row(log_group_name),
        ]
        if provisioned:
            rows.append(self._provisioned_row())
        if self._capacity_provider_name is not None:
            rows.append(
                [
                    _graph(title, [self._capacity_metric(name, statistic)])
                    for title, name, statistic in (
                        ("Managed instances CPU (%)", "CPUUtilization", "Average"),
                        ("Managed instances memory (%)", "MemoryUtilization", "Average"),
                        ("vCPUs allocated to environments", "vCPUAllocated", "Maximum"),
                    )
                ]
            )
        return rows

    def _traffic_row(self, api: Api | None) -> list[cloudwatch.IWidget]:
        return [
            _graph(
                "Invocations",
                [self._alias_metric("Invocations", "Sum", "Invocations (alias live)")]
                + ([api.metric_count(period=PERIOD, label="API requests")] if api is not None else []),
            ),
            _graph("4xx and 5xx", self._error_metrics(api)),
            _graph(
                "PredictionLatency (ms)",
                [self.runtime_metric("PredictionLatency", stat, stat) for stat in ("p50", "p90", "p99")],
                annotation=(self.latency_p99_threshold_ms, "p99 alarm"),
            ),
        ]

    def _capacity_row(self) -> list[cloudwatch.IWidget]:
        return [
            _graph(
                "Duration (ms)",
                [self._alias_metric("Duration", stat, stat) for stat in ("p50", "p99", "Maximum")],
            ),
            _graph(
                "Concurrent executions",
                [self._function.metric("ConcurrentExecutions", statistic="Maximum", period=PERIOD)],
            ),
            _graph("Throttles", [self._alias_metric("Throttles", "Sum")]),
        ]

    def _cold_start_row(self, log_group_name: str) -> list[cloudwatch.IWidget]:
        return [
            _graph("Cold starts", [self.runtime_metric("ColdStart", "Sum", "ColdStart (runtime)")]),
            cloudwatch.LogQueryWidget(
                title="Init duration (ms), from REPORT lines",
                log_group_names=[log_group_name],
                view=cloudwatch.LogQueryVisualizationType.LINE,
                query_lines=[
                    'filter @type = "REPORT" and ispresent(@initDuration)',
                    "stats count(*) as coldStarts, avg(@initDuration) as avgInitMs, "
                    "pct(@initDuration, 99) as p99InitMs by bin(5m)",
                ],
                width=8,
                height=6,
            ),
            _graph("Rows predicted", [self.runtime_metric("Rows", "Sum")]),
        ]

    def _provisioned_row(self) -> list[cloudwatch.IWidget]:
        return [
            _graph(
                "Provisioned concurrency utilization",
                [self._alias_metric("ProvisionedConcurrencyUtilization", "Maximum")],
            ),
            _graph(
                "Provisioned concurrency spillover",
                [self._alias_metric("ProvisionedConcurrencySpilloverInvocations", "Sum")],
            ),
        ]

    def _error_metrics(self, api: Api | None) -> list[cloudwatch.IMetric]:
        metrics: list[cloudwatch.IMetric] = [
            self.runtime_metric("4xx", "Sum", "4xx (runtime)"),
            self.runtime_metric("5xx", "Sum", "5xx (runtime)"),
            self._alias_metric("Errors", "Sum", "function errors"),
        ]
        if api is not None:
            metrics += [
                api.metric_client_error(period=PERIOD, label="4xx (API)"),
                api.metric_server_error(period=PERIOD, label="5xx (API)"),
            ]
        return metrics


def _graph(
    title: str,
    metrics: Sequence[cloudwatch.IMetric],
    *,
    annotation: tuple[float, str] | None = None,
) -> cloudwatch.GraphWidget:
    annotations = (
        [cloudwatch.HorizontalAnnotation(value=annotation[0], label=annotation[1])] if annotation else None
    )
    return cloudwatch.GraphWidget(
        title=title, left=list(metrics), width=8, height=6, left_annotations=annotations
    )
