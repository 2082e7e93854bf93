"""Every document a recorded stack run hands to AWS as JSON, with where it goes.

The recorder (tests/infra/harness.py) keeps resource inputs as the engine receives them: camelCase
names, JSON strings, secrets in Pulumi's signature wrapper. `documents(run)` unwraps secrets and
names each document by kind, so one loop per validator covers both stacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from policy.pack import provider_account_id
from policy.rules import ECR_REPOSITORY_POLICY, ECS_TASK_DEFINITION, IAM_ROLE
from tests.infra.harness import Resource, StackRun

# Pulumi's wire form of a secret: {SECRET_SIG_KEY: SECRET_SIG, "value": <plain value>}.
SECRET_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"

LIFECYCLE_POLICY: Final = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REGISTRY_POLICY: Final = "aws:ecr/registryPolicy:RegistryPolicy"
# A template's lifecycle policy becomes the lifecycle policy of every repository ECR creates.
CREATION_TEMPLATE: Final = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
# Identity policies: the `policy` input of these types.
IDENTITY_POLICY_TYPES: Final = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/userPolicy:UserPolicy",
    }
)


class Kind(Enum):
    IDENTITY = "identity policy"
    TRUST = "role trust policy"
    REPOSITORY = "ECR repository policy"
    LIFECYCLE = "ECR lifecycle policy"
    # A resource policy that names its resources (registry policies do, repository policies not).
    REGISTRY = "ECR registry policy"
    TASK_DEFINITION = "ECS task definition"
    BUCKET = "S3 bucket policy"


@dataclass(frozen=True)
class Document:
    """One document: its kind, the resource (URN) it belongs to, and its content."""

    kind: Kind
    urn: str
    # A JSON string, except for task definitions: the resource's whole (plain) inputs.
    content: Any
    # For resource policies: the ARN of the resource the policy is attached to.
    attached_to: str | None = None


def plain(value: Any) -> Any:
    """The value with every secret wrapper replaced by the secret's plain value."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return plain(value["value"])
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def documents(run: StackRun) -> list[Document]:
    """Every policy document and task definition the run registered, in registration order."""
    return [doc for resource in run.resources for doc in _documents(run, resource)]


def _documents(run: StackRun, resource: Resource) -> Iterator[Document]:
    inputs = plain(resource.inputs)
    account, region = _account_and_region(run, resource)
    if resource.type in IDENTITY_POLICY_TYPES:
        yield Document(Kind.IDENTITY, resource.urn, inputs["policy"])
    elif resource.type == ECR_REPOSITORY_POLICY:
        arn = f"arn:aws:ecr:{region}:{account}:repository/{inputs['repository']}"
        yield Document(Kind.REPOSITORY, resource.urn, inputs["policy"], attached_to=arn)
    elif resource.type == REGISTRY_POLICY:
        yield Document(Kind.REGISTRY, resource.urn, inputs["policy"])
    elif resource.type == BUCKET_POLICY:
        # The bucket policy's own statements name their resources; the bucket is `bucket`'s ID.
        arn = f"arn:aws:s3:::{inputs['bucket']}"
        yield Document(Kind.BUCKET, resource.urn, inputs["policy"], attached_to=arn)
    elif resource.type == LIFECYCLE_POLICY:
        yield Document(Kind.LIFECYCLE, resource.urn, inputs["policy"])
    elif resource.type == CREATION_TEMPLATE:
        yield Document(Kind.LIFECYCLE, resource.urn, inputs["lifecyclePolicy"])
    elif resource.type == ECS_TASK_DEFINITION:
        yield Document(Kind.TASK_DEFINITION, resource.urn, inputs)
    elif resource.type == IAM_ROLE:
        arn = f"arn:aws:iam::{account}:role/{inputs.get('name', resource.name)}"
        yield Document(Kind.TRUST, resource.urn, inputs["assumeRolePolicy"], attached_to=arn)
        for inline in inputs.get("inlinePolicies") or []:
            if inline.get("policy"):
                yield Document(Kind.IDENTITY, resource.urn, inline["policy"])


def _account_and_region(run: StackRun, resource: Resource) -> tuple[str, str]:
    providers = [r for r in run.resources if r.urn == resource.provider_urn]
    inputs = plain(providers[0].inputs) if providers else {}
    account = provider_account_id(inputs) or "000000000000"
    return account, str(inputs.get("region", "us-east-1"))


def as_json(content: Any) -> str:
    """A document as the JSON text AWS receives."""
    return content if isinstance(content, str) else json.dumps(content)
