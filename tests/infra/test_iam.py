from __future__ import annotations

from components.iam import (
    allow,
    auth_token_statement,
    ecs_tasks_trust_policy,
    lifecycle_policy,
    merged_policy_document,
    policy_document,
    repository_pull_policy,
    statement_id,
)
from tests.infra.harness import PULL_AND_DESCRIBE_ACTIONS as PULL_AND_DESCRIBE


def test_repository_pull_policy_grants_account_roots_pull_only() -> None:
    assert repository_pull_policy(pull_accounts=["999988887777", "444455556666"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {
                    "AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::999988887777:root"]
                },
                "Action": PULL_AND_DESCRIBE,
            }
        ],
    }


def test_repository_pull_policy_org_grant_is_conditioned_on_org_id() -> None:
    assert repository_pull_policy(pull_org_id="o-abc123def4") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OrganizationPull",
                "Effect": "Allow",
                "Principal": "*",
                "Action": PULL_AND_DESCRIBE,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
            }
        ],
    }


def test_repository_pull_policy_accounts_and_org_grant_both_in_that_order() -> None:
    assert repository_pull_policy(pull_accounts=["999988887777"], pull_org_id="o-abc123def4") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::999988887777:root"]},
                "Action": PULL_AND_DESCRIBE,
            },
            {
                "Sid": "OrganizationPull",
                "Effect": "Allow",
                "Principal": "*",
                "Action": PULL_AND_DESCRIBE,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
            },
        ],
    }


def test_repository_pull_policy_without_consumers_is_none() -> None:
    assert repository_pull_policy() is None


def test_allow_sorts_and_deduplicates_actions_and_resources() -> None:
    assert allow(["b:Y", "a:X", "b:Y"], ["arn:2", "arn:1"], sid="S") == {
        "Sid": "S",
        "Effect": "Allow",
        "Action": ["a:X", "b:Y"],
        "Resource": ["arn:1", "arn:2"],
    }


def test_auth_token_statement_is_the_only_star_resource() -> None:
    assert policy_document([auth_token_statement()]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": "*",
            }
        ],
    }


def test_lifecycle_policy_expires_untagged_then_keeps_newest_tagged() -> None:
    assert lifecycle_policy(keep_release_images=3) == {
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
                "description": "Keep the newest 3 tagged release images.",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 3,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def test_merged_policy_document_keeps_each_statement_once_in_order() -> None:
    login = auth_token_statement()
    pull_a = allow(["ecr:BatchGetImage"], ["arn:a"], sid="PullA")
    pull_b = allow(["ecr:BatchGetImage"], ["arn:b"], sid="PullB")
    assert merged_policy_document([[login, pull_a], [login, pull_b]]) == {
        "Version": "2012-10-17",
        "Statement": [login, pull_a, pull_b],
    }


def test_merged_policy_document_numbers_a_sid_shared_by_different_statements() -> None:
    # This stack's repository and the vendor's may share a name, so their grants share a Sid.
    own = allow(["ecr:BatchGetImage"], ["arn:own/rake-app"], sid="PullRakeApp")
    vendors = allow(["ecr:BatchGetImage"], ["arn:vendor/rake-app"], sid="PullRakeApp")
    third = allow(["ecr:BatchGetImage"], ["arn:third/rake-app"], sid="PullRakeApp")
    assert merged_policy_document([[own], [vendors, own], [third]])["Statement"] == [
        own,
        {**vendors, "Sid": "PullRakeApp2"},
        {**third, "Sid": "PullRakeApp3"},
    ]


def test_statement_id_camel_cases_words_without_separators() -> None:
    assert statement_id("Pull", "vendor/rake-app_v2.x") == "PullVendorRakeAppV2X"


def test_ecs_tasks_trust_policy_trusts_only_tasks_of_this_account() -> None:
    assert ecs_tasks_trust_policy("999988887777") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}},
            }
        ],
    }
