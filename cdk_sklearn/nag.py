"""Written acknowledgments of cdk-nag findings, kept next to the resources they are about.

cdk-nag v3 reads CDK's native acknowledgments (``Validations.of(construct).acknowledge``), which
cover the construct and everything below it; using that API keeps cdk-nag a development-only
dependency of this library. Every acknowledgment carries a reason a reviewer can check, and the
tests pin the full list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

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


COMPLIANCE_PACKS: Final[Mapping[str, frozenset[str]]] = {
    # Of the rules this library acknowledges, those each pack runs (cdk-nag 3.0.2,
    # src/packs/nist-800-53-r5.ts, hipaa-security.ts, pci-dss-321.ts).
    "NIST.800.53.R5": frozenset(
        {
            "APIGWAssociatedWithWAF",
            "APIGWCacheEnabledAndEncrypted",
            "APIGWSSLEnabled",
            "CloudWatchLogGroupEncrypted",
            "IAMNoInlinePolicy",
            "LambdaConcurrency",
            "LambdaDLQ",
            "LambdaInsideVPC",
            "SNSEncryptedKMS",
            "VPCFlowLogsEnabled",
            "VPCNoUnrestrictedRouteToIGW",
        }
    ),
    "HIPAA.Security": frozenset(
        {
            "APIGWCacheEnabledAndEncrypted",
            "APIGWSSLEnabled",
            "APIGWXrayEnabled",
            "CloudWatchLogGroupEncrypted",
            "IAMNoInlinePolicy",
            "LambdaConcurrency",
            "LambdaDLQ",
            "LambdaInsideVPC",
            "SNSEncryptedKMS",
            "VPCFlowLogsEnabled",
            "VPCNoUnrestrictedRouteToIGW",
        }
    ),
    "PCI.DSS.321": frozenset(
        {
            "APIGWAssociatedWithWAF",
            "APIGWCacheEnabledAndEncrypted",
            "APIGWSSLEnabled",
            "CloudWatchLogGroupEncrypted",
            "IAMNoInlinePolicy",
            "LambdaInsideVPC",
            "SNSEncryptedKMS",
            "VPCFlowLogsEnabled",
            "VPCNoUnrestrictedRouteToIGW",
        }
    ),
}
"""The compliance packs ``make lint`` runs besides AwsSolutions: pack prefix -> the rules of it that
:func:`acknowledge_compliance` may acknowledge."""


def acknowledge_compliance(construct: IConstruct, rule: str, reason: str) -> list[str]:
    """Accept compliance rule ``rule`` on ``construct`` in every pack of :data:`COMPLIANCE_PACKS` that has it.

    Parameters
    ----------
    construct
        The narrowest construct the finding is about (the resource, never the stack).
    rule
        The rule name without its pack prefix, e.g. ``LambdaDLQ``.
    reason
        Why the finding is acceptable, for a reviewer.

    Returns
    -------
    list[str]
        The acknowledged ids, e.g. ``["NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ"]``.

    Raises
    ------
    ValueError
        If no pack has ``rule`` (a typo would otherwise acknowledge nothing).
    """
    ids = [f"{pack}-{rule}" for pack, rules in COMPLIANCE_PACKS.items() if rule in rules]
    if not ids:
        known = sorted(set().union(*COMPLIANCE_PACKS.values()))
        raise ValueError(f"no compliance pack has rule {rule!r}; known: {', '.join(known)}")
    for rule_id in ids:
        acknowledge(construct, rule_id, reason)
    return ids


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


LOG_GROUP_ENCRYPTION_REASON: Final = (
    "CloudWatch Logs encrypts every log group at rest by default (server-side, AWS-owned keys; "
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). A "
    "customer-managed key would add $1 a month per key plus requests and a key policy for "
    "logs.<region>.amazonaws.com; only this construct writes here, and only its own role and the "
    "account's administrators can read it."
)

INLINE_POLICY_REASON: Final = (
    "CDK's grants write this role's least-privilege statements (only this construct's own resources: "
    "its log group, its model object, its prefixes, its state machine) into a policy attached to this "
    "one role and deployed with it. What managed policies add (reuse across roles, versions, "
    "delegated administration) does not apply to statements that name one construct's resources; "
    "CloudFormation keeps them in step with those resources and holds their history."
)


def acknowledge_log_group(log_group: IConstruct) -> list[str]:
    """Acknowledge ``CloudWatchLogGroupEncrypted`` on one of this library's log groups."""
    return acknowledge_compliance(log_group, "CloudWatchLogGroupEncrypted", LOG_GROUP_ENCRYPTION_REASON)


def acknowledge_inline_policy(policy: IConstruct | None) -> list[str]:
    """Acknowledge ``IAMNoInlinePolicy`` on a role's own policy (``None``: nothing to acknowledge)."""
    if policy is None:
        return []
    return acknowledge_compliance(policy, "IAMNoInlinePolicy", INLINE_POLICY_REASON)
