"""Cold-start strategies: none, provisioned concurrency (fixed or autoscaled), or SnapStart.

In cdk.json an environment chooses one with a ``cold_start`` object::

    "dev":     {"cold_start": {"strategy": "none"}}
    "staging": {"cold_start": {"strategy": "snapstart"}}
    "prod":    {"cold_start": {"strategy": "provisioned", "min": 2, "max": 10,
                               "target_utilization": 0.7,
                               "schedules": [{"name": "office-hours", "cron": "cron(0 7 ? * MON-FRI *)",
                                              "min": 4, "max": 10}]}}

Two rules of Lambda that CDK does not check are enforced here: SnapStart cannot be combined with
provisioned concurrency (the deploy fails), and SnapStart needs ephemeral storage of at most 512 MB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.validation import ConfigSection, PropsError, check_int, invalid
from lambda_runtime import limits

Strategy = Literal["none", "provisioned", "snapstart"]
STRATEGIES: tuple[str, ...] = ("none", "provisioned", "snapstart")
# SnapStart for Python exists from python3.12 on (limits.SNAPSTART_RUNTIMES)
# (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html#snapstart-runtimes).
SNAPSTART_MAX_EPHEMERAL_MB = 512
_CRON = re.compile(r"^(cron|rate|at)\(.+\)$")


OWNER = "ColdStart"
SECTION = "cold_start"


def _fail(prop: str, value: object, allowed: str) -> PropsError:
    return invalid(prop, value, allowed, owner=OWNER)


@dataclass(frozen=True)
class ScalingSchedule:
    """A scheduled change of the provisioned-concurrency bounds (e.g. office hours).

    Parameters
    ----------
    name
        Identifier of the scheduled action (letters, digits, '-').
    cron
        An Application Auto Scaling schedule expression: ``cron(...)``, ``rate(...)`` or ``at(...)``, UTC.
    min, max
        The bounds from that time on.
    """

    name: str
    cron: str
    min: int
    max: int

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", self.name):
            raise _fail("schedules[].name", self.name, "letters, digits and '-', starting with a letter")
        if not isinstance(self.cron, str) or not _CRON.match(self.cron):
            raise _fail("schedules[].cron", self.cron, "cron(...), rate(...) or at(...) in UTC")
        check_int("schedules[].min", self.min, 0, owner=OWNER)
        check_int("schedules[].max", self.max, 1, owner=OWNER)
        if self.min > self.max:
            raise _fail("schedules[].min", self.min, f"at most max ({self.max})")


class ColdStartSettings(TypedDict, total=False):
    """The keys of a ``cold_start`` object in cdk.json: the fields of :class:`ColdStart`, with each
    schedule an object of :class:`ScalingSchedule`'s fields."""

    strategy: str
    min: int
    max: int | None
    target_utilization: float
    schedules: Sequence[Mapping[str, Any]]


SETTINGS: tuple[str, ...] = tuple(ColdStartSettings.__annotations__)


