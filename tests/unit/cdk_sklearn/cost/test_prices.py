"""The price table: dated, sourced, frozen, and holding the figures the issue quotes."""

from __future__ import annotations

import datetime as dt

import pytest

from cdk_sklearn.cost.prices import PRICES, PRICES_CHECKED, SAGEMAKER_INSTANCE_TYPES, price

VERIFICATION_LEVELS = {
    "aws-page",
    "price-list",
    "secondary",
    "issue-supplied, unverified",
    "unverified",
    "derived",
}


def test_every_price_has_a_unit_a_source_a_date_and_a_verification_level() -> None:
    for key, entry in PRICES.items():
        assert entry.unit, key
        assert entry.source.startswith("https://"), key
        assert dt.date.fromisoformat(entry.checked) <= dt.date.today(), key
        assert entry.verified in VERIFICATION_LEVELS, key


def test_table_is_dated() -> None:
    assert dt.date.fromisoformat(PRICES_CHECKED).year >= 2026


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        PRICES["lambda.request"] = PRICES["lambda.request"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lambda.request", 0.20 / 1e6),
        ("lambda.duration.x86_64", 0.0000166667),
        ("lambda.duration.arm64", 0.0000133334),
        ("lambda.pc.held.x86_64", 0.0000041667),
        ("lambda.pc.duration.x86_64", 0.0000097222),
        ("lambda.snapstart.cache", 0.0000015046),
        ("lambda.snapstart.restore", 0.0001397998),
        ("apigw.http.request", 1.00 / 1e6),
        ("apigw.rest.request", 3.50 / 1e6),
        ("lambda.function_url.request", 0.0),
        ("sagemaker.ml.t2.medium", 0.056),
        ("sagemaker.ml.t3.medium", 0.05),
        ("sagemaker.ml.m5.large", 0.115),
        ("sagemaker.ml.c5.large", 0.102),
        ("sagemaker.serverless.duration", 0.00002),
    ],
)
def test_issue_quoted_prices(key: str, value: float) -> None:
    assert price(key) == value


def test_arm64_provisioned_concurrency_is_priced_separately_and_lower() -> None:
    assert price("lambda.pc.held.arm64") < price("lambda.pc.held.x86_64")
    assert price("lambda.pc.duration.arm64") < price("lambda.pc.duration.x86_64")


def test_every_compared_instance_type_has_a_price() -> None:
    for instance_type in SAGEMAKER_INSTANCE_TYPES:
        assert price(f"sagemaker.{instance_type}") > 0


def test_fails_unknown_price_lists_known_keys() -> None:
    with pytest.raises(KeyError, match=r"no price named 'lambda\.gpu'.*lambda\.request"):
        price("lambda.gpu")
