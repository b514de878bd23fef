"""Per-environment configuration, read from the ``environments`` object in cdk.json context.

cdk.json::

    "context": {
      "environments": {
        "dev":  {"model_path": "models/iris.joblib"},
        "prod": {"model_path": "models/iris.joblib", "provisioned_concurrency": 2}
      }
    }

``cdk synth -c env=prod`` selects one (default ``dev``). Everything is checked here, before any
construct exists, and a problem stops synthesis with one line that names the allowed values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdk_sklearn.endpoint_props import SETTINGS, EndpointProps

DEFAULT_ENVIRONMENT = "dev"
# Keys of an environment that configure the stack rather than the endpoint.
STACK_KEYS = ("account", "region", "stack_name", "description", "tags")
ENDPOINT_KEYS = SETTINGS
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class ConfigError(ValueError):
    """cdk.json context is wrong; the message is one line that says how to fix it."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """One environment of the app, validated.

    Attributes
    ----------
    name
        The environment's key in ``environments`` (``dev``, ``prod``, ...).
    stack_name
        CloudFormation stack name; default ``SklearnEndpoint-<name>``.
    account, region
        Deployment target; None leaves the stack environment-agnostic (resolved at deploy).
    tags
        Tags applied to every resource of the stack.
    description
        The CloudFormation stack description; default ``cdk-sklearn endpoint, environment <name>``.
    endpoint
        Validated properties of the :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`.
    """

    name: str
    stack_name: str
    account: str | None
    region: str | None
    tags: Mapping[str, str]
    endpoint: EndpointProps
    description: str = ""


def load_environment(context: Mapping[str, Any]) -> EnvironmentConfig:
    """Return the environment selected by the ``env`` context key, validated.

    Parameters
    ----------
    context
        CDK context: the ``environments`` object and the optional ``env`` selector.

    Raises
    ------
    ConfigError
        Unknown environment, unknown key, or a value out of range.
    """
    environments = context.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(
            'cdk.json: context has no "environments" object; add e.g. '
            '"environments": {"dev": {"model_path": "models/iris.joblib"}}'
        )
    name = context.get("env", DEFAULT_ENVIRONMENT)
    if name not in environments:
        raise ConfigError(
            f"unknown environment {name!r}; allowed: {', '.join(sorted(environments))} "
            "(select one with -c env=NAME, defined under context.environments in cdk.json)"
        )
    settings = environments[name]
    where = f"cdk.json environments.{name}"
    if not isinstance(settings, Mapping):
        raise ConfigError(f"{where} must be an object of settings, got {settings!r}")
    unknown = sorted(set(settings) - set(STACK_KEYS) - set(ENDPOINT_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(STACK_KEYS + ENDPOINT_KEYS))}"
        )
    endpoint_settings = {k: v for k, v in settings.items() if k in ENDPOINT_KEYS}
    if "model_path" not in endpoint_settings:
        raise ConfigError(f'{where}: "model_path" is required (the model file to serve)')
    try:
        endpoint = EndpointProps.from_settings(**endpoint_settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return EnvironmentConfig(
        name=name,
        stack_name=_stack_name(where, settings.get("stack_name", f"SklearnEndpoint-{name}")),
        account=_matching(where, "account", settings.get("account"), _ACCOUNT, "a 12-digit AWS account id"),
        region=_matching(where, "region", settings.get("region"), _REGION, "an AWS region such as us-east-1"),
        tags=_tags(where, settings.get("tags", {})),
        endpoint=endpoint,
        description=_description(
            where, settings.get("description", f"cdk-sklearn endpoint, environment {name}")
        ),
    )


def _description(where: str, value: object) -> str:
    # CloudFormation refuses a stack description over 1,024 bytes at deploy; say so at synth.
    if not isinstance(value, str) or not value.strip() or len(value.encode()) > 1024:
        raise ConfigError(
            f"{where}: description must be a non-empty string of at most 1,024 bytes, got {value!r:.80}"
        )
    return value


def _matching(where: str, key: str, value: object, pattern: re.Pattern[str], allowed: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(f"{where}: {key}={value!r} is invalid; allowed: {allowed}")
    return value


def _stack_name(where: str, value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", value):
        raise ConfigError(
            f"{where}: stack_name={value!r} is invalid; allowed: letters, digits and '-', "
            "starting with a letter, at most 128 characters"
        )
    return value


def _tags(where: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where}: tags={value!r} is invalid; allowed: an object of string to string")
    return dict(value)
