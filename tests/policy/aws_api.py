"""What AWS's APIs accept, checked offline: the JSON the program hands to AWS as strings.

- ECS `containerDefinitions` (and the task definition around them): botocore's own
  `ParamValidator` against the `RegisterTaskDefinition` input shape of botocore's ECS service
  model, the check boto3 runs before sending a request. Unknown keys (`healthcheck` for
  `healthCheck`), wrong types and missing required members fail.
- IAM identity policies, role trust policies, ECR repository and registry policies, lifecycle
  policies and replication rules: loaded into moto's fake AWS through the real API calls
  (`CreatePolicy`, `UpdateAssumeRolePolicy`, `SetRepositoryPolicy`, `PutRegistryPolicy`,
  `PutLifecyclePolicy`, `PutReplicationConfiguration`), so botocore validates
  the request and moto's IAM/ECR policy validators (the service side) validate the document.
- ECR lifecycle policies, again: against a JSON schema written from the AWS documentation
  (ecr-lifecycle-policy.schema.json), which states the rules moto leaves out.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import botocore.session
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import ParamValidator
from jsonschema import Draft202012Validator

with warnings.catch_warnings():
    # moto's import pulls in modules that warn about their own deprecations on some Pythons.
    warnings.simplefilter("ignore", DeprecationWarning)
    from moto import mock_aws

# Pulumi `aws.ecs.TaskDefinition` inputs that are `RegisterTaskDefinition` parameters of the same
# name and shape (`tags` is a map in Pulumi but a list in the API, `volumes` differ in shape, and
# the rest are Pulumi-only, so those are left out).
TASK_DEFINITION_KEYS: Final = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "runtimePlatform",
    "ephemeralStorage",
)
LIFECYCLE_SCHEMA: Final = json.loads(
    (Path(__file__).with_name("ecr-lifecycle-policy.schema.json")).read_text()
)
# Any region works: moto keeps its state per account and region inside one `mock_aws`.
REGION: Final = "us-east-1"
REPOSITORY: Final = "guardrails-check"
ROLE: Final = "guardrails-check"
# A trust policy moto accepts, to create the role whose trust policy is then replaced.
_PLACEHOLDER_TRUST: Final = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def task_definition_params(props: Mapping[str, Any]) -> dict[str, Any]:
    """`RegisterTaskDefinition` parameters from an `aws.ecs.TaskDefinition`'s inputs."""
    params = {key: props[key] for key in TASK_DEFINITION_KEYS if key in props}
    definitions = props.get("containerDefinitions")
    params["containerDefinitions"] = (
        json.loads(definitions) if isinstance(definitions, str) else definitions
    )
    return params


def register_task_definition_report(params: Mapping[str, Any]) -> str:
    """botocore's validation report for `RegisterTaskDefinition` params ("" when valid)."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(dict(params), shape)
    return str(report.generate_report()) if report.has_errors() else ""


def lifecycle_policy_schema_errors(document: str | Mapping[str, Any]) -> list[str]:
    """Where a lifecycle policy breaks the documented shape: `<JSON path>: <problem>`."""
    parsed = json.loads(document) if isinstance(document, str) else document
    validator = Draft202012Validator(LIFECYCLE_SCHEMA)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(parsed)]
    if errors:
        return sorted(errors)
    rules = parsed["rules"]
    priorities = [rule["rulePriority"] for rule in rules]
    if len(set(priorities)) != len(priorities):
        errors.append(f"$.rules: rulePriority values must be unique, got {priorities}")
    for rule in rules:
        if rule["selection"]["tagStatus"] == "any" and rule["rulePriority"] != max(priorities):
            errors.append(
                f"$.rules: the tagStatus 'any' rule (rulePriority {rule['rulePriority']}) must "
                "have the highest rulePriority"
            )
    return errors


class FakeAws:
    """AWS APIs as moto fakes them; each method returns the rejection message, or None."""

    def __init__(self) -> None:
        session = botocore.session.get_session()
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.ecr = session.create_client("ecr", region_name=REGION, **credentials)
        self.iam = session.create_client("iam", region_name=REGION, **credentials)
        self.ecr.create_repository(repositoryName=REPOSITORY)
        self.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=_PLACEHOLDER_TRUST)
        self._policies = 0

    def set_repository_policy(self, document: str) -> str | None:
        """ECR `SetRepositoryPolicy` (a resource policy: Principal, no Resource)."""
        return _rejection(
            lambda: self.ecr.set_repository_policy(repositoryName=REPOSITORY, policyText=document)
        )

    def put_registry_policy(self, document: str) -> str | None:
        """ECR `PutRegistryPolicy` (Principal and Resource; only the registry-level actions)."""
        return _rejection(lambda: self.ecr.put_registry_policy(policyText=document))

    def put_replication_configuration(self, rules: list[dict[str, Any]]) -> str | None:
        """ECR `PutReplicationConfiguration` with these rules."""
        return _rejection(
            lambda: self.ecr.put_replication_configuration(
                replicationConfiguration={"rules": rules}
            )
        )

    def put_lifecycle_policy(self, document: str) -> str | None:
        """ECR `PutLifecyclePolicy`."""
        return _rejection(
            lambda: self.ecr.put_lifecycle_policy(
                repositoryName=REPOSITORY, lifecyclePolicyText=document
            )
        )

    def create_policy(self, document: str) -> str | None:
        """IAM `CreatePolicy`: the validation every identity policy (managed or inline) gets."""
        self._policies += 1
        name = f"guardrails-check-{self._policies}"
        return _rejection(lambda: self.iam.create_policy(PolicyName=name, PolicyDocument=document))

    def update_assume_role_policy(self, document: str) -> str | None:
        """IAM `UpdateAssumeRolePolicy`: a role trust policy."""
        return _rejection(
            lambda: self.iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=document)
        )


def _rejection(call: Any) -> str | None:
    try:
        call()
    except (ClientError, ParamValidationError) as error:
        return str(error)
    return None


@contextmanager
def fake_aws() -> Iterator[FakeAws]:
    """A fresh fake AWS account (nothing leaves the process)."""
    with mock_aws():
        yield FakeAws()
