"""The alarm topic: encrypted with one customer-managed key per stack that CloudWatch alarms may use."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from cdk_sklearn.monitoring import EndpointMonitoring
from cdk_sklearn.nag import acknowledgments
from tests.unit.cdk_sklearn.plain_endpoint import plain_endpoint

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def synth(*, alarm_topic: Any = None, **props: Any) -> tuple[cdk.Stack, Template]:
    stack = cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    function, alias = plain_endpoint(stack)
    topic = alarm_topic(stack) if alarm_topic else None
    EndpointMonitoring(
        stack, "Monitoring", function=function, alias=alias, model_name="iris", alarm_topic=topic, **props
    )
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="module")
def encrypted() -> tuple[cdk.Stack, Template]:
    return synth()


def key_statements(template: Template) -> list[dict[str, Any]]:
    (key,) = template.find_resources("AWS::KMS::Key").values()
    statements: list[dict[str, Any]] = key["Properties"]["KeyPolicy"]["Statement"]
    return statements


def test_cloudwatch_may_encrypt_for_this_accounts_alarms_only(encrypted):
    _, template = encrypted
    (grant,) = [
        s for s in key_statements(template) if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert grant == {
        "Sid": "AllowCloudWatchAlarmsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            # arn:<partition>:cloudwatch:<region>:<account>:alarm:*, the partition left to CloudFormation.
            "ArnLike": {
                "aws:SourceArn": {
                    "Fn::Join": [
                        "",
                        ["arn:", {"Ref": "AWS::Partition"}, f":cloudwatch:{REGION}:{ACCOUNT}:alarm:*"],
                    ]
                }
            },
        },
    }


def test_key_policy_keeps_the_account_root_administration(encrypted):
    _, template = encrypted
    roots = [s for s in key_statements(template) if "AWS" in s["Principal"]]
    assert [(s["Action"], s["Effect"]) for s in roots] == [("kms:*", "Allow")]
    assert f":{ACCOUNT}:root" in str(roots[0]["Principal"]["AWS"])


def test_key_rotation_is_on(encrypted):
    _, template = encrypted
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_topic_is_encrypted_with_the_stacks_key(encrypted):
    stack, template = encrypted
    key = stack.node.find_child("AlarmTopicKey")
    assert isinstance(key, kms.Key)
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]}},
    )


def test_deleting_the_stack_schedules_the_key_for_deletion(encrypted):
    _, template = encrypted
    template.has_resource(
        "AWS::KMS::Key",
        {"DeletionPolicy": "Delete", "Properties": Match.object_like({"PendingWindowInDays": 7})},
    )


def test_opt_out_leaves_no_key_and_acknowledges_the_finding_on_the_topic():
    stack, template = synth(encrypt_alarm_topic=False)
    template.resource_count_is("AWS::KMS::Key", 0)
    (topic,) = template.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" not in topic["Properties"]
    assert acknowledgments(stack) == {
        "Test/Monitoring/AlarmTopic": [
            "HIPAA.Security-SNSEncryptedKMS",
            "NIST.800.53.R5-SNSEncryptedKMS",
            "PCI.DSS.321-SNSEncryptedKMS",
        ]
    }


def test_imported_topic_gets_one_warning_about_its_key():
    def imported(stack: cdk.Stack) -> sns.ITopic:
        return sns.Topic.from_topic_arn(stack, "Ops", f"arn:aws:sns:{REGION}:{ACCOUNT}:ops")

    stack, template = synth(alarm_topic=imported)
    template.resource_count_is("AWS::KMS::Key", 0)
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey")
    )
    assert [w.id for w in warnings] == ["/Test/Monitoring"]
    assert "cdk-sklearn:alarm-topic-key" in str(warnings[0].entry.data)


def test_topic_encrypted_with_another_key_gets_the_warning():
    def with_own_key(stack: cdk.Stack) -> sns.ITopic:
        return sns.Topic(stack, "Ops", master_key=kms.Key(stack, "OpsKey", enable_key_rotation=True))

    stack, _ = synth(alarm_topic=with_own_key)
    Annotations.from_stack(stack).has_warning("/Test/Monitoring", Match.string_like_regexp("aws/sns"))


def test_unencrypted_topic_of_the_app_gets_no_warning():
    stack, _ = synth(alarm_topic=lambda stack: sns.Topic(stack, "Ops"))
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())
