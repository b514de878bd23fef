"""The props of :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`: its settings and their composition.

An endpoint is a model function (:class:`~cdk_sklearn.model_function.ModelFunctionProps`) plus the parts
around it, each with its own props type: the layer, the cold-start strategy, the front door, the monitoring
and the rollout. :meth:`EndpointProps.from_settings` takes the settings as a user writes them (keyword
arguments, or one environment of cdk.json), hands each value to the props type that owns it, and re-labels
that type's error with the name the user wrote. A part can be written flat (``auth="jwt"``) or as a nested
section (``front_door={"front_door": "http_api", "auth": "jwt"}``), not both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Required, TypedDict, Unpack, cast

from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.cold_start import ColdStart
from cdk_sklearn.front_door import FrontDoorProps, SharedHttpApi
from cdk_sklearn.layer import LayerProps
from cdk_sklearn.managed_instances import ManagedInstancesProps
from cdk_sklearn.model_function import FUNCTION_SETTINGS, ModelFunctionProps
from cdk_sklearn.monitoring import MonitoringProps
from cdk_sklearn.rollout import STRATEGIES as ROLLOUT_STRATEGIES
from cdk_sklearn.rollout import RolloutProps
from cdk_sklearn.validation import PropsError, check_bool, check_choice, check_int, check_known, invalid
from lambda_runtime import contract

OWNER = "SklearnLambdaEndpoint"
ROLLOUTS: tuple[str, ...] = (*ROLLOUT_STRATEGIES, "none")
Compute = Literal["on_demand", "managed_instances"]
COMPUTES: tuple[str, ...] = ("on_demand", "managed_instances")


class EndpointSettings(TypedDict, total=False):
    """The props of :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint` as keyword arguments (and cdk.json
    keys).

    Each is documented on the endpoint; type checkers and editors see them at the call site through
    ``**settings: Unpack[EndpointSettings]``.
    """

    model_path: Required[str | os.PathLike[str]]
    runtime: str | lambda_.Runtime
    architecture: str | lambda_.Architecture
    memory_size: int
    timeout_seconds: int
    ephemeral_storage_mb: int
    reserved_concurrency: int | None
    model_name: str
    max_body_bytes: int
    environment: Mapping[str, str]
    metrics_namespace: str
    log_retention_days: int
    tracing: bool
    code_paths: Sequence[str | os.PathLike[str]]
    skops_trusted_types: Sequence[str]
    layer: LayerProps | Mapping[str, Any]
    extra_requirements: Sequence[str]
    bytecode_python: str | None
    layer_slim: bool
    cold_start: ColdStart | Mapping[str, Any] | None
    provisioned_concurrency: int
    compute: Compute
    managed_instances: ManagedInstancesProps | Mapping[str, Any] | None
    front_door: str | FrontDoorProps | Mapping[str, Any]
    auth: str
    jwt_issuer: str | None
    jwt_audience: Sequence[str]
    throttle_rate_limit: float
    throttle_burst_limit: int
    cors_allow_origins: Sequence[str]
    shared_api: SharedHttpApi | None
    monitoring: bool | MonitoringProps | Mapping[str, Any]
    alarm_email: str | None
    encrypt_alarm_topic: bool
    latency_p99_threshold_ms: float
    server_error_rate_percent: float
    rollout: str | RolloutProps | Mapping[str, Any]
    engine: str
    sample_input: str | os.PathLike[str] | None
    onnx_tolerance: float


SETTINGS: tuple[str, ...] = tuple(EndpointSettings.__annotations__)
"""Every prop of the endpoint, in the order the documentation lists them."""

FLAT_PART_SETTINGS: Mapping[str, Mapping[str, str]] = {
    "layer": {
        "extra_requirements": "extra_requirements",
        "bytecode_python": "bytecode_python",
        "layer_slim": "slim",
    },
    "front_door": {
        name: name
        for name in (
            "auth",
            "jwt_issuer",
            "jwt_audience",
            "throttle_rate_limit",
            "throttle_burst_limit",
            "cors_allow_origins",
        )
    },
    "monitoring": {
        name: name
        for name in (
            "alarm_email",
            "encrypt_alarm_topic",
            "latency_p99_threshold_ms",
            "server_error_rate_percent",
        )
    },
}
"""Flat shorthands of a part's props: section -> {flat setting -> that part's field}."""


@dataclass(frozen=True, kw_only=True)
class EndpointProps:
    """The validated props of an endpoint: its function's, its own, and its parts'.

    Build it with :meth:`from_settings` (what the constructor and the cdk.json loader do); every value
    is checked once, by the props type that owns it, before any construct exists.

    Attributes
    ----------
    function
        The model function's props (model, runtime, architecture, memory, timeout, storage, logs, tracing,
        environment, metrics namespace, code paths, layer, engine).
    reserved_concurrency, model_name, max_body_bytes, shared_api
        The endpoint's own props (see :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`).
    cold_start
        The cold-start strategy (``cold_start``, with ``provisioned_concurrency`` folded in).
    compute
        ``on_demand`` or ``managed_instances``.
    managed_instances
        The managed-instances props (``compute="managed_instances"``), else None.
    front_door
        The front door's props.
    monitoring
        The monitoring's props, or None when ``monitoring=False``.
    rollout
        The rollout's props, or None when ``rollout="none"``.
    """

    function: ModelFunctionProps
    reserved_concurrency: int | None = None
    model_name: str = contract.DEFAULT_MODEL_NAME
    max_body_bytes: int = contract.DEFAULT_MAX_BODY_BYTES
    shared_api: SharedHttpApi | None = None
    cold_start: ColdStart = field(default_factory=ColdStart)
    compute: Compute = "on_demand"
    managed_instances: ManagedInstancesProps | None = None
    front_door: FrontDoorProps = field(default_factory=lambda: FrontDoorProps(owner=OWNER))
    monitoring: MonitoringProps | None = field(default_factory=lambda: MonitoringProps(owner=OWNER))
    rollout: RolloutProps | None = field(default_factory=lambda: RolloutProps(owner=OWNER))

    def __post_init__(self) -> None:
        if not isinstance(self.function, ModelFunctionProps):
            raise invalid("function", self.function, "a ModelFunctionProps")
        if self.reserved_concurrency is not None:
            check_int("reserved_concurrency", self.reserved_concurrency, 1)
        if not contract.is_valid_model_name(self.model_name):
            raise invalid("model_name", self.model_name, contract.MODEL_NAME_RULE)
        check_int("max_body_bytes", self.max_body_bytes, 1, contract.SYNC_PAYLOAD_LIMIT_BYTES)
        if (
            self.monitoring is not None
            and self.monitoring.metrics_namespace != self.function.metrics_namespace
        ):
            raise invalid(
                "monitoring.metrics_namespace",
                self.monitoring.metrics_namespace,
                f"the function's metrics_namespace ({self.function.metrics_namespace!r}): set "
                "metrics_namespace on the endpoint, which feeds the function, the alarms and the dashboard",
            )
        check_choice("compute", self.compute, COMPUTES)
        if (self.compute == "managed_instances") != isinstance(self.managed_instances, ManagedInstancesProps):
            raise invalid(
                "managed_instances",
                self.managed_instances,
                "ManagedInstancesProps exactly when compute='managed_instances' (else None)",
            )
        if self.function.on_managed_instances != (self.compute == "managed_instances"):
            raise invalid(
                "function.on_managed_instances",
                self.function.on_managed_instances,
                f"{self.compute == 'managed_instances'} with compute={self.compute!r} (from_settings does)",
            )
        self._check_parts_together()
        self._check_managed_instances()

    def _check_managed_instances(self) -> None:
        if self.managed_instances is None:
            return
        f = self.function
        try:
            self.managed_instances.check_function(
                runtime=f.runtime,
                architecture=f.architecture,
                memory_size=f.memory_size,
                cold_start=self.cold_start.strategy,
            )
        except PropsError as exc:
            raise exc.relabel(OWNER) from None

    def _check_parts_together(self) -> None:
        # Rules that span two parts' props; each part checked its own values when its props were made.
        try:
            self.cold_start.check_function(self.function.runtime, self.function.ephemeral_storage_mb)
        except PropsError as exc:
            raise exc.relabel(OWNER, {"cold_start": "cold_start"}, "cold_start.") from None
        top = self.cold_start.max or self.cold_start.min
        reserved = self.reserved_concurrency
        if self.cold_start.strategy == "provisioned" and reserved is not None and reserved < top:
            raise invalid(
                "reserved_concurrency", reserved, f"at least the provisioned concurrency it must hold ({top})"
            )
        if self.shared_api is not None:
            if not isinstance(self.shared_api, SharedHttpApi):
                raise invalid("shared_api", self.shared_api, "a SharedHttpApi construct")
            if self.front_door.front_door != "http_api":
                raise invalid("front_door", self.front_door.front_door, "http_api (the kind of a shared_api)")
            self.shared_api.check_model_name(self.model_name)

    @property
    def model_path(self) -> Path:
        """The model file (the function's ``model_path``)."""
        return self.function.model_path

    @classmethod
    def from_settings(cls, **settings: Unpack[EndpointSettings]) -> EndpointProps:
        """Check the settings (keyword arguments or a cdk.json environment) and compose them.

        Raises
        ------
        TypeError
            An unknown prop (the message lists every allowed one).
        PropsError
            A value its owner cannot build; the message names the prop as the user wrote it.
        """
        check_known(OWNER, settings, SETTINGS)
        if "model_path" not in settings:
            raise TypeError(f"{OWNER}: model_path is required (the model file to serve)")
        given: dict[str, Any] = dict(settings)
        layer = _section(LayerProps, "layer", given.pop("layer", None), _flat(given, "layer"))
        function_given = {name: given.pop(name) for name in FUNCTION_SETTINGS if name in given}
        # Where the function runs sets its memory range: known before the function's props are made.
        compute = check_choice("compute", given.pop("compute", "on_demand"), COMPUTES)
        function = ModelFunctionProps(
            **function_given, layer=layer, on_managed_instances=compute == "managed_instances", owner=OWNER
        )
        if given.get("shared_api") is not None:
            _refuse_own_front_door(settings)
        parts: dict[str, Any] = {
            "cold_start": _cold_start(given),
            **_compute(given, compute),
            "front_door": _front_door(given),
            "monitoring": _monitoring(given, function.metrics_namespace),
            "rollout": _rollout(given.pop("rollout", "canary")),
        }
        return cls(function=function, **given, **parts)


def _flat(given: dict[str, Any], section: str) -> dict[str, Any]:
    names = FLAT_PART_SETTINGS[section]
    return {names[prop]: given.pop(prop) for prop in list(names) if prop in given}


def _section(kind: Any, section: str, value: object, flat: dict[str, Any]) -> Any:
    """A part's props from its nested section (a props object or a mapping) or from flat settings."""
    if value is not None and flat:
        flat_names = {v: k for k, v in FLAT_PART_SETTINGS[section].items()}
        raise invalid(
            section,
            value,
            f"either the {section} section or the flat settings {', '.join(flat_names[n] for n in flat)}, "
            "not both",
        )
    if value is not None:
        return kind.from_config(value, owner=OWNER, section=section)
    flat_names = {v: k for k, v in FLAT_PART_SETTINGS.get(section, {}).items()}
    try:
        return kind(**flat, owner=OWNER)
    except PropsError as exc:
        raise exc.relabel(OWNER, flat_names) from None


def _refuse_own_front_door(settings: Mapping[str, Any]) -> None:
    # A shared API's own auth, throttling and CORS apply: a front door asked for here would be ignored.
    for name in ("front_door", *FLAT_PART_SETTINGS["front_door"]):
        if name in settings and not (name == "front_door" and settings[name] == "http_api"):
            raise invalid(
                name,
                settings[name],
                "not set with shared_api: the shared API's own auth, throttling and CORS apply (set them on "
                "the SharedHttpApi)",
            )


def _compute(given: dict[str, Any], compute: str) -> dict[str, Any]:
    section = given.pop("managed_instances", None)
    if compute == "on_demand":
        if section is not None:
            # Settings of a compute mode that is off would be silently dropped: say so instead.
            raise invalid(
                "managed_instances", section, "not set unless compute='managed_instances' (set compute too)"
            )
        return {"compute": compute}
    props = ManagedInstancesProps.from_config(section, owner=OWNER)
    return {"compute": compute, "managed_instances": props}


def _front_door(given: dict[str, Any]) -> FrontDoorProps:
    value = given.pop("front_door", None)
    flat = _flat(given, "front_door")
    if isinstance(value, str):  # the kind alone: "http_api", "rest_api" or "function_url"
        flat["front_door"] = value
        value = None
    return cast(FrontDoorProps, _section(FrontDoorProps, "front_door", value, flat))


def _cold_start(given: dict[str, Any]) -> ColdStart:
    value = given.pop("cold_start", None)
    provisioned = given.pop("provisioned_concurrency", 0)
    check_int("provisioned_concurrency", provisioned, 0)
    if provisioned and value is not None:
        raise invalid(
            "provisioned_concurrency",
            provisioned,
            "0 when cold_start is set (use cold_start min/max instead; SnapStart cannot be combined "
            "with provisioned concurrency)",
        )
    if provisioned:
        return ColdStart(strategy="provisioned", min=provisioned)
    return ColdStart.from_config(value, owner=OWNER)


def _monitoring(given: dict[str, Any], namespace: str) -> MonitoringProps | None:
    value = given.pop("monitoring", True)
    flat = _flat(given, "monitoring")
    if not isinstance(value, bool | Mapping | MonitoringProps):
        raise invalid(
            "monitoring", value, "True or False, or the monitoring section (an object or MonitoringProps)"
        )
    if isinstance(value, bool):
        if not check_bool("monitoring", value):
            if flat:
                # Settings of a part that is off would be silently dropped: say so instead.
                name = {v: k for k, v in FLAT_PART_SETTINGS["monitoring"].items()}[next(iter(flat))]
                raise invalid(name, flat[next(iter(flat))], "not set when monitoring is off (no alarms)")
            return None
        value = None
    if isinstance(value, Mapping) and "metrics_namespace" in value:
        raise invalid(
            "monitoring.metrics_namespace",
            value["metrics_namespace"],
            "no such key here: set metrics_namespace on the endpoint (it feeds the function and the alarms)",
        )
    props = cast(MonitoringProps, _section(MonitoringProps, "monitoring", value, flat))
    if isinstance(value, MonitoringProps) and props.metrics_namespace != contract.DEFAULT_METRICS_NAMESPACE:
        return props  # a namespace of its own: EndpointProps checks it equals the function's
    return replace(props, metrics_namespace=namespace)


def _rollout(value: object) -> RolloutProps | None:
    if isinstance(value, RolloutProps):
        return value
    if isinstance(value, Mapping):
        if value.get("strategy") == "none":  # the section can say "no rollout" as the flat prop can
            return None
        return cast(RolloutProps, _section(RolloutProps, "rollout", value, {}))
    strategy = check_choice("rollout", value, ROLLOUTS)
    return None if strategy == "none" else RolloutProps(strategy=strategy, owner=OWNER)
