"""The logical and construct IDs of every resource of the example app, per cdk.json environment.

The README calls construct IDs a contract: renaming one replaces the resource (a new function, a new
API URL). ``python -m tests.support.construct_ids`` writes the snapshot that
``tests/unit/test_construct_ids.py`` compares against; run it only when a rename is intended.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

PROJECT = Path(__file__).resolve().parents[2]
SNAPSHOT = PROJECT / "tests" / "unit" / "snapshots" / "construct_ids.json"
SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
# A new function version gets a logical ID with a hash of the function's configuration; the hash
# changes with every model or code change and is not part of the contract.
_VOLATILE = (re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}"),)


def normalise(logical_id: str) -> str:
    """The logical ID with its volatile hash replaced by ``<hash>``."""
    for pattern in _VOLATILE:
        logical_id = pattern.sub(r"\1<hash>", logical_id)
    return logical_id


def environments() -> list[str]:
    """The environments of the repository's cdk.json."""
    context = json.loads((PROJECT / "cdk.json").read_text())["context"]
    return sorted(context["environments"])


def construct_ids(environment: str) -> dict[str, str]:
    """Map each resource's normalised logical ID to its construct path, for one environment."""
    sys.path.insert(0, str(PROJECT))
    from app import build_app

    context = json.loads((PROJECT / "cdk.json").read_text())["context"]
    app = build_app({**context, **SKIP_BUNDLING, "env": environment})
    ids: dict[str, str] = {}
    for stack in app.node.children:
        if not isinstance(stack, cdk.Stack):
            continue
        for node in stack.node.find_all():
            if isinstance(node, cdk.CfnResource) and node.cfn_resource_type != "AWS::CDK::Metadata":
                ids[normalise(stack.resolve(node.logical_id))] = f"{node.cfn_resource_type} {node.node.path}"
    return dict(sorted(ids.items()))


def main() -> None:
    snapshot = {environment: construct_ids(environment) for environment in environments()}
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1) + "\n")
    print(f"wrote {SNAPSHOT.relative_to(PROJECT)}: {sum(map(len, snapshot.values()))} resources")


if __name__ == "__main__":
    main()
