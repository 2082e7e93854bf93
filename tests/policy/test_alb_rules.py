"""The load balancer edge rules (access logs: mandatory; WAF: advisory), exact messages."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.access_logs import access_log_bucket_policy
from policy.pack import resource_policy, stack_policy
from policy.rules import (
    ADVISORY_STACK_RULES,
    RESOURCE_RULES,
    WAF_ASSOCIATION,
    alb_internet_facing_has_access_logs,
    alb_internet_facing_has_waf,
)
from tests.policy.iam_lint import lint

ALB = "aws:lb/loadBalancer:LoadBalancer"
ALB_ARN = "arn:aws:elasticloadbalancing:us-west-2:999988887777:loadbalancer/app/app-alb/0123"
LOGS = {"bucket": "app-access-logs-bucket", "prefix": "alb", "enabled": True}
NO_LOGS = (
    "internet-facing load balancer has no access logs, so nobody can tell who called it; set "
    "access_logs={'bucket': ..., 'prefix': ..., 'enabled': True} (enabled defaults to false) "
    "with a bucket ELB may write to (components/access_logs.py's AccessLogBucket)."
)


def no_waf(label: str) -> str:
    return (
        f"internet-facing load balancer {label}".rstrip() + " has no AWS WAF web ACL "
        "association; associate a web ACL (components/waf.py's WebAcl) to rate-limit clients "
        "and block known-bad requests."
    )


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"accessLogs": LOGS}, [], id="logged"),
        pytest.param({}, [NO_LOGS], id="no-access-logs"),
        # The provider's default: a bucket alone does not turn logging on.
        pytest.param({"accessLogs": {**LOGS, "enabled": False}}, [NO_LOGS], id="disabled"),
        pytest.param({"accessLogs": {"bucket": "b"}}, [NO_LOGS], id="enabled-unset"),
        pytest.param({"internal": True}, [], id="internal"),
        pytest.param({"loadBalancerType": "network"}, [], id="network"),
    ],
)
def test_alb_access_logs_rule(props: dict[str, Any], expected: list[str]) -> None:
    assert alb_internet_facing_has_access_logs(ALB, props) == expected
    assert alb_internet_facing_has_access_logs("aws:s3/bucket:Bucket", props) == []


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param([(ALB, {})], [no_waf("")], id="no-association"),
        pytest.param([(ALB, {"name": "app-alb"})], [no_waf("app-alb")], id="named"),
        # Inputs only (a preview): the ALB's ARN is unknown, any association counts.
        pytest.param([(ALB, {}), (WAF_ASSOCIATION, {"resourceArn": "x"})], [], id="preview"),
        pytest.param(
            [(ALB, {"arn": ALB_ARN}), (WAF_ASSOCIATION, {"resourceArn": ALB_ARN})], [], id="arn"
        ),
        pytest.param(
            [(ALB, {"arn": ALB_ARN}), (WAF_ASSOCIATION, {"resourceArn": "other"})],
            [no_waf(ALB_ARN)],
            id="another-alb",
        ),
        pytest.param([(ALB, {"internal": True})], [], id="internal"),
    ],
)
def test_alb_waf_rule(resources: list[tuple[str, dict[str, Any]]], expected: list[str]) -> None:
    assert alb_internet_facing_has_waf(resources) == expected


def test_edge_rules_are_wrapped_mandatory_and_advisory() -> None:
    (logs_rule,) = [r for r in RESOURCE_RULES if r is alb_internet_facing_has_access_logs]
    (waf_rule,) = ADVISORY_STACK_RULES
    logs = resource_policy(logs_rule)
    waf = stack_policy(waf_rule, EnforcementLevel.ADVISORY)
    assert (logs.name, logs.enforcement_level) == (
        "alb-internet-facing-has-access-logs",
        EnforcementLevel.MANDATORY,
    )
    assert (waf.name, waf.enforcement_level) == (
        "alb-internet-facing-has-waf",
        EnforcementLevel.ADVISORY,
    )
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    logs.validate(
        ResourceValidationArgs(ALB, {}, "urn", "app-alb", options, None),
        report,
    )
    alb = PolicyResource(ALB, {}, "urn", "app-alb", options, None, None, [], {})
    waf.validate(StackValidationArgs([alb]), report)
    assert reported == [NO_LOGS, no_waf("")]


@pytest.mark.parametrize("region", ["us-west-2", "me-central-1", "us-gov-west-1"])
def test_access_log_bucket_policy_lints_clean(region: str) -> None:
    document = access_log_bucket_policy(
        bucket="logs-bucket", prefix="alb", account_id="999988887777", region=region
    )
    assert lint(document, attached_to="arn:aws:s3:::logs-bucket") == []
