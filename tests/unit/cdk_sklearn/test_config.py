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


def test_every_part_can_be_a_nested_section(iris_model):
    settings = {
        "model_path": str(iris_model),
        "layer": {"slim": True},
        "cold_start": {"strategy": "provisioned", "min": 2},
        "front_door": {"front_door": "rest_api", "auth": "api_key"},
        "monitoring": {"alarm_email": "ops@example.com", "latency_p99_threshold_ms": 250},
        "rollout": {"strategy": "linear"},
    }
    props = load_environment({"environments": {"prod": settings}, "env": "prod"}).endpoint
    assert (
        props.function.layer.slim,
        props.cold_start.min,
        props.front_door.auth,
        props.monitoring.latency_p99_threshold_ms if props.monitoring else None,
        props.rollout.strategy if props.rollout else None,
    ) == (True, 2, "api_key", 250.0, "linear")


def test_fails_on_an_unknown_key_of_a_section_naming_it(iris_model):
    settings = {"model_path": str(iris_model), "monitoring": {"latency_ms": 250}}
    with pytest.raises(ConfigError, match=r"monitoring\.latency_ms=250 is invalid"):
        load_environment({"environments": {"dev": settings}})


def test_description_reaches_the_stack(environments):
    import aws_cdk as cdk

    from cdk_sklearn.stack import SklearnEndpointStack

    environments["dev"]["description"] = "churn scoring, team data"
    config = load_environment({"environments": environments})
    stack = SklearnEndpointStack(cdk.App(), config)
    assert stack.template_options.description == "churn scoring, team data"


def test_fails_on_a_description_over_1024_bytes(environments):
    environments["dev"]["description"] = "é" * 513
    with pytest.raises(ConfigError, match="description must be a non-empty string of at most 1,024 bytes"):
        load_environment({"environments": environments})
