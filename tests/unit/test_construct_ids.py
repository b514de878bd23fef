"""Construct and logical IDs are a contract: a rename or a removal fails here, an addition does not.

The snapshot (tests/unit/snapshots/construct_ids.json) was written by ``python -m
tests.support.construct_ids``; regenerate it only for an intended rename, and say so in the README.
"""

from __future__ import annotations

import json

import pytest

from tests.support.construct_ids import SNAPSHOT, construct_ids, environments

SNAPSHOTTED: dict[str, dict[str, str]] = json.loads(SNAPSHOT.read_text())


@pytest.mark.parametrize("environment", environments())
def test_every_snapshotted_resource_keeps_its_ids(environment: str, demo_model) -> None:
    current = construct_ids(environment)
    expected = SNAPSHOTTED[environment]
    missing = {key: value for key, value in expected.items() if key not in current}
    moved = {
        key: (value, current[key])
        for key, value in expected.items()
        if key in current and current[key] != value
    }
    assert not missing, f"resources renamed or removed in {environment}: {missing}"
    assert not moved, f"resources whose construct path changed in {environment}: {moved}"


def test_every_cdk_json_environment_has_a_snapshot() -> None:
    assert set(SNAPSHOTTED) == set(environments())
