"""Written acknowledgments of cdk-nag findings, kept next to the resources they are about.

cdk-nag v3 reads CDK's native acknowledgments (``Validations.of(construct).acknowledge``), which
cover the construct and everything below it; using that API keeps cdk-nag a development-only
dependency of this library. Every acknowledgment carries a reason a reviewer can check, and the
tests pin the full list.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
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


def finding_text(value: Any) -> str:
    """A resolved CloudFormation value written as cdk-nag writes it in a finding id.

    ``{"Ref": "X"}`` -> ``<X>``, ``{"Fn::GetAtt": ["X", "Arn"]}`` -> ``<X.Arn>``, ``Fn::Join`` joined,
    anything else as compact JSON (cdk-nag's ``flattenCfnReference``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), *_ = value.items()
        if name == "Ref" and isinstance(arg, str):
            return f"<{arg}>"
        if name == "Fn::GetAtt" and isinstance(arg, list):
            return "<" + ".".join(map(str, arg)) + ">"
        if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            return str(arg[0]).join(finding_text(part) for part in arg[1])
    return json.dumps(value, separators=(",", ":"))


def acknowledge_wildcard_resources(policy: iam.Policy, reason: str) -> list[str]:
    """Acknowledge each ``AwsSolutions-IAM5[Resource::...]`` finding of ``policy``'s wildcard resources.

    cdk-nag v3 takes one acknowledgment per finding (no rule-wide form), and a finding names the
    resource as the template renders it; this renders each resource of the policy that way, so the
    acknowledgments follow the policy instead of being copied by hand. Returns the finding ids.
    """
    document = cdk.Stack.of(policy).resolve(policy.document.to_json()) or {}
    ids: list[str] = []
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            text = finding_text(resource)
            if "*" in text:
                ids.append(f"AwsSolutions-IAM5[Resource::{text}]")
    for rule_id in dict.fromkeys(ids):
        acknowledge(policy, rule_id, reason)
    return list(dict.fromkeys(ids))
