"""Pure builders of the IAM and ECR policy documents both stacks hand to AWS.

Plain dicts in, plain dicts out: no Pulumi resources here, so every document is unit-tested
directly (tests/infra/test_iam.py) and the components only add `Output` plumbing around them.
AWS spelling (`Sid`, `Action`, ...) appears only in these JSON leaves.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

PolicyStatement = dict[str, Any]
PolicyDocument = dict[str, Any]

POLICY_VERSION = "2012-10-17"

# What a consumer needs to pull an image by digest or tag.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
PULL_ACTIONS: tuple[str, ...] = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)

# Read-only metadata, for `aws ecr describe-images --registry-id <vendor>` run by the consumer.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
DESCRIBE_ACTIONS: tuple[str, ...] = (
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
)

# What `docker push` adds to the pull actions (same-account developers only, never consumers).
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
PUSH_ACTIONS: tuple[str, ...] = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)

# A push-only grantee: the upload actions plus the two reads `docker push` makes first (does the
# layer exist, the manifest). Same page as PUSH_ACTIONS.
PUSH_GRANT_ACTIONS: tuple[str, ...] = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    *PUSH_ACTIONS,
)

# Registry-level: it authorises `docker login`, has no resource-level permissions, and therefore
# only works in an identity policy on Resource "*". In a repository policy it has no effect.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_id-based-policy-examples.html
AUTH_TOKEN_ACTION = "ecr:GetAuthorizationToken"


def policy_document(statements: Iterable[PolicyStatement]) -> PolicyDocument:
    """Wrap statements in a versioned policy document."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def allow(
    actions: Sequence[str], resources: Sequence[str] | str, *, sid: str | None = None
) -> PolicyStatement:
    """An identity-policy `Allow` of exactly these actions on exactly these resources.

    `allow(PULL_ACTIONS, [arn], sid="PullImages")` ->
    `{"Sid": "PullImages", "Effect": "Allow", "Action": [...sorted], "Resource": [arn]}`.
    """
    statement: PolicyStatement = {"Effect": "Allow", "Action": sorted(set(actions))}
    statement["Resource"] = resources if isinstance(resources, str) else sorted(set(resources))
    return {"Sid": sid, **statement} if sid else statement


def auth_token_statement() -> PolicyStatement:
    """The one statement that must use `Resource: "*"` (see AUTH_TOKEN_ACTION)."""
    return allow([AUTH_TOKEN_ACTION], "*", sid="EcrLogin")


def account_root(account_id: str) -> str:
    """Principal ARN of a whole account.

    A repository policy is validated when it is saved: naming a role that does not exist yet fails,
    so consumers are named by account root and delegate to their own roles with identity policies.
    """
    return f"arn:aws:iam::{account_id}:root"


def repository_pull_policy(
    *, pull_accounts: Sequence[str] = (), pull_org_id: str | None = None
) -> PolicyDocument | None:
    """The repository policy letting consumers pull and nothing else; None without consumers.

    No `Resource` element (the repository is the resource) and never `ecr:GetAuthorizationToken`.
    `repository_pull_policy(pull_accounts=["999988887777"])` ->
    `{"Version": ..., "Statement": [{"Sid": "CrossAccountPull", "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::999988887777:root"]}, "Action": [...pull + describe]}]}`.
    """
    actions = sorted((*PULL_ACTIONS, *DESCRIBE_ACTIONS))
    statements: list[PolicyStatement] = []
    if pull_accounts:
        statements.append(
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": sorted({account_root(a) for a in pull_accounts})},
                "Action": actions,
            }
        )
    if pull_org_id:
        statements.append(
            {
                "Sid": "OrganizationPull",
                "Effect": "Allow",
                # "*" is narrowed by the condition to principals of this organization only.
                "Principal": "*",
                "Action": actions,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": pull_org_id}},
            }
        )
    return policy_document(statements) if statements else None


def merged_policy_document(statement_groups: Iterable[Iterable[PolicyStatement]]) -> PolicyDocument:
    """One policy from several grants' statements, each distinct statement once, in order.

    IAM rejects duplicate `Sid`s. Every grant carries the same `EcrLogin` statement: it (and any
    other repeat) is kept only the first time it appears. Two different statements with one `Sid`
    (this stack's `rake-app` and the vendor's `rake-app`, both `PullRakeApp`) keep both, the later
    one numbered (`PullRakeApp2`).
    """
    statements: list[PolicyStatement] = []
    for group in statement_groups:
        for statement in group:
            if statement in statements:
                continue
            sids = {kept.get("Sid") for kept in statements}
            sid = statement.get("Sid")
            if sid in sids:
                sid = next(f"{sid}{n}" for n in itertools.count(2) if f"{sid}{n}" not in sids)
                statement = {**statement, "Sid": sid}
            statements.append(statement)
    return policy_document(statements)


def statement_id(*words: str) -> str:
    """An IAM `Sid` (alphanumeric only) from words such as a verb and a repository name.

    `statement_id("Pull", "vendor/rake-app")` -> `"PullVendorRakeApp"`.
    """
    parts = (p for w in words for p in re.split(r"[^A-Za-z0-9]+", w) if p)
    return "".join(p[:1].upper() + p[1:] for p in parts)


def lifecycle_policy(*, keep_release_images: int) -> PolicyDocument:
    """The ECR lifecycle policy of every repository: no untagged leftovers, the last N releases.

    Rules are evaluated by ascending `rulePriority`; neither uses `tagStatus: any` (which must have
    the highest priority number). Tagged rules need a tag filter, so `["*"]` selects every tag.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
    """
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images one day after they were pushed.",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the newest {keep_release_images} tagged release images.",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_release_images,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def ecs_tasks_trust_policy(account_id: str) -> PolicyDocument:
    """Trust ECS tasks, but only those launched on behalf of this account (confused deputy).

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    """
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )
