"""Which account and region a run acts on, confirmed before anything is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

ACCOUNT_VARIABLE: Final = "AWS_PROOF_ACCOUNT"
REGION_VARIABLES: Final = ("AWS_REGION", "AWS_DEFAULT_REGION")

NEEDS: Final = (
    "it deploys three stacks to a sandbox AWS account, checks them and deletes them. "
    "It needs: AWS credentials for that account (AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, with rights to deploy CDK stacks; the account bootstrapped with cdk "
    "bootstrap); {account} set to that account's 12-digit id, to confirm it is the one meant; and a "
    "region (--region, AWS_REGION or AWS_DEFAULT_REGION). Missing: {missing}. "
    "`make aws-proof AWS_PROOF_FLAGS=--dry-run` (or `python -m devtools.awsproof --dry-run`) prints the plan "
    "and the cost estimate without any of them."
)


class NotConfirmed(Exception):
    """The run may not start; the message is one paragraph saying what is needed."""


@dataclass(frozen=True)
class Target:
    """The confirmed account and region."""

    account: str
    region: str


def region_from(environ: Mapping[str, str], given: str | None) -> str | None:
    """The region: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``."""
    return given or next((environ[v] for v in REGION_VARIABLES if environ.get(v)), None)


def preconditions(session: Any, environ: Mapping[str, str] = os.environ, region: str | None = None) -> Target:
    """Check credentials, ``AWS_PROOF_ACCOUNT`` and region are present, without calling AWS.

    Parameters
    ----------
    session
        A ``boto3.Session``; only ``get_credentials()`` is called (no network for static keys).

    Raises
    ------
    NotConfirmed
        Naming everything missing at once.
    """
    missing = []
    if session.get_credentials() is None:
        missing.append("AWS credentials")
    account = environ.get(ACCOUNT_VARIABLE, "").strip()
    if not account:
        missing.append(ACCOUNT_VARIABLE)
    chosen = region_from(environ, region) or getattr(session, "region_name", None)
    if not chosen:
        missing.append("a region")
    if missing:
        raise NotConfirmed(NEEDS.format(account=ACCOUNT_VARIABLE, missing=", ".join(missing)))
    return Target(account, str(chosen))


def confirm_account(sts: Any, expected: str) -> str:
    """Return the caller's account if it is ``expected``; raise :class:`NotConfirmed` otherwise.

    Credentials STS refuses (expired, revoked) or cannot be reached are :class:`NotConfirmed` too.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        actual = str(sts.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise NotConfirmed(
            f"cannot confirm the account: sts get-caller-identity failed ({exc}). Nothing was created. "
            "Refresh the credentials (aws sso login, or new keys) and check the network."
        ) from None
    if actual != expected:
        raise NotConfirmed(
            f"{ACCOUNT_VARIABLE}={expected} but these credentials are for account {actual}. Nothing was "
            f"created. Set {ACCOUNT_VARIABLE} to the sandbox account the proof may deploy to and use its "
            "credentials."
        )
    return actual
