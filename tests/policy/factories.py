"""Compliant resource inputs, shaped as CrossGuard sees them; tests break one fact at a time."""

from __future__ import annotations

import json
from typing import Any

from components.container_definitions import Container, LogSettings, container_definitions
from components.iam import allow, auth_token_statement, policy_document, repository_pull_policy

VENDOR_ACCOUNT = "111122223333"
CUSTOMER_ACCOUNT = "999988887777"
ORG_ID = "o-abc123def4"
DIGEST = "sha256:" + "0" * 64
REPO_ARN = f"arn:aws:ecr:us-east-2:{VENDOR_ACCOUNT}:repository/rake-app"


def repository_policy_props(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """`aws.ecr.RepositoryPolicy` inputs; by default the real builder's pull-only policy."""
    if document is None:
        document = repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT], pull_org_id=ORG_ID)
    return {"repository": "rake-app", "policy": json.dumps(document)}


def statement_policy(**statement: Any) -> dict[str, Any]:
    """A one-statement policy document: `statement_policy(Sid="S", Effect="Allow", ...)`."""
    return policy_document([statement])


def task_definition_props(**container_overrides: Any) -> dict[str, Any]:
    """`aws.ecs.TaskDefinition` inputs with one container built by the real builder."""
    container = Container(
        name="rake-app",
        image=f"{VENDOR_ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/rake-app@{DIGEST}",
        port=8081,
        environment={"RAKE_PORT": "8081"},
        secrets={"API_KEY": "arn:aws:secretsmanager:us-west-2:999988887777:secret:key-AbCdEf"},
    )
    definition = container_definitions(
        [container], LogSettings(group="app-logs", region="us-west-2")
    )[0]
    return {
        "family": "app",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "containerDefinitions": json.dumps([{**definition, **container_overrides}]),
    }


def identity_policy_props() -> dict[str, Any]:
    """`aws.iam.RolePolicy` inputs: pull on one repository, and the registry login on "*"."""
    document = policy_document(
        [
            allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [REPO_ARN], sid="Pull"),
            auth_token_statement(),
        ]
    )
    return {"role": "app-task-exec", "policy": json.dumps(document)}
