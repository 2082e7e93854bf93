"""CrossGuard wrappers around `policy.rules`: one policy per rule, mandatory unless advisory.

Kept apart from `__main__.py` (which starts the policy server and never returns) so tests build
the same policies and drive them with `ResourceValidationArgs`, as the CLI does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyProviderResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import (
    ACCOUNT_RULES,
    ADVISORY_STACK_RULES,
    RESOURCE_RULES,
    STACK_RULES,
    AccountRule,
    ResourceRule,
    StackRule,
    policy_description,
    policy_name,
)

PACK_NAME: Final = "ecr-cross-account-guardrails"


def provider_account_id(provider_props: Mapping[str, Any] | None) -> str | None:
    """The one account an AWS provider's `allowedAccountIds` guard permits, else None.

    Provider inputs reach CrossGuard either as a list or JSON-encoded (`'["111122223333"]'`).
    """
    allowed: Any = (provider_props or {}).get("allowedAccountIds")
    if isinstance(allowed, str):
        allowed = json.loads(allowed)
    accounts = list(allowed or [])
    return str(accounts[0]) if len(accounts) == 1 else None


def _provider_props(provider: PolicyProviderResource | None) -> Mapping[str, Any] | None:
    return provider.props if provider is not None else None


def resource_policy(
    rule: ResourceRule, level: EnforcementLevel = EnforcementLevel.MANDATORY
) -> ResourceValidationPolicy:
    """A policy (mandatory unless `level` says) reporting each of the rule's violations."""
    return _resource_policy(rule, lambda args: rule(args.resource_type, args.props), level)


def account_policy(rule: AccountRule) -> ResourceValidationPolicy:
    """Like `resource_policy`, with the account of the resource's provider."""
    return _resource_policy(
        rule,
        lambda args: rule(
            args.resource_type, args.props, provider_account_id(_provider_props(args.provider))
        ),
        EnforcementLevel.MANDATORY,
    )


def _resource_policy(
    rule: ResourceRule | AccountRule,
    check: Callable[[ResourceValidationArgs], list[str]],
    level: EnforcementLevel,
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=policy_name(rule),
        description=policy_description(rule),
        validate=validate,
        enforcement_level=level,
    )


def stack_policy(
    rule: StackRule, level: EnforcementLevel = EnforcementLevel.MANDATORY
) -> StackValidationPolicy:
    """A policy (mandatory unless `level` says) over all of the stack's resources."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [(r.resource_type, r.props) for r in args.resources]
        for message in rule(resources):
            report_violation(message, None)

    return StackValidationPolicy(
        name=policy_name(rule),
        description=policy_description(rule),
        validate=validate,
        enforcement_level=level,
    )


def policies() -> list[Policy]:
    """Every rule of `policy.rules` as a CrossGuard policy: mandatory, the advisory ones aside."""
    return [
        *(resource_policy(rule) for rule in RESOURCE_RULES),
        *(account_policy(rule) for rule in ACCOUNT_RULES),
        *(stack_policy(rule) for rule in STACK_RULES),
        *(stack_policy(rule, EnforcementLevel.ADVISORY) for rule in ADVISORY_STACK_RULES),
    ]
