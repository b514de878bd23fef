"""Lambda Managed Instances for an endpoint: its props, its network and its capacity provider.

:class:`ManagedInstancesProps` holds (and validates, once) every setting of the ``managed_instances``
section; :func:`build_network` makes or takes the network the instances run in; :func:`attach_capacity`
creates the capacity provider and attaches the function with only the alias's version published. The
endpoint (``compute="managed_instances"``) composes them; the monthly floor is
:func:`cdk_sklearn.cost.lmi.lmi_floor`.
"""

from __future__ import annotations

from cdk_sklearn.managed_instances.capacity import attach_capacity, version_options
from cdk_sklearn.managed_instances.network import Network, build_network
from cdk_sklearn.managed_instances.props import (
    CONFIG_KEYS,
    SETTINGS,
    ManagedInstancesProps,
    ManagedInstancesSettings,
    instance_architecture,
)

__all__ = [
    "CONFIG_KEYS",
    "SETTINGS",
    "ManagedInstancesProps",
    "ManagedInstancesSettings",
    "Network",
    "attach_capacity",
    "build_network",
    "instance_architecture",
    "version_options",
]
