"""Per-environment configuration from cdk.json context."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdk_sklearn.config import ConfigError, load_environment


@pytest.fixture
def environments(iris_model: Path) -> dict[str, dict[str, object]]:
    return {
        "dev": {"model_path": str(iris_model)},
        "prod": {"model_path": str(iris_model), "provisioned_concurrency": 2, "region": "eu-west-1"},
    }


def test_default_is_dev(environments):
    config = load_environment({"environments": environments})
    assert config.name == "dev"
    assert config.stack_name == "SklearnEndpoint-dev"
    assert config.endpoint.cold_start.strategy == "none"


def test_selects_prod(environments):
    config = load_environment({"environments": environments, "env": "prod"})
    assert (config.endpoint.cold_start.strategy, config.endpoint.cold_start.min) == ("provisioned", 2)
    assert config.region == "eu-west-1"
    assert config.account is None


def test_fails_on_unknown_environment(environments):
    with pytest.raises(ConfigError, match=r"unknown environment 'stage'; allowed: dev, prod"):
        load_environment({"environments": environments, "env": "stage"})


def test_fails_without_environments():
    with pytest.raises(ConfigError, match='no "environments" object'):
        load_environment({})


def test_fails_on_unknown_setting(environments):
    environments["dev"]["memory"] = 512
    with pytest.raises(
        ConfigError, match=r"environments.dev: unknown setting\(s\) memory; allowed: .*memory_size"
    ):
        load_environment({"environments": environments})


def test_fails_on_bad_value(environments):
    environments["prod"]["provisioned_concurrency"] = -2
    with pytest.raises(ConfigError, match=r"environments.prod: .*provisioned_concurrency=-2 is invalid"):
        load_environment({"environments": environments, "env": "prod"})


def test_fails_without_model_path():
    with pytest.raises(ConfigError, match='"model_path" is required'):
        load_environment({"environments": {"dev": {}}})


def test_fails_on_bad_region(environments):
    environments["dev"]["region"] = "mars-1"
    with pytest.raises(ConfigError, match="region='mars-1' is invalid; allowed: an AWS region"):
        load_environment({"environments": environments})


def test_fails_on_bad_account(environments):
    environments["dev"]["account"] = "123"
    with pytest.raises(ConfigError, match="account='123' is invalid; allowed: a 12-digit"):
        load_environment({"environments": environments})


def test_messages_are_one_line(environments):
    environments["dev"]["memory_size"] = 1
    with pytest.raises(ConfigError) as excinfo:
        load_environment({"environments": environments})
    assert "\n" not in str(excinfo.value)
