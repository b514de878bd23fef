"""Written acknowledgments of cdk-nag findings, kept next to the resources they are about.

cdk-nag v3 reads CDK's native acknowledgments (``Validations.of(construct).acknowledge``), which
cover the construct and everything below it; using that API keeps cdk-nag a development-only
dependency of this library. Every acknowledgment carries a reason a reviewer can check, and the
tests pin the full list.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept finding ``rule_id`` on ``construct`` and its children, for ``reason``.

    Parameters
    ----------
    construct
        The narrowest construct the finding is about.
    rule_id
        The cdk-nag rule, e.g. ``AwsSolutions-L1``, or one finding, e.g.
        ``AwsSolutions-IAM5[Resource::*]``.
    reason
        Why the finding is acceptable, for a reviewer.
    """
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def acknowledgments(scope: IConstruct) -> dict[str, list[str]]:
    """Return ``{construct path: [rule ids]}`` for every acknowledgment under ``scope``."""
    found: dict[str, list[str]] = {}
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    for node in scope.node.find_all():
        for entry in node.node.metadata:
            if entry.type == key:
                # Stored as {"Annotation::<rule id>": reason}.
                data: dict[str, Any] = entry.data
                ids = [name.split("::", 1)[-1] for name in data]
                found.setdefault(node.node.path, []).extend(ids)
    return {path: sorted(ids) for path, ids in found.items()}
