"""The documents of components/mirror.py through parliament and moto's ECR and IAM APIs.

The builders one by one, as `test_programs.py` checks the stacks that use them (`lint`, then the
API call), plus what no stack run shows: a replication rule, and the suppressions' limits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.iam import allow, policy_document, repository_pull_policy
from components.mirror import (
    CACHE_PULL_ACTIONS,
    CacheSpec,
    Destination,
    Upstream,
    mirror_lifecycle_policy,
    replication_acceptance_policy,
    replication_rule,
    upstream_grant_statement,
    upstream_read_policy,
    upstream_read_trust_policy,
)
from tests.policy.aws_api import FakeAws, lifecycle_policy_schema_errors
from tests.policy.factories import CUSTOMER_ACCOUNT, REPO_ARN, VENDOR_ACCOUNT
from tests.policy.iam_lint import lint

CACHE = CacheSpec(
    upstream=Upstream.from_arn(REPO_ARN),
    prefix="vendor",
    account=CUSTOMER_ACCOUNT,
    region="us-west-2",
)
ROLE_ARN = f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/{CACHE.role_name}"
REPLICA_ARN = f"arn:aws:ecr:us-west-2:{CUSTOMER_ACCOUNT}:repository/rake-app"
ACCEPTANCE = replication_acceptance_policy(
    source_accounts=[VENDOR_ACCOUNT], repository_arns=[REPLICA_ARN]
)


def vendor_repository_policy() -> dict[str, Any]:
    """The vendor's pull policy plus the statement a pull-through cache upstream needs."""
    pull = repository_pull_policy(pull_accounts=[CUSTOMER_ACCOUNT])
    assert pull is not None
    return policy_document([*pull["Statement"], upstream_grant_statement([CUSTOMER_ACCOUNT])])


@pytest.mark.parametrize(
    ("document", "attached_to"),
    [
        pytest.param(upstream_read_policy(CACHE), None, id="upstream-read-role-policy"),
        pytest.param(upstream_read_trust_policy(), ROLE_ARN, id="upstream-read-trust"),
        pytest.param(vendor_repository_policy(), REPO_ARN, id="vendor-repository-policy"),
        pytest.param(ACCEPTANCE, None, id="replication-acceptance"),
        # The execution role's grant on the cached repository (registry_mirror.CachedRepoRef).
        pytest.param(
            policy_document([allow(CACHE_PULL_ACTIONS, [CACHE.repository_arn])]),
            None,
            id="cached-repository-pull-grant",
        ),
    ],
)
def test_mirror_documents_lint_clean(document: dict[str, Any], attached_to: str | None) -> None:
    assert lint(document, attached_to=attached_to) == []


def test_get_image_copy_status_is_accepted_only_as_the_action_parliament_does_not_know() -> None:
    misspelt = policy_document(
        [{"Effect": "Allow", "Action": "ecr:GetImageCopyStatuses", "Resource": REPO_ARN}]
    )
    assert lint(misspelt) == ["UNKNOWN_ACTION: Unknown action ecr:GetImageCopyStatuses"]


def test_mirror_identity_and_resource_policies_are_accepted_by_the_aws_api(aws: FakeAws) -> None:
    assert aws.create_policy(json.dumps(upstream_read_policy(CACHE))) is None
    assert aws.update_assume_role_policy(json.dumps(upstream_read_trust_policy())) is None
    assert aws.set_repository_policy(json.dumps(vendor_repository_policy())) is None
    assert aws.put_registry_policy(json.dumps(ACCEPTANCE)) is None


def test_registry_policy_with_an_action_ecr_does_not_enforce_there_is_rejected(
    aws: FakeAws,
) -> None:
    document = json.loads(json.dumps(ACCEPTANCE))
    document["Statement"][0]["Action"].append("ecr:PutImage")
    assert aws.put_registry_policy(json.dumps(document)) == (
        "An error occurred (InvalidParameterException) when calling the PutRegistryPolicy "
        "operation: Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid "
        "registry policy provided'"
    )


def test_replication_rule_is_a_valid_replication_configuration(aws: FakeAws) -> None:
    rule = replication_rule("rake-app", [Destination(account=CUSTOMER_ACCOUNT, region="us-west-2")])
    assert aws.put_replication_configuration([rule]) is None
    bad = {**rule, "destinations": [{"region": "us-west-2", "registry": CUSTOMER_ACCOUNT}]}
    assert aws.put_replication_configuration([bad]) == (
        "Parameter validation failed:\n"
        "Missing required parameter in replicationConfiguration.rules[0].destinations[0]: "
        '"registryId"\n'
        'Unknown parameter in replicationConfiguration.rules[0].destinations[0]: "registry", must '
        "be one of: region, registryId"
    )


def test_import_upstream_is_accepted_on_a_repository_but_other_mismatches_still_fail() -> None:
    # parliament wants "*" for ecr:BatchImportUpstreamImage; AWS documents `repository*`.
    mixed = policy_document(
        [allow(["ecr:BatchImportUpstreamImage", "ecr:GetAuthorizationToken"], [REPO_ARN])]
    )
    assert lint(mixed) == [
        "RESOURCE_MISMATCH: [{'action': 'ecr:BatchImportUpstreamImage', 'required_format': '*'}, "
        "{'action': 'ecr:GetAuthorizationToken', 'required_format': '*'}]"
    ]


def test_mirror_lifecycle_policy_is_documented_shape_and_accepted(aws: FakeAws) -> None:
    document = json.dumps(mirror_lifecycle_policy(keep_images=10))
    assert lifecycle_policy_schema_errors(document) == []
    assert aws.put_lifecycle_policy(document) is None
