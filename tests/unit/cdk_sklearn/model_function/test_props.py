"""The function's memory range: 10,240 MB on demand, 32,768 MB on Lambda Managed Instances (facts §1.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdk_sklearn.model_function import ModelFunctionProps
from cdk_sklearn.validation import PropsError


def test_on_demand_takes_up_to_10240_mb(iris_model: Path) -> None:
    assert ModelFunctionProps(model_path=iris_model, memory_size=10240).memory_size == 10240


def test_fails_on_demand_above_10240_mb_and_says_managed_instances_go_higher(iris_model: Path) -> None:
    with pytest.raises(PropsError) as info:
        ModelFunctionProps(model_path=iris_model, memory_size=16384)
    message = str(info.value)
    assert "memory_size=16384 is invalid" in message
    assert "from 128 to 10240 (on-demand Lambda's limit)" in message
    assert "up to 32768: set compute='managed_instances'" in message


def test_on_managed_instances_takes_up_to_32768_mb(iris_model: Path) -> None:
    props = ModelFunctionProps(model_path=iris_model, memory_size=32768, on_managed_instances=True)
    assert props.memory_size == 32768


def test_fails_on_managed_instances_above_32768_mb(iris_model: Path) -> None:
    with pytest.raises(
        PropsError, match="memory_size=32769 is invalid; allowed: an integer from 128 to 32768"
    ):
        ModelFunctionProps(model_path=iris_model, memory_size=32769, on_managed_instances=True)


def test_fails_above_32768_on_demand_without_pointing_to_managed_instances(iris_model: Path) -> None:
    with pytest.raises(PropsError) as info:
        ModelFunctionProps(model_path=iris_model, memory_size=40000)
    assert "allowed: an integer from 128 to 10240" in str(info.value)
    assert "managed_instances" not in str(info.value)
