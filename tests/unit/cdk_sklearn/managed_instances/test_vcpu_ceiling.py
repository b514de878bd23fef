"""max_vcpus against min_environments: the capacity provider's ceiling must hold the version's minimum."""

from __future__ import annotations

import pytest

from cdk_sklearn.managed_instances import ManagedInstancesProps
from cdk_sklearn.validation import PropsError


def test_fails_on_a_vcpu_ceiling_below_the_minimum_environments() -> None:
    # 10240 MB at 2 GiB per vCPU is 5 vCPUs an environment; 3 of them need 15, more than max_vcpus=12: the
    # version could never reach min_environments.
    props = ManagedInstancesProps(min_environments=3, max_vcpus=12, memory_gib_per_vcpu=2.0)
    with pytest.raises(
        PropsError, match=r"managed_instances\.max_vcpus=12 is invalid; allowed: at least 15"
    ) as info:
        props.check_function(runtime="python3.13", architecture="arm64", memory_size=10240, cold_start="none")
    assert "min_environments=2" in str(info.value)


def test_a_vcpu_ceiling_that_holds_the_minimum_environments_is_accepted() -> None:
    # 4096 MB at 4 GiB per vCPU: 1 vCPU an environment; 12 environments fill max_vcpus=12 exactly.
    props = ManagedInstancesProps(min_environments=12, max_vcpus=12)
    props.check_function(runtime="python3.13", architecture="arm64", memory_size=4096, cold_start="none")
