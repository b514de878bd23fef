"""The one props shape: every part's props type reads its cdk.json section the same way (ConfigSection)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cdk_sklearn.cold_start import ColdStart
from cdk_sklearn.front_door import FrontDoorProps
from cdk_sklearn.layer import LayerProps
from cdk_sklearn.monitoring import MonitoringProps
from cdk_sklearn.rollout import RolloutProps
from cdk_sklearn.validation import ConfigSection, PropsError

# Each part's props type, its cdk.json section, the construct its errors name by default, and one value
# it refuses.
PARTS = [
    pytest.param(FrontDoorProps, "front_door", "SharedHttpApi", ("throttle_burst_limit", 0), id="front_door"),
    pytest.param(
        MonitoringProps, "monitoring", "EndpointMonitoring", ("latency_p99_threshold_ms", 0), id="monitoring"
    ),
    pytest.param(RolloutProps, "rollout", "SafeRollout", ("strategy", "blue_green"), id="rollout"),
    pytest.param(ColdStart, "cold_start", "ColdStart", ("strategy", "warm"), id="cold_start"),
    pytest.param(LayerProps, "layer", "SklearnLayer", ("slim", "yes"), id="layer"),
]


def keys(kind: type[ConfigSection]) -> str:
    return ", ".join(f.name for f in dataclasses.fields(kind) if f.name != "owner")  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_from_config_passes_props_through(kind: Any, section: str, owner: str, bad: Any) -> None:
    props = kind()
    assert kind.from_config(props) is props


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_from_config_none_and_empty_are_the_defaults(kind: Any, section: str, owner: str, bad: Any) -> None:
    assert kind.from_config(None) == kind() == kind.from_config({})


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_fails_from_config_on_a_value_named_in_its_section(
    kind: Any, section: str, owner: str, bad: Any
) -> None:
    key, value = bad
    with pytest.raises(PropsError) as excinfo:
        kind.from_config({key: value}, owner="SklearnLambdaEndpoint")
    error = excinfo.value
    assert (error.owner, error.prop, error.value) == ("SklearnLambdaEndpoint", f"{section}.{key}", value)


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_fails_from_config_on_an_unknown_key_listing_the_allowed_ones(
    kind: Any, section: str, owner: str, bad: Any
) -> None:
    with pytest.raises(PropsError) as excinfo:
        kind.from_config({"colour": "red", "another": 1})
    assert str(excinfo.value) == (
        f"{owner}: {section}.another=1 is invalid; allowed: the keys {keys(kind)} (unknown: another, colour)"
    )


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_fails_from_config_on_a_section_that_is_not_an_object(
    kind: Any, section: str, owner: str, bad: Any
) -> None:
    with pytest.raises(
        PropsError, match=rf"^{owner}: {section}='fast' is invalid; allowed: an object with the keys"
    ):
        kind.from_config("fast")


@pytest.mark.parametrize(("kind", "section", "owner", "bad"), PARTS)
def test_from_config_section_can_be_renamed(kind: Any, section: str, owner: str, bad: Any) -> None:
    key, value = bad
    with pytest.raises(PropsError, match=rf"^{owner}: parts\.{section}\.{key}="):
        kind.from_config({key: value}, section=f"parts.{section}")
