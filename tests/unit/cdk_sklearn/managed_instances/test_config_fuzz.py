"""A hostile cdk.json ``managed_instances`` section: whatever JSON it holds, the only failure is a PropsError
that names ``managed_instances.<key>`` and says what is allowed, never another exception."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdk_sklearn.config import ConfigError, load_environment
from cdk_sklearn.endpoint_props import EndpointProps
from cdk_sklearn.managed_instances import CONFIG_KEYS, ManagedInstancesProps
from cdk_sklearn.validation import PropsError

# Any JSON value, with the edges json.loads really produces: integers beyond a float's range, inf from 1e400,
# and strings shaped like the valid ones.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.sampled_from([0, 1, 2, 3, 4, 8, 12, 1600, 15000, 15001, 10**400, -(10**400)])
    | st.floats(allow_nan=False)
    | st.sampled_from([2.0, 4.0, 8.0, 2.5, float("inf"), float("-inf")])
    | st.text(max_size=12)
    | st.sampled_from(["m7g.large", "m7i.large", "subnet-0123456789abcdef0", "sg-0123456789abcdef0", ""])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from([*CONFIG_KEYS, "vpc", "subnets", "security_groups", "owner", "MinEnvironments", ""])
SECTIONS = st.dictionaries(KEYS, JSON_VALUES, max_size=5)


def _named_key(error: PropsError) -> str:
    match = re.match(r"managed_instances\.(\w*)", error.prop)
    assert match, f"the error names no managed_instances key: {error}"
    return match.group(1)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECTIONS)
def test_any_section_is_accepted_or_refused_naming_its_key(section: dict[str, Any]) -> None:
    try:
        ManagedInstancesProps.from_config(section)
    except PropsError as error:
        key = _named_key(error)
        assert key in section, f"{error} names {key!r}, which the section does not set: {section}"
        assert "allowed:" in str(error)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_section_value_is_refused_as_the_section_when_not_an_object(value: Any) -> None:
    if isinstance(value, dict) or value is None:
        return
    with pytest.raises(PropsError, match=r"managed_instances="):
        ManagedInstancesProps.from_config(value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # json.loads gives an int with 401 digits; float() of it overflows.
        ('{"memory_gib_per_vcpu": 1' + "0" * 400 + "}", "memory_gib_per_vcpu"),
        ('{"memory_gib_per_vcpu": 1e400}', "memory_gib_per_vcpu"),
        ('{"max_vcpus": 1' + "0" * 400 + "}", "max_vcpus"),
        ('{"min_environments": 3.0}', "min_environments"),
        ('{"instance_types": ["m7g.large", "m7g.large"]}', "instance_types"),
        ('{"subnet_ids": "subnet-0123456789abcdef0"}', "subnet_ids"),
    ],
)
def test_fails_on_json_edge_values_naming_the_key(text: str, key: str) -> None:
    with pytest.raises(PropsError, match=rf"managed_instances\.{key}=.* is invalid; allowed: "):
        ManagedInstancesProps.from_config(json.loads(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECTIONS)
def test_endpoint_settings_refuse_a_bad_section_as_a_props_error(section: dict[str, Any]) -> None:
    # The endpoint's own reading of the section (with compute and the function settings it checks against).
    try:
        EndpointProps.from_settings(
            model_path="models/iris.joblib",
            compute="managed_instances",
            memory_size=8192,
            managed_instances=section,
        )
    except PropsError as error:
        assert error.prop.startswith(("managed_instances", "memory_size")), str(error)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECTIONS | JSON_VALUES)
def test_cdk_json_environment_refuses_a_bad_section_as_a_config_error(section: Any) -> None:
    environment = {
        "model_path": "models/iris.joblib",
        "compute": "managed_instances",
        "memory_size": 8192,
        "managed_instances": section,
    }
    try:
        load_environment({"environments": {"mi": environment}, "env": "mi"})
    except ConfigError as error:
        assert "managed_instances" in str(error) or "memory_size" in str(error), str(error)


def test_cdk_json_names_the_key_of_an_overflowing_ratio() -> None:
    section = json.loads('{"memory_gib_per_vcpu": 1' + "0" * 400 + "}")
    environment = {"model_path": "models/iris.joblib", "compute": "managed_instances", "memory_size": 8192}
    with pytest.raises(ConfigError, match=r"managed_instances\.memory_gib_per_vcpu="):
        load_environment({"environments": {"mi": {**environment, "managed_instances": section}}, "env": "mi"})
