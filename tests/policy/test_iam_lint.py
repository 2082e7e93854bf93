"""parliament on the pure policy builders of components/iam.py, and on known-bad documents."""

from __future__ import annotations

from typing import Any

import pytest

from components.iam import (
    DESCRIBE_ACTIONS,
    PULL_ACTIONS,
    PUSH_ACTIONS,
    allow,
    auth_token_statement,
    merged_policy_document,
    policy_document,
    repository_pull_policy,
)
from tests.policy.factories import CUSTOMER_ACCOUNT, ORG_ID, REPO_ARN
from tests.policy.iam_lint import lint


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT]), id="accounts"),
        pytest.param(repository_pull_policy(pull_org_id=ORG_ID), id="organization"),
        pytest.param(
            repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT], pull_org_id=ORG_ID),
            id="accounts-and-organization",
        ),
    ],
)
def test_repository_pull_policy_lints_clean(document: dict[str, Any]) -> None:
    assert lint(document, attached_to=REPO_ARN) == []


def test_push_pull_identity_policy_lints_clean_with_the_auth_token_suppressed() -> None:
    document = merged_policy_document(
        [
            [auth_token_statement(), allow([*PULL_ACTIONS, *PUSH_ACTIONS], [REPO_ARN], sid="Push")],
            [auth_token_statement(), allow([*PULL_ACTIONS, *DESCRIBE_ACTIONS], [REPO_ARN])],
        ]
    )
    assert lint(document) == []


ROLE_ARN = "arn:aws:iam::999988887777:role/app-task-exec"
ECS_TASKS_TRUST = policy_document(
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}},
        }
    ]
)


def test_role_trust_policy_lints_clean_with_assume_role_suppressed() -> None:
    assert lint(ECS_TASKS_TRUST, attached_to=ROLE_ARN) == []


@pytest.mark.parametrize(
    ("document", "attached_to", "expected"),
    [
        pytest.param(
            policy_document(
                [{"Effect": "Allow", "Principal": "*", "Action": ["ecr:GetAuthorizationToken"]}]
            ),
            REPO_ARN,
            [
                "RESOURCE_MISMATCH: [{'action': 'ecr:GetAuthorizationToken', "
                "'required_format': '*'}]"
            ],
            id="auth-token-in-repository-policy",
        ),
        pytest.param(
            policy_document([allow(["ecr:BatchGetImages"], [REPO_ARN])]),
            None,
            ["UNKNOWN_ACTION: Unknown action ecr:BatchGetImages"],
            id="misspelt-action",
        ),
        pytest.param(
            policy_document([allow(PULL_ACTIONS, "*")]),
            None,
            [
                "RESOURCE_STAR: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', "
                "'ecr:GetDownloadUrlForLayer']"
            ],
            id="pull-on-every-repository",
        ),
        pytest.param(
            policy_document([allow(["iam:PassRole"], ["arn:aws:iam::999988887777:role/app"])]),
            None,
            ["PERMISSIONS_MANAGEMENT_ACTIONS: {'actions': ['iam:passrole'], 'filepath': None}"],
            id="permissions-management",
        ),
        pytest.param(
            policy_document([allow(["sts:AssumeRole"], [ROLE_ARN])]),
            None,
            ["CREDENTIALS_EXPOSURE: {'actions': ['sts:assumerole'], 'filepath': None}"],
            id="assume-role-in-identity-policy",
        ),
    ],
)
def test_lint_reports_bad_documents(
    document: dict[str, Any], attached_to: str | None, expected: list[str]
) -> None:
    assert lint(document, attached_to=attached_to) == expected
