"""Test doubles for the AWS proof: a clock that never sleeps, stubbed boto3 clients, recorded answers."""

from __future__ import annotations

import datetime as dt

import boto3
from botocore.stub import Stubber

START = dt.datetime(2026, 11, 30, 9, 45, 0, tzinfo=dt.UTC)
REGION = "eu-west-1"
ACCOUNT = "123456789012"


class FakeClock:
    """Starts at START; sleep advances time instantly and is recorded."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


def stubbed(service: str) -> tuple[object, Stubber]:
    """A real boto3 client for ``service`` with a Stubber activated on it (no credentials, no network)."""
    client = boto3.client(
        service, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def report_line(
    request_id: str, duration: float, *, init: float | None = None, restore: float | None = None
) -> str:
    """A REPORT line as Lambda writes it (python3.13, text log format)."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {int(duration) + 1} ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 181 MB\t"
    )
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    if restore is not None:
        line += f"Restore Duration: {restore:.2f} ms\tBilled Restore Duration: {int(restore)} ms\t"
    return line + "\n"
