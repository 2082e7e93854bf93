"""IAM linting with parliament (duo-labs): every policy document must lint clean.

parliament checks actions against AWS's IAM definitions (unknown actions, resources of the wrong
type for an action, `Resource: "*"` where a resource type exists, malformed conditions) and, with
its community auditors, flags credential exposure, permissions management and privilege
escalation. A finding is accepted only through `SUPPRESSIONS`, which names it and says why.

parliament lints identity policies. A resource policy (an ECR repository policy, a role's trust
policy) has no `Resource` element because the resource it is attached to is implied; it is linted
with that implied resource made explicit (`attached_to`), so parliament can still check that each
action applies to a repository or a role.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

with warnings.catch_warnings():
    # parliament 1.6.4 imports pkg_resources, which warns that it is deprecated (pyproject pins
    # setuptools to a release that still has it), and its regexes have invalid escapes that
    # Python warns about when it compiles them. Its own code, not ours: silence the import.
    warnings.simplefilter("ignore")
    import parliament


@dataclass(frozen=True, kw_only=True)
class Suppression:
    """An accepted parliament finding: its issue, the actions it is accepted for, and why."""

    issue: str
    actions: frozenset[str]
    reason: str
    # Default: accepted in identity and resource policies alike.
    resource_policies_only: bool = False


SUPPRESSIONS: Final = (
    Suppression(
        issue="CREDENTIALS_EXPOSURE",
        actions=frozenset({"ecr:getauthorizationtoken"}),
        reason=(
            "`docker login` to ECR needs it: it returns a 12-hour registry token that carries "
            "only the caller's own ECR permissions (components/iam.py)."
        ),
    ),
    Suppression(
        issue="CREDENTIALS_EXPOSURE",
        actions=frozenset({"sts:assumerole"}),
        reason=(
            "a role's trust policy exists to let its principal (ecs-tasks.amazonaws.com, "
            "narrowed by aws:SourceAccount) assume the role; identity policies get no such pass."
        ),
        resource_policies_only=True,
    ),
    Suppression(
        issue="UNKNOWN_ACTION",
        actions=frozenset({"ecr:getimagecopystatus"}),
        reason=(
            "parliament's IAM definitions predate it; AWS documents it for ECR-to-ECR "
            "pull-through cache (https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
            "pull-through-cache-private.html) and the Service Authorization Reference lists it."
        ),
    ),
    Suppression(
        issue="RESOURCE_MISMATCH",
        actions=frozenset({"ecr:batchimportupstreamimage"}),
        reason=(
            'parliament\'s IAM definitions give it no resource type, so only Resource "*" would '
            "do; AWS's Service Authorization Reference gives it `repository*` "
            "(https://docs.aws.amazon.com/service-authorization/latest/reference/"
            "list_amazonelasticcontainerregistry.html) and the pull-through cache's IAM page "
            "grants it on repositories (https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
            "pull-through-cache-iam.html): we follow AWS and name the cached repository."
        ),
    ),
)


def lint(document: str | Mapping[str, Any], *, attached_to: str | None = None) -> list[str]:
    """Unsuppressed parliament findings as `ISSUE: detail`; [] when the document is clean.

    `attached_to` is the ARN of the resource a resource policy is attached to: statements without
    `Resource` are linted as if it were there.
    """
    parsed = json.loads(document) if isinstance(document, str) else dict(document)
    if attached_to is not None:
        statements = parsed["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        parsed = {
            **parsed,
            "Statement": [
                s if "Resource" in s or "NotResource" in s else {**s, "Resource": attached_to}
                for s in statements
            ],
        }
    policy = parliament.analyze_policy_string(
        json.dumps(parsed), ignore_private_auditors=True, include_community_auditors=True
    )
    return [
        f"{finding.issue}: {finding.detail or finding.location}"
        for finding in policy.findings
        if not _suppressed(finding, resource_policy=attached_to is not None)
    ]


def _suppressed(finding: Any, *, resource_policy: bool) -> bool:
    # Most findings list their actions; UNKNOWN_ACTION names the one action it did not know, and
    # RESOURCE_MISMATCH lists `{"action": ..., "required_format": ...}` in its detail.
    unknown = finding.location.get("string") if finding.issue == "UNKNOWN_ACTION" else None
    actions = set(finding.location.get("actions") or []) | ({unknown.lower()} if unknown else set())
    if finding.issue == "RESOURCE_MISMATCH" and isinstance(finding.detail, list):
        actions |= {str(item.get("action", "")).lower() for item in finding.detail}
    return any(
        finding.issue == suppression.issue
        and actions
        and actions <= suppression.actions
        and (resource_policy or not suppression.resource_policies_only)
        for suppression in SUPPRESSIONS
    )
