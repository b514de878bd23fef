"""The account is confirmed before anything is created."""

from __future__ import annotations

import pytest

from devtools.awsproof.session import NotConfirmed, confirm_account, preconditions
from tests.unit.devtools.awsproof.fakes import ACCOUNT, stubbed


class _Session:
    def __init__(self, credentials: object, region: str | None = None) -> None:
        self._credentials = credentials
        self.region_name = region

    def get_credentials(self) -> object:
        return self._credentials


def test_preconditions_return_account_and_region():
    target = preconditions(_Session(object()), {"AWS_PROOF_ACCOUNT": ACCOUNT, "AWS_REGION": "eu-west-1"})
    assert (target.account, target.region) == (ACCOUNT, "eu-west-1")


def test_region_argument_wins_over_the_environment():
    target = preconditions(
        _Session(object()), {"AWS_PROOF_ACCOUNT": ACCOUNT, "AWS_REGION": "eu-west-1"}, "us-east-2"
    )
    assert target.region == "us-east-2"


def test_fails_naming_everything_missing():
    with pytest.raises(NotConfirmed, match="Missing: AWS credentials, AWS_PROOF_ACCOUNT, a region"):
        preconditions(_Session(None), {})


def test_confirmed_account_is_returned():
    sts, stub = stubbed("sts")
    stub.add_response(
        "get_caller_identity", {"Account": ACCOUNT, "Arn": "arn:aws:iam::123456789012:user/x", "UserId": "X"}
    )
    assert confirm_account(sts, ACCOUNT) == ACCOUNT


def test_fails_when_the_credentials_are_for_another_account():
    sts, stub = stubbed("sts")
    stub.add_response(
        "get_caller_identity",
        {"Account": "999999999999", "Arn": "arn:aws:iam::999999999999:user/x", "UserId": "X"},
    )
    with pytest.raises(
        NotConfirmed,
        match="AWS_PROOF_ACCOUNT=123456789012 but these credentials are for account 999999999999",
    ):
        confirm_account(sts, ACCOUNT)


def test_fails_when_sts_refuses_the_credentials():
    sts, stub = stubbed("sts")
    stub.add_client_error(
        "get_caller_identity", "ExpiredToken", "The security token included in the request is expired"
    )
    with pytest.raises(NotConfirmed, match=r"cannot confirm the account: .*ExpiredToken"):
        confirm_account(sts, ACCOUNT)