@dataclass(frozen=True)
class ColdStart(ConfigSection):
    """How the endpoint avoids cold starts.

    Parameters
    ----------
    strategy
        ``none`` (default; pay per request only), ``provisioned`` (environments kept warm on
        the ``live`` alias, billed per hour) or ``snapstart`` (restore from a snapshot taken
        at publish time; python3.12+).
    min
        Provisioned environments (``provisioned`` only). The alias is created with this count
        so that a deploy never resets what autoscaling set below it.
    max
        Upper bound for autoscaling; None keeps ``min`` fixed.
    target_utilization
        Autoscaling target for ProvisionedConcurrencyUtilization, in (0, 1]. Default 0.7.
    schedules
        Scheduled bound changes (autoscaling only).
    """

    strategy: Strategy = "none"
    min: int = 0
    max: int | None = None
    target_utilization: float = 0.7
    schedules: tuple[ScalingSchedule, ...] = ()
    config_section = SECTION
    config_keys = SETTINGS
    default_owner = OWNER

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise _fail("strategy", self.strategy, ", ".join(STRATEGIES))
        if self.strategy != "provisioned":
            if self.min or self.max is not None or self.schedules:
                raise _fail(
                    "strategy",
                    self.strategy,
                    "'provisioned' when min/max/schedules are set (SnapStart cannot be combined "
                    "with provisioned concurrency: Lambda rejects it at deploy)",
                )
            return
        check_int("min", self.min, 1, owner=OWNER)
        if self.max is not None:
            check_int("max", self.max, 1, owner=OWNER)
            if self.max < self.min:
                raise _fail("max", self.max, f"at least min ({self.min})")
        t = self.target_utilization
        if not isinstance(t, int | float) or isinstance(t, bool) or not 0 < t <= 1:
            raise _fail("target_utilization", t, "a number in (0, 1], e.g. 0.7")
        if self.schedules and self.max is None:
            raise _fail(
                "schedules", [s.name for s in self.schedules], "schedules only with autoscaling (set max)"
            )

    @property
    def autoscaled(self) -> bool:
        """Whether provisioned concurrency scales between ``min`` and ``max``."""
        return self.strategy == "provisioned" and self.max is not None

    @classmethod
    def _from_keys(cls, keys: Mapping[str, Any], owner: str) -> ColdStart:
        # No owner field: the errors name ColdStart, and from_config relabels them with the owner.
        schedules = keys.get("schedules", ())
        if not isinstance(schedules, Sequence) or isinstance(schedules, str):
            raise _fail("schedules", schedules, "a list of {name, cron, min, max} objects")
        try:
            parsed = tuple(ScalingSchedule(**s) for s in schedules)
        except TypeError as exc:
            raise _fail("schedules", schedules, "objects with exactly name, cron, min, max") from exc
        return cls(
            strategy=keys.get("strategy", "provisioned" if "min" in keys else "none"),
            min=keys.get("min", 0),
            max=keys.get("max"),
            target_utilization=keys.get("target_utilization", 0.7),
            schedules=parsed,
        )

    def check_function(self, runtime: str, ephemeral_storage_mb: int) -> None:
        """Reject combinations Lambda refuses at deploy time but CDK synthesizes.

        Raises
        ------
        ValueError
            SnapStart on a runtime without it, or with more than 512 MB ephemeral storage.
        """
        if self.strategy != "snapstart":
            return
        if runtime not in limits.SNAPSTART_RUNTIMES:
            raise _fail(
                "strategy", "snapstart", f"runtime {', '.join(limits.SNAPSTART_RUNTIMES)} (got {runtime})"
            )
        if ephemeral_storage_mb > SNAPSTART_MAX_EPHEMERAL_MB:
            raise _fail(
                "strategy",
                "snapstart",
                f"ephemeral_storage_mb <= {SNAPSTART_MAX_EPHEMERAL_MB} (got {ephemeral_storage_mb})",
            )

    def snap_start(self) -> lambda_.SnapStartConf | None:
        """The function's SnapStart setting: on published versions, or None."""
        return lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if self.strategy == "snapstart" else None

    def provisioned_executions(self) -> int | None:
        """Provisioned concurrency to create the alias with, or None."""
        return self.min if self.strategy == "provisioned" else None

    def add_autoscaling(self, alias: lambda_.Alias) -> lambda_.IScalableFunctionAttribute | None:
        """Attach target tracking and schedules to the alias when autoscaled; return the target."""
        if not self.autoscaled:
            return None
        assert self.max is not None
        scaling = alias.add_auto_scaling(min_capacity=self.min, max_capacity=self.max)
        scaling.scale_on_utilization(utilization_target=self.target_utilization)
        for s in self.schedules:
            scaling.scale_on_schedule(
                s.name,
                schedule=appscaling.Schedule.expression(s.cron),
                min_capacity=s.min,
                max_capacity=s.max,
            )
        return scaling
