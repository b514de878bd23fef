"""``SafeRollout``: move the ``live`` alias to a new version through CodeDeploy, and back on alarm.

How a rollout happens. A new model file or new code changes the function's configuration,
so ``function.current_version`` is a new ``AWS::Lambda::Version`` and the alias's
``FunctionVersion`` changes. The ``CodeDeployLambdaAliasUpdate`` update policy that
``LambdaDeploymentGroup`` puts on the alias makes CloudFormation hand that change to
CodeDeploy instead of applying it: CodeDeploy shifts the alias's weights (10 % for five
minutes, or 10 % a minute, or all at once), watches the rollback alarms the whole time, and
if one fires puts the alias back on the old version and fails the stack update, which
CloudFormation then rolls back.

A/B is a different use of the same alias: :func:`ab_routing` pins a second, older version of
the function (published by an earlier deploy with model B's ``MODEL_URI``) at a fixed weight.
CodeDeploy refuses to deploy an alias that already routes to two versions, so an alias with
A/B routing gets no :class:`SafeRollout` (the constructor says so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict, Unpack, overload

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_sklearn.nag import acknowledge
from cdk_sklearn.validation import ConfigSection, check_choice, invalid, props_from

# canary: 10 % for 5 minutes, then the rest. With one-minute alarms needing 2 of 3
# datapoints, a broken version is caught in about 3 minutes while it serves 10 % of traffic.
# linear: 10 % more every minute (10 minutes in all): slower and gentler on provisioned
# concurrency, which the alias splits between the two versions by weight; an alarm fires at
# about 30-40 % of traffic. The 10-minute-step variant would hold a deploy for 100 minutes.
STRATEGIES: Final[Mapping[str, codedeploy.ILambdaDeploymentConfig]] = {
    "all_at_once": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    "canary": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "linear": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
}
DEFAULT_STRATEGY = "canary"
CODEDEPLOY_MANAGED_POLICY = "service-role/AWSCodeDeployRoleForLambdaLimited"
# The one cdk-nag AwsSolutions finding on this construct, acknowledged with its reason.
NAG_MANAGED_POLICY_RULE = (
    f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{CODEDEPLOY_MANAGED_POLICY}]"
)
NAG_MANAGED_POLICY_REASON = (
    "CodeDeploy's service role uses AWSCodeDeployRoleForLambdaLimited, the AWS-maintained minimal policy "
    "for Lambda deployments (get/update the alias, read its provisioned concurrency, describe alarms). "
    "LambdaDeploymentGroup always attaches it; an inline copy would freeze a policy AWS keeps current."
)

_VERSION = re.compile(r"^[1-9][0-9]*$")
OWNER = "SafeRollout"
SECTION = "rollout"


class RolloutSettings(TypedDict, total=False):
    """The keyword form of :class:`RolloutProps` (for :class:`SafeRollout`), and its cdk.json keys."""

    strategy: str


SETTINGS: tuple[str, ...] = tuple(RolloutSettings.__annotations__)


@dataclass(frozen=True, kw_only=True)
class RolloutProps(ConfigSection):
    """How :class:`SafeRollout` moves traffic, checked once when made.

    Parameters
    ----------
    strategy
        ``"canary"`` (default; 10 % for 5 minutes), ``"linear"`` (10 % more every minute) or
        ``"all_at_once"``.
    owner
        The construct named in error messages.
    """

    strategy: str = DEFAULT_STRATEGY
    owner: str = field(default=OWNER, compare=False, repr=False)
    config_section = SECTION
    config_keys = SETTINGS
    default_owner = OWNER

    def __post_init__(self) -> None:
        check_choice("strategy", self.strategy, tuple(STRATEGIES), owner=self.owner)


class SafeRollout(Construct):
    """A CodeDeploy deployment group that shifts traffic on the ``live`` alias and rolls back on alarm.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    alias
        The alias to deploy (``live``). It must not have weighted routing (see :func:`ab_routing`).
    alarms
        Alarms that stop and roll back a deployment, usually
        :attr:`EndpointMonitoring.rollback_alarms`. Default none: a rollout then rolls back only
        when the deployment itself fails, and synthesis warns.
    warn_without_alarms
        Whether to warn when ``alarms`` is empty (default True). The endpoint says it in terms of
        its own props instead.
    props
        The props as a :class:`RolloutProps`; or pass its field as a keyword argument
        (:class:`RolloutSettings`): ``strategy``, ``"canary"`` (default; 10 % for 5 minutes),
        ``"linear"`` (10 % more every minute) or ``"all_at_once"``.

    Attributes
    ----------
    deployment_group : aws_codedeploy.LambdaDeploymentGroup
        The deployment group (with its application and service role).
    props : RolloutProps
        The validated props.
    strategy : str
        The strategy chosen.

    Raises
    ------
    TypeError
        Both ``props`` and keyword props, or an unknown keyword prop.
    PropsError
        A prop or an argument the rollout cannot build; raised before any construct is created.

    Notes
    -----
    cdk-nag AwsSolutions flags the service role's AWS managed policy (IAM4); the construct
    acknowledges exactly that finding, with its reason (:func:`cdk_sklearn.nag.acknowledge`).
    """

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: lambda_.Alias,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        warn_without_alarms: bool = True,
        props: RolloutProps,
    ) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: lambda_.Alias,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        warn_without_alarms: bool = True,
        **settings: Unpack[RolloutSettings],
    ) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        alias: lambda_.Alias,
        alarms: Sequence[cloudwatch.IAlarm] = (),
        warn_without_alarms: bool = True,
        props: RolloutProps | None = None,
        **settings: Any,  # typed by the overloads: RolloutSettings
    ) -> None:
        props = props_from(OWNER, RolloutProps, props, settings, SETTINGS)
        if not isinstance(alias, lambda_.Alias):
            raise invalid(
                "alias", alias, "an aws_lambda.Alias created in this app (e.g. endpoint.alias)", owner=OWNER
            )
        if isinstance(alarms, str | cloudwatch.Alarm) or not all(
            isinstance(alarm, cloudwatch.AlarmBase) for alarm in alarms
        ):
            raise invalid(
                "alarms",
                alarms,
                "a list of aws_cloudwatch alarms (e.g. monitoring.rollback_alarms)",
                owner=OWNER,
            )
        routing = alias.node.default_child.routing_config  # type: ignore[union-attr]
        if routing is not None:
            raise invalid(
                "alias",
                alias.node.path,
                "an alias without additional_versions: CodeDeploy cannot deploy an alias that already "
                "routes to two versions; drop the A/B routing (ab_routing) or the rollout",
                owner=OWNER,
            )
        super().__init__(scope, id)
        self.props = props
        self.strategy = props.strategy

        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            alias=alias,
            deployment_config=STRATEGIES[props.strategy],
            alarms=list(alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True,
                stopped_deployment=True,
                # Only meaningful (and only allowed by CDK) when there is an alarm to watch.
                deployment_in_alarm=bool(alarms),
            ),
        )
        if not alarms and warn_without_alarms:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-sklearn:rollout-without-alarms",
                "SafeRollout has no alarms: a bad version is rolled back only if the deployment fails "
                "outright. Pass alarms=EndpointMonitoring(...).rollback_alarms.",
            )

        # Exactly this finding (this one policy) on exactly this role and its group.
        acknowledge(self.deployment_group, NAG_MANAGED_POLICY_RULE, NAG_MANAGED_POLICY_REASON)


def ab_routing(function: lambda_.Function, *, version: str, weight: float) -> list[lambda_.VersionWeight]:
    """Weighted routing for an A/B test: send ``weight`` of the alias's traffic to ``version``.

    Alias weighted routing only splits traffic between two *published versions of the same
    function*, and a version is a frozen copy of the function's configuration, environment
    included. So model B is not a second function: it is an older version of this one,
    published by a deploy whose ``MODEL_URI`` pointed at model B. Deploy model B first, note
    its version number (``aws lambda list-versions-by-function``), deploy model A again, and
    pass that number here. Its model object stays in the CDK assets bucket, which CDK never
    empties unless ``cdk gc`` is run.

    Parameters
    ----------
    function
        The endpoint's function.
    version
        The published version number of model B, e.g. ``"7"``.
    weight
        Share of traffic for model B, more than 0 and less than 1.

    Returns
    -------
    list[aws_lambda.VersionWeight]
        Pass as ``additional_versions`` to the ``live`` alias.
    """
    where = "ab_routing"
    if not isinstance(version, str) or not _VERSION.match(version):
        raise invalid(
            "version",
            version,
            "a published version number such as '7' (not $LATEST, not an alias)",
            owner=where,
        )
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight < 1:
        raise invalid(
            "weight", weight, "a number between 0 and 1, exclusive (0.1 sends 10% to model B)", owner=where
        )
    challenger = lambda_.Version.from_version_attributes(
        function, f"AbVersion{version}", lambda_=function, version=version
    )
    return [lambda_.VersionWeight(version=challenger, weight=float(weight))]
