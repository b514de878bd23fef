"""``cdk-sklearn cost``'s Lambda Managed Instances: the flags, an environment's configuration read
through its props, and the :class:`~cdk_sklearn.cost.lmi.Capacity` priced (this endpoint's, or the
alternative beside on-demand Lambda)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

from cdk_sklearn.cost.compare import alternative_capacity
from cdk_sklearn.cost.lmi import (
    DEFAULT_GIB_PER_VCPU,
    DEFAULT_MIN_ENVIRONMENTS,
    GIB_PER_VCPU,
    Capacity,
    min_memory_mb,
)
from cdk_sklearn.cost.prices import LMI_INSTANCE_TYPES
from lambda_runtime import limits

if TYPE_CHECKING:  # the config starts the CDK: only with --env
    from cdk_sklearn.config import EnvironmentConfig


def add_managed_instances_arguments(parser: argparse.ArgumentParser) -> None:
    """Lambda Managed Instances: this endpoint's compute mode, or the alternative past the break-even."""
    mi = parser.add_argument_group(
        "Lambda Managed Instances (this endpoint's with --compute managed_instances or an --env on them; "
        "else the alternative priced)"
    )
    mi.add_argument(
        "--compute",
        choices=("on_demand", "managed_instances"),
        default=None,
        help="where this endpoint runs (default: --env's, else on_demand); managed_instances answers "
        "'what if' for an on-demand environment",
    )
    mi.add_argument(
        "--min-environments",
        type=int,
        metavar="K",
        help=f"execution environments always running (default: --env's, else {DEFAULT_MIN_ENVIRONMENTS})",
    )
    mi.add_argument(
        "--max-environments",
        type=int,
        metavar="K",
        help="the most environments (default: --env's, else none)",
    )
    mi.add_argument(
        "--memory-gib-per-vcpu",
        type=float,
        choices=GIB_PER_VCPU,
        metavar="{2,4,8}",
        help=f"memory per vCPU of an environment (default: --env's, else {DEFAULT_GIB_PER_VCPU:g})",
    )
    mi.add_argument(
        "--instance-type",
        action="append",
        choices=LMI_INSTANCE_TYPES,
        help="an instance type the capacity provider may launch; repeat for several (default: --env's, "
        "else any priced: the cheapest floor is priced)",
    )
    mi.add_argument(
        "--nat-gateways",
        type=int,
        metavar="N",
        help="NAT gateways of the VPC the construct creates (default: --env's, else 0: VPC endpoints only)",
    )


def managed_settings(config: EnvironmentConfig) -> dict[str, Any]:
    """The cost inputs of an environment on managed instances: its configuration as its props describe
    it (:meth:`~cdk_sklearn.managed_instances.ManagedInstancesProps.capacity`, as the synth line's floor
    reads it); empty for an on-demand environment."""
    props = config.endpoint
    if props.managed_instances is None:
        return {}
    from cdk_sklearn.managed_instances import zones_of  # the CDK is running already (the config)

    capacity = props.managed_instances.capacity(
        memory_size=props.function.memory_size,
        architecture=props.function.architecture,
        tracing=props.function.tracing,
        availability_zones=zones_of(environment_bound=bool(config.account and config.region)),
    )
    return {"compute": "managed_instances", "capacity": capacity}


CAPACITY_FLAGS = {
    "min_environments": "min_environments",
    "max_environments": "max_environments",
    "memory_gib_per_vcpu": "memory_gib_per_vcpu",
    "instance_type": "instance_types",
    "nat_gateways": "nat_gateways",
}
"""Each managed-instances flag's :class:`~cdk_sklearn.cost.lmi.Capacity` field."""


def capacity_from_args(args: argparse.Namespace, settings: dict[str, Any]) -> tuple[Capacity, bool]:
    """The managed-instances configuration to price, and whether it is this endpoint's.

    This endpoint's (``--compute managed_instances``, or an ``--env`` on managed instances): the
    environment's configuration as its props describe it, or the construct's defaults, with the flags
    given over it. Otherwise the alternative priced beside on-demand Lambda
    (:func:`~cdk_sklearn.cost.compare.alternative_capacity`), with the flags given over it.

    Raises
    ------
    ValueError
        A value out of range (the message names it and the fix).
    """
    managed = (args.compute or settings.get("compute", "on_demand")) == "managed_instances"
    changes: dict[str, Any] = {
        field: getattr(args, flag)
        for flag, field in CAPACITY_FLAGS.items()
        if getattr(args, flag) is not None
    }
    if "instance_types" in changes:
        changes["instance_types"] = tuple(dict.fromkeys(changes["instance_types"]))
    memory = args.memory_mb if args.memory_mb is not None else settings.get("memory_mb")
    if not managed:
        return alternative_capacity(memory or limits.DEFAULT_MEMORY_MB, **changes), False
    if args.memory_mb is not None:
        changes["memory_mb"] = args.memory_mb
    if args.architecture is not None:
        changes["architecture"] = args.architecture
    base: Capacity | None = settings.get("capacity")
    if base is not None:
        return dataclasses.replace(base, **changes), True
    # The construct's default memory (1,024 MB) is below what managed instances run: the least they do.
    changes.setdefault(
        "memory_mb", memory or min_memory_mb(changes.get("memory_gib_per_vcpu", DEFAULT_GIB_PER_VCPU))
    )
    changes.setdefault("architecture", settings.get("architecture", limits.DEFAULT_ARCHITECTURE))
    return Capacity(**changes), True
