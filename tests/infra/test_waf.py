"""WebAcl: the exact rules, and the component under the recording mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.waf import WebAcl, WebAclArgs, web_acl_rules
from tests.infra.harness import StackRun, named, only, run_program

ALB_ARN = "arn:aws:elasticloadbalancing:us-east-2:111122223333:loadbalancer/app/app-alb/0123"


def visibility(metric: str) -> dict[str, Any]:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric,
        "sampled_requests_enabled": True,
    }


def test_web_acl_rules_rate_limit_first_then_the_two_managed_groups() -> None:
    assert web_acl_rules(rate_limit=2000, metric_prefix="app-waf") == [
        {
            "name": "RateLimitPerIp",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "aggregate_key_type": "IP",
                    "limit": 2000,
                    "evaluation_window_sec": 300,
                }
            },
            "visibility_config": visibility("app-waf-RateLimitPerIp"),
        },
        {
            "name": "AWSManagedRulesKnownBadInputsRuleSet",
            "priority": 1,
            "override_action": {"none": {}},
            "statement": {
                "managed_rule_group_statement": {
                    "vendor_name": "AWS",
                    "name": "AWSManagedRulesKnownBadInputsRuleSet",
                }
            },
            "visibility_config": visibility("app-waf-AWSManagedRulesKnownBadInputsRuleSet"),
        },
        {
            "name": "AWSManagedRulesCommonRuleSet",
            "priority": 2,
            "override_action": {"none": {}},
            "statement": {
                "managed_rule_group_statement": {
                    "vendor_name": "AWS",
                    "name": "AWSManagedRulesCommonRuleSet",
                    # Bodies over 8 KB are the API's documents: counted, not blocked.
                    "rule_action_overrides": [
                        {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}
                    ],
                }
            },
            "visibility_config": visibility("app-waf-AWSManagedRulesCommonRuleSet"),
        },
    ]


def run_waf(**changes: Any) -> StackRun:
    def program() -> None:
        waf = WebAcl("app-waf", WebAclArgs(load_balancer_arn=ALB_ARN, **changes))
        pulumi.export("web_acl_arn", waf.web_acl_arn)

    return run_program(program)


def test_web_acl_is_regional_allows_by_default_and_is_associated_with_the_alb() -> None:
    run = run_waf(rate_limit=500)
    acl = named(run.resources, "aws:wafv2/webAcl:WebAcl", "app-waf-acl").inputs
    acl_arn = "arn:aws:wafv2:us-east-2:111122223333:app-waf-acl"
    assert {key: value for key, value in acl.items() if key != "rules"} == {
        "description": "app-waf: per-IP rate limit and AWS managed rules in front of the ALB",
        "scope": "REGIONAL",
        "defaultAction": {"allow": {}},
        "visibilityConfig": {
            "cloudwatchMetricsEnabled": True,
            "metricName": "app-waf",
            "sampledRequestsEnabled": True,
        },
    }
    assert acl["rules"][0]["statement"]["rateBasedStatement"] == {
        "aggregateKeyType": "IP",
        "limit": 500,
        "evaluationWindowSec": 300,
    }
    assert [rule["name"] for rule in acl["rules"]] == [
        "RateLimitPerIp",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    ]
    association = only(run.resources, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs == {"resourceArn": ALB_ARN, "webAclArn": acl_arn}
    assert run.exports == {"web_acl_arn": acl_arn}
    component = only(run.resources, "ecr-cross-account:components:WebAcl")
    assert sorted(r.name for r in run.resources if r.parent == component.urn) == [
        "app-waf-acl",
        "app-waf-association",
    ]


@pytest.mark.parametrize("limit", [9, 2_000_000_001])
def test_web_acl_rejects_a_rate_limit_waf_does_not_accept(limit: int) -> None:
    with pytest.raises(ValueError) as exc_info:
        run_waf(rate_limit=limit)
    assert str(exc_info.value) == (
        f"WebAclArgs.rate_limit: expected 10 to 2,000,000,000, got {limit}."
    )
