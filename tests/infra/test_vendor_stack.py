"""The vendor stack file, run through the real `__main__.py` under mocks."""

from __future__ import annotations

import json

from tests.infra.conftest import StackRun, only

VENDOR_REPO_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/rake-app"


def test_vendor_repository_policy_grants_the_customer_account_pull_only(
    vendor_run: StackRun,
) -> None:
    policy = only(vendor_run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::999988887777:root"]},
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:DescribeImages",
                    "ecr:DescribeRepositories",
                    "ecr:GetDownloadUrlForLayer",
                ],
            }
        ],
    }
