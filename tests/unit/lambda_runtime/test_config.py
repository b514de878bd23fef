"""Settings from the environment: defaults, and problems reported instead of raised."""

from __future__ import annotations

import pytest

from lambda_runtime.config import Settings


def test_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings.model_uri is None
    assert settings.model_name == "model"
    assert settings.max_body_bytes == 5 * 1024 * 1024
    assert settings.log_level == "INFO"
    assert settings.problems == ()


def test_reads_every_variable() -> None:
    settings = Settings.from_environ(
        {
            "MODEL_URI": "s3://bucket/key.joblib",
            "MODEL_SHA256": "AB" * 32,
            "MODEL_NAME": "iris-v2",
            "MODEL_SKLEARN_VERSION": "1.5.2",
            "MAX_BODY_BYTES": "1024",
            "SKOPS_TRUSTED_TYPES": "a.B, c.D",
            "LOG_LEVEL": "debug",
            "METRICS_NAMESPACE": "ns",
            "MODEL_RELOAD_INTERVAL_SECONDS": "2.5",
        }
    )
    assert settings.model_sha256 == "ab" * 32
    assert settings.model_name == "iris-v2"
    assert settings.training_sklearn_version == "1.5.2"
    assert settings.max_body_bytes == 1024
    assert settings.skops_trusted_types == ("a.B", "c.D")
    assert settings.log_level == "DEBUG"
    assert settings.metrics_namespace == "ns"
    assert settings.reload_interval_seconds == 2.5
    assert settings.problems == ()


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("MAX_BODY_BYTES", "lots", "MAX_BODY_BYTES must be a whole number"),
        ("MAX_BODY_BYTES", "0", "greater than 0, got '0'"),
        ("MODEL_SHA256", "xyz", "64 hexadecimal"),
        ("MODEL_NAME", "a/b", "MODEL_NAME must be"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
        ("MODEL_RELOAD_INTERVAL_SECONDS", "nan", "a number of seconds"),
    ],
)
def test_fails_with_a_problem_naming_the_variable_and_value(name: str, value: str, fragment: str) -> None:
    problems = Settings.from_environ({name: value}).problems
    assert len(problems) == 1
    assert fragment in problems[0]
