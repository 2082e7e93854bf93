"""WebAcl: a regional AWS WAF web ACL in front of an Application Load Balancer.

Three rules, lowest priority first (WAF stops at the first terminating match):
0. `RateLimitPerIp`: block a client IP above N requests in 5 minutes. It slows guessing the
   API key as much as floods; N is counted per source IP as the ALB sees it (no proxy in front).
1. `AWSManagedRulesKnownBadInputsRuleSet`: request patterns of known exploits (Log4j, ...).
2. `AWSManagedRulesCommonRuleSet`: AWS's baseline (OWASP-style) rules, except that
   `SizeRestrictions_BODY` only counts: it blocks bodies over 8 KB, and the API takes documents
   up to 1 MiB (services/common/settings.py, MAX_BODY_BYTES), which the services limit themselves.
Everything else is allowed; every rule and the ACL publish CloudWatch metrics and sampled requests.
https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html

`web_acl_rules()` is pure (Pulumi input dicts), so the rules are unit-tested as exact JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, cast

import pulumi
import pulumi_aws as aws

from components.config_errors import format_problem

TYPE: Final = "ecr-cross-account:components:WebAcl"

# The rate window (seconds) the limit counts over; WAF's default, and the "per 5 minutes".
RATE_WINDOW_SECONDS: Final = 300
# WAF's bounds for a rate-based rule's limit.
# https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html
MIN_RATE_LIMIT: Final = 10
MAX_RATE_LIMIT: Final = 2_000_000_000
DEFAULT_RATE_LIMIT: Final = 2000
# Managed rules that block legitimate traffic of this API, set to count (see the docstring).
COUNT_ONLY_RULES: Final = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
# CloudWatch metric names: letters, digits, hyphen and underscore (WAF's VisibilityConfig).
METRIC_NAME: Final = re.compile(r"[\w-]{1,128}")


def _visibility(metric_name: str) -> dict[str, Any]:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric_name,
        "sampled_requests_enabled": True,
    }


def _managed_rule(group: str, priority: int, metric_prefix: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"vendor_name": "AWS", "name": group}
    overrides = COUNT_ONLY_RULES.get(group, ())
    if overrides:
        statement["rule_action_overrides"] = [
            {"name": rule, "action_to_use": {"count": {}}} for rule in overrides
        ]
    return {
        "name": group,
        "priority": priority,
        # `none`: the group's own actions apply (`count` would turn the whole group off).
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": statement},
        "visibility_config": _visibility(f"{metric_prefix}-{group}"),
    }


def web_acl_rules(*, rate_limit: int, metric_prefix: str) -> list[dict[str, Any]]:
    """The web ACL's `rules` as Pulumi input dicts (see the module docstring)."""
    return [
        {
            "name": "RateLimitPerIp",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "aggregate_key_type": "IP",
                    "limit": rate_limit,
                    "evaluation_window_sec": RATE_WINDOW_SECONDS,
                }
            },
            "visibility_config": _visibility(f"{metric_prefix}-RateLimitPerIp"),
        },
        _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 1, metric_prefix),
        _managed_rule("AWSManagedRulesCommonRuleSet", 2, metric_prefix),
    ]


@dataclass(frozen=True, kw_only=True)
class WebAclArgs:
    """The load balancer to protect and how hard."""

    # The ALB's ARN.
    load_balancer_arn: pulumi.Input[str]
    # Default: 2,000 requests per client IP in 5 minutes (about 7 a second, sustained). A client
    # of this API sends one request per document; far above that is a flood or a key guesser.
    rate_limit: int = DEFAULT_RATE_LIMIT


def _validate(name: str, args: WebAclArgs) -> None:
    problems = []
    if not MIN_RATE_LIMIT <= args.rate_limit <= MAX_RATE_LIMIT:
        problems.append(
            format_problem(
                "WebAclArgs.rate_limit", f"{MIN_RATE_LIMIT} to {MAX_RATE_LIMIT:,}", args.rate_limit
            )
        )
    if not METRIC_NAME.fullmatch(name):
        problems.append(
            format_problem("WebAcl(name)", "letters, digits, '-' and '_' (a metric name)", name)
        )
    if problems:
        raise ValueError("\n".join(problems))


class WebAcl(pulumi.ComponentResource):
    """A regional web ACL (rate limit and two AWS managed groups) associated with one ALB."""

    acl: aws.wafv2.WebAcl
    association: aws.wafv2.WebAclAssociation
    web_acl_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        _validate(name, args)
        child = pulumi.ResourceOptions(parent=self)
        self.acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            description=f"{name}: per-IP rate limit and AWS managed rules in front of the ALB",
            # REGIONAL: an ALB's web ACL lives in the ALB's Region (CLOUDFRONT is for CloudFront).
            scope="REGIONAL",
            default_action={"allow": {}},
            # Plain dicts of Pulumi's input names (exact JSON in tests/infra/test_waf.py).
            rules=cast(Any, web_acl_rules(rate_limit=args.rate_limit, metric_prefix=name)),
            visibility_config=cast(Any, _visibility(name)),
            opts=child,
        )
        self.association = aws.wafv2.WebAclAssociation(
            f"{name}-association",
            resource_arn=args.load_balancer_arn,
            web_acl_arn=self.acl.arn,
            opts=child,
        )
        self.web_acl_arn = self.acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
