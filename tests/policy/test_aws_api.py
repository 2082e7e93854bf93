"""The AWS API-model validators on the pure builders, and on documents AWS would reject."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.iam import lifecycle_policy, policy_document, repository_pull_policy
from tests.policy.aws_api import (
    FakeAws,
    lifecycle_policy_schema_errors,
    register_task_definition_report,
    task_definition_params,
)
from tests.policy.factories import (
    CUSTOMER_ACCOUNT,
    ORG_ID,
    identity_policy_props,
    task_definition_props,
)

REPOSITORY_POLICY_REJECTED = (
    "An error occurred (InvalidParameterException) when calling the SetRepositoryPolicy "
    "operation: Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid "
    "repository policy provided'"
)
EXPIRE = {"type": "expire"}


def test_task_definition_of_the_container_builder_is_a_valid_api_request() -> None:
    params = task_definition_params(task_definition_props())
    assert register_task_definition_report(params) == ""


@pytest.mark.parametrize(
    ("container_change", "expected"),
    [
        pytest.param(
            {"healthcheck": {"command": ["CMD", "true"]}},
            'Unknown parameter in containerDefinitions[0]: "healthcheck", must be one of: name, '
            "image, repositoryCredentials, cpu, memory, memoryReservation, links, portMappings, "
            "essential, restartPolicy, entryPoint, command, environment, environmentFiles, "
            "mountPoints, volumesFrom, linuxParameters, secrets, dependsOn, startTimeout, "
            "stopTimeout, versionConsistency, hostname, user, workingDirectory, "
            "disableNetworking, privileged, readonlyRootFilesystem, dnsServers, "
            "dnsSearchDomains, extraHosts, dockerSecurityOptions, interactive, pseudoTerminal, "
            "dockerLabels, ulimits, logConfiguration, healthCheck, systemControls, "
            "resourceRequirements, firelensConfiguration, credentialSpecs",
            id="misspelt-key",
        ),
        pytest.param(
            {"portMappings": [{"containerPort": "8081"}]},
            "Invalid type for parameter containerDefinitions[0].portMappings[0].containerPort, "
            "value: 8081, type: <class 'str'>, valid types: <class 'int'>",
            id="port-as-string",
        ),
        pytest.param(
            {"secrets": [{"name": "API_KEY"}]},
            'Missing required parameter in containerDefinitions[0].secrets[0]: "valueFrom"',
            id="secret-without-source",
        ),
    ],
)
def test_task_definition_report_names_what_the_api_rejects(
    container_change: dict[str, Any], expected: str
) -> None:
    params = task_definition_params(task_definition_props())
    params["containerDefinitions"][0].update(container_change)
    assert register_task_definition_report(params) == expected


def test_lifecycle_policy_builder_matches_the_documented_shape(aws: FakeAws) -> None:
    document = lifecycle_policy(keep_release_images=10)
    assert lifecycle_policy_schema_errors(document) == []
    assert aws.put_lifecycle_policy(json.dumps(document)) is None


def rule(priority: int, tag_status: str, count_type: str, count: int, **extra: Any) -> Any:
    """A lifecycle rule; `extra` adds selection keys, or replaces the action (`action=...`)."""
    action = extra.pop("action", EXPIRE)
    selection = {"tagStatus": tag_status, "countType": count_type, "countNumber": count, **extra}
    return {"rulePriority": priority, "selection": selection, "action": action}


KEEP_NINE = rule(1, "any", "imageCountMoreThan", 9)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            [rule(1, "tagged", "imageCountMoreThan", 5)],
            [
                "$.rules[0].selection: {'tagStatus': 'tagged', 'countType': 'imageCountMoreThan', "
                "'countNumber': 5} is not valid under any of the given schemas"
            ],
            id="tagged-without-tag-filter",
        ),
        pytest.param(
            [rule(1, "untagged", "sinceImagePushed", 1)],
            ["$.rules[0].selection: 'countUnit' is a required property"],
            id="age-without-unit",
        ),
        pytest.param(
            [KEEP_NINE, rule(1, "untagged", "sinceImagePushed", 1, countUnit="days")],
            ["$.rules: rulePriority values must be unique, got [1, 1]"],
            id="duplicate-priority",
        ),
        pytest.param(
            [KEEP_NINE, rule(2, "untagged", "imageCountMoreThan", 1, action={"type": "delete"})],
            ["$.rules[1].action.type: 'expire' was expected"],
            id="unknown-action",
        ),
        pytest.param(
            [KEEP_NINE, rule(2, "untagged", "imageCountMoreThan", 1)],
            [
                "$.rules: the tagStatus 'any' rule (rulePriority 1) must have the highest "
                "rulePriority"
            ],
            id="any-not-last",
        ),
    ],
)
def test_lifecycle_schema_reports_documented_constraints(
    rules: list[dict[str, Any]], expected: list[str]
) -> None:
    assert lifecycle_policy_schema_errors({"rules": rules}) == expected


def test_fake_aws_rejects_a_lifecycle_policy_with_an_unknown_key(aws: FakeAws) -> None:
    document = lifecycle_policy(keep_release_images=3)
    document["rules"][0]["selection"]["tagStatus"] = "old"
    assert aws.put_lifecycle_policy(json.dumps(document)) == (
        "An error occurred (InvalidParameterException) when calling the PutLifecyclePolicy "
        "operation: Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: instance value (old) not found in enum "
        ':(possible values: ["any", "tagged", "untagged"])\''
    )


def test_fake_aws_accepts_the_repository_pull_policy(aws: FakeAws) -> None:
    document = repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT], pull_org_id=ORG_ID)
    assert aws.set_repository_policy(json.dumps(document)) is None


def test_fake_aws_rejects_a_repository_policy_with_an_unknown_element(aws: FakeAws) -> None:
    document = repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT])
    assert document is not None
    document["Statement"][0]["Principals"] = document["Statement"][0].pop("Principal")
    assert aws.set_repository_policy(json.dumps(document)) == REPOSITORY_POLICY_REJECTED


def test_fake_aws_accepts_the_identity_policy(aws: FakeAws) -> None:
    assert aws.create_policy(identity_policy_props()["policy"]) is None


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken"},
            "Policy statement must contain resources.",
            id="no-resource",
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "ecrGetAuthorizationToken", "Resource": "*"},
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            id="action-without-service",
        ),
        pytest.param(
            {"Effect": "Permit", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            "Syntax errors in policy.",
            id="bad-effect",
        ),
    ],
)
def test_fake_aws_rejects_malformed_identity_policies(
    aws: FakeAws, statement: dict[str, Any], expected: str
) -> None:
    assert aws.create_policy(json.dumps(policy_document([statement]))) == (
        "An error occurred (MalformedPolicyDocument) when calling the CreatePolicy operation: "
        + expected
    )


def test_fake_aws_rejects_a_trust_policy_with_a_resource(aws: FakeAws) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Resource": "*",
    }
    assert aws.update_assume_role_policy(json.dumps(policy_document([statement]))) == (
        "An error occurred (MalformedPolicyDocument) when calling the UpdateAssumeRolePolicy "
        "operation: Has prohibited field Resource."
    )
