"""PullThroughCache, ReplicationAcceptance, VendorReplication, RegistryScanning under mocks."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.mirror import CacheSpec, Destination, Upstream, upstream_read_policy
from components.registry_mirror import (
    ACCEPTANCE_TYPE,
    CACHE_TYPE,
    PullThroughCache,
    PullThroughCacheArgs,
    RegistryScanning,
    RegistryScanningArgs,
    ReplicationAcceptance,
    ReplicationAcceptanceArgs,
    VendorReplication,
    VendorReplicationArgs,
)
from tests.infra.component_helpers import (
    children,
    custom_resources_without_the_provider,
    run_with_provider,
)
from tests.infra.harness import (
    CUSTOMER_ACCOUNT,
    CUSTOMER_REGION,
    LOGIN_STATEMENT,
    PULL_ACTIONS,
    VENDOR_IMAGE_URI,
    VENDOR_OUTPUTS,
    StackRun,
    only,
)

VENDOR_ARN = VENDOR_OUTPUTS["rake_app_repository_arn"]
CACHED_ARN = f"arn:aws:ecr:{CUSTOMER_REGION}:{CUSTOMER_ACCOUNT}:repository/vendor/rake-app"
REPLICA_ARN = f"arn:aws:ecr:{CUSTOMER_REGION}:{CUSTOMER_ACCOUNT}:repository/rake-app"
REGISTRY = f"{CUSTOMER_ACCOUNT}.dkr.ecr.{CUSTOMER_REGION}.amazonaws.com"
DIGEST = VENDOR_IMAGE_URI.rsplit("@", 1)[1]
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"


def cache_args(**changes: Any) -> PullThroughCacheArgs:
    values: dict[str, Any] = {
        # As from the vendor stack's outputs: Outputs, not strings.
        "upstream_repository_arn": pulumi.Output.from_input(VENDOR_ARN),
        "vendor_image_uri": pulumi.Output.from_input(VENDOR_IMAGE_URI),
        "account_id": CUSTOMER_ACCOUNT,
        "region": CUSTOMER_REGION,
        "keep_images": 5,
        **changes,
    }
    return PullThroughCacheArgs(**values)


def build_cache(args: PullThroughCacheArgs | None = None, *, preview: bool = False) -> StackRun:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        cache = PullThroughCache("mirror", args or cache_args(), opts)
        image = cache.vendor_image()
        return {"image": image.image_uri, "pull": image.repository.grant_pull()}

    return run_with_provider(build, preview=preview)


@pytest.fixture(scope="module")
def cache_run() -> StackRun:
    return build_cache()


def test_cache_children_use_role_names_and_the_stack_provider(cache_run: StackRun) -> None:
    assert children(cache_run, CACHE_TYPE) == [
        ("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "mirror-rule"),
        (TEMPLATE, "mirror-template"),
        ("aws:iam/role:Role", "mirror-upstream-role"),
        ("aws:iam/rolePolicy:RolePolicy", "mirror-upstream-policy"),
    ]
    assert custom_resources_without_the_provider(cache_run) == []


def test_cache_rule_reads_the_vendor_registry_through_the_role(cache_run: StackRun) -> None:
    rule = only(cache_run.resources, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    policy = only(cache_run.resources, "aws:iam/rolePolicy:RolePolicy")
    template = only(cache_run.resources, TEMPLATE)
    assert rule.inputs == {
        "ecrRepositoryPrefix": "vendor",
        "upstreamRegistryUrl": "111122223333.dkr.ecr.us-east-2.amazonaws.com",
        "upstreamRepositoryPrefix": "ROOT",
        "customRoleArn": f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/vendor-us-west-2-ecr-upstream",
    }
    # The first pull needs the role's permissions and the template: explicit dependencies.
    assert set(rule.dependencies) >= {policy.urn, template.urn}


def test_cache_rule_survives_a_second_up_and_a_new_upstream(cache_run: StackRun) -> None:
    """ECR stores ROOT as the upstream prefix when none is given and the provider reads it back
    without computing it: left out, the next `up` sees a change that replaces the rule. And a
    replacement (a new upstream) must delete first: ECR has one rule per prefix."""
    rule = only(cache_run.resources, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert rule.inputs["upstreamRepositoryPrefix"] == "ROOT"
    assert rule.delete_before_replace is True


def test_cache_role_trusts_the_service_and_reads_only_the_vendor_repository(
    cache_run: StackRun,
) -> None:
    role = only(cache_run.resources, "aws:iam/role:Role")
    policy = only(cache_run.resources, "aws:iam/rolePolicy:RolePolicy")
    assert role.inputs["name"] == "vendor-us-west-2-ecr-upstream"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pullthroughcache.ecr.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    # By name, so the policy pack can relate the two at preview.
    assert policy.inputs["role"] == "vendor-us-west-2-ecr-upstream"
    spec = CacheSpec(
        upstream=Upstream.from_arn(VENDOR_ARN),
        prefix="vendor",
        account=CUSTOMER_ACCOUNT,
        region=CUSTOMER_REGION,
    )
    assert json.loads(policy.inputs["policy"]) == upstream_read_policy(spec)


def test_cache_template_gives_cached_repositories_the_stack_settings(cache_run: StackRun) -> None:
    template = only(cache_run.resources, TEMPLATE)
    assert {k: v for k, v in template.inputs.items() if k != "lifecyclePolicy"} == {
        "prefix": "vendor",
        "appliedFors": ["PULL_THROUGH_CACHE"],
        "description": "Repositories the pull-through cache vendor/ creates",
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "AES256"}],
    }
    # One rule, any tag status: a cached image pulled by digest is untagged, and must not expire
    # a day after it was cached (SharedRepo's rule for untagged images).
    assert json.loads(template.inputs["lifecyclePolicy"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep the newest 5 images, tagged or not (an image pulled through "
                "a cache by digest has no tag).",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def test_cache_image_is_the_vendor_digest_in_the_customer_registry(cache_run: StackRun) -> None:
    assert cache_run.exports["image"] == f"{REGISTRY}/vendor/rake-app@{DIGEST}"


def test_cache_pull_grant_is_pull_and_first_pull_on_the_cached_repository_only(
    cache_run: StackRun,
) -> None:
    assert cache_run.exports["pull"] == [
        LOGIN_STATEMENT,
        {
            "Sid": "PullVendorRakeApp",
            "Effect": "Allow",
            "Action": sorted(
                [*PULL_ACTIONS, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
            ),
            "Resource": [CACHED_ARN],
        },
    ]


def test_cache_preview_knows_the_role_name_the_policy_names() -> None:
    run = build_cache(preview=True)
    policy = only(run.resources, "aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "vendor-us-west-2-ecr-upstream"


def test_cache_rejects_a_vendor_image_of_another_repository() -> None:
    other = VENDOR_IMAGE_URI.replace("/rake-app@", "/prose-app@")
    with pytest.raises(ValueError) as exc_info:
        build_cache(cache_args(vendor_image_uri=other))
    # Raised where the Output resolves (preview included); Pulumi names the input it fed.
    assert str(exc_info.value).endswith(
        f"CacheSpec.image_uri: expected an image of {VENDOR_ARN} pinned by digest, got {other!r}."
    )


def test_cache_rejects_bad_args_listing_every_problem() -> None:
    with pytest.raises(ValueError) as exc_info:
        build_cache(cache_args(prefix="x", account_id="1", region="mars", keep_images=0))
    assert str(exc_info.value).splitlines() == [
        "PullThroughCacheArgs.prefix: expected 2 to 30 characters of repository-name segments, "
        "got 'x'.",
        "PullThroughCacheArgs.account_id: expected a 12-digit AWS account ID, got '1'.",
        "PullThroughCacheArgs.region: expected an AWS region, got 'mars'.",
        "PullThroughCacheArgs.keep_images: expected at least 1, got 0.",
    ]


def acceptance_args(**changes: Any) -> ReplicationAcceptanceArgs:
    values: dict[str, Any] = {
        "source_accounts": ("111122223333",),
        "repository_names": ("rake-app",),
        "account_id": CUSTOMER_ACCOUNT,
        "region": CUSTOMER_REGION,
        "keep_images": 10,
        **changes,
    }
    return ReplicationAcceptanceArgs(**values)


@pytest.fixture(scope="module")
def acceptance_run() -> StackRun:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        acceptance = ReplicationAcceptance("accept", acceptance_args(), opts)
        replica = acceptance.replica("rake-app", pulumi.Output.from_input(VENDOR_IMAGE_URI))
        return {"image": replica.image_uri, "pull": replica.repository.grant_pull()}

    return run_with_provider(build)


def test_acceptance_admits_the_vendor_into_the_one_repository(acceptance_run: StackRun) -> None:
    assert children(acceptance_run, ACCEPTANCE_TYPE) == [
        ("aws:ecr/registryPolicy:RegistryPolicy", "accept-policy"),
        (TEMPLATE, "accept-template"),
    ]
    assert custom_resources_without_the_provider(acceptance_run) == []
    policy = only(acceptance_run.resources, "aws:ecr/registryPolicy:RegistryPolicy")
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReplicateFrom111122223333",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": [REPLICA_ARN],
            }
        ],
    }


def test_acceptance_template_covers_replicas_at_the_registry_root(acceptance_run: StackRun) -> None:
    template = only(acceptance_run.resources, TEMPLATE)
    assert (template.inputs["prefix"], template.inputs["appliedFors"]) == ("ROOT", ["REPLICATION"])
    assert template.inputs["imageTagMutability"] == "IMMUTABLE"


def test_replica_is_the_same_digest_pulled_from_the_customer_registry(
    acceptance_run: StackRun,
) -> None:
    assert acceptance_run.exports["image"] == f"{REGISTRY}/rake-app@{DIGEST}"
    assert acceptance_run.exports["pull"] == [
        LOGIN_STATEMENT,
        {
            "Sid": "PullRakeApp",
            "Effect": "Allow",
            "Action": PULL_ACTIONS,
            "Resource": [REPLICA_ARN],
        },
    ]


def test_acceptance_rejects_bad_args_listing_every_problem() -> None:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        args = acceptance_args(source_accounts=(), repository_names=("Rake",), region="mars")
        ReplicationAcceptance("accept", args, opts)
        return {}

    with pytest.raises(ValueError) as exc_info:
        run_with_provider(build)
    assert str(exc_info.value).splitlines() == [
        "ReplicationAcceptanceArgs.repository_names[0]: expected an ECR repository name, "
        "got 'Rake'.",
        "ReplicationAcceptanceArgs.source_accounts: expected at least one account, got [].",
        "ReplicationAcceptanceArgs.region: expected an AWS region, got 'mars'.",
    ]


def test_replica_of_an_unaccepted_repository_is_refused() -> None:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        ReplicationAcceptance("accept", acceptance_args(), opts).replica(
            "prose-app", VENDOR_IMAGE_URI
        )
        return {}

    with pytest.raises(ValueError) as exc_info:
        run_with_provider(build)
    assert str(exc_info.value) == (
        "ReplicationAcceptance.replica(repository): expected one of ['rake-app'], got 'prose-app'."
    )


def test_vendor_replication_filters_each_repository_to_its_destinations() -> None:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        destinations = {"rake-app": [Destination(account=CUSTOMER_ACCOUNT, region=CUSTOMER_REGION)]}
        VendorReplication("replication", VendorReplicationArgs(destinations=destinations), opts)
        return {}

    run = run_with_provider(build)
    configuration = only(run.resources, "aws:ecr/replicationConfiguration:ReplicationConfiguration")
    assert configuration.name == "replication-configuration"
    assert configuration.inputs["replicationConfiguration"] == {
        "rules": [
            {
                "destinations": [{"region": CUSTOMER_REGION, "registryId": CUSTOMER_ACCOUNT}],
                "repositoryFilters": [{"filter": "rake-app", "filterType": "PREFIX_MATCH"}],
            }
        ]
    }
    assert custom_resources_without_the_provider(run) == []


def test_vendor_replication_rejects_bad_destinations() -> None:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        bad = {"rake-app": [Destination(account="12", region="x")], "prose-app": []}
        VendorReplication("replication", VendorReplicationArgs(destinations=bad), opts)
        return {}

    with pytest.raises(ValueError) as exc_info:
        run_with_provider(build)
    assert str(exc_info.value).splitlines() == [
        "VendorReplicationArgs.destinations['prose-app']: expected 1 to 25 destinations, got 0.",
        "VendorReplicationArgs.destinations['rake-app'][0].account: expected a 12-digit AWS "
        "account ID, got '12'.",
        "VendorReplicationArgs.destinations['rake-app'][0].region: expected an AWS region, "
        "got 'x'.",
    ]


@pytest.mark.parametrize(
    ("enhanced", "scan_type", "frequency"),
    [(False, "BASIC", "SCAN_ON_PUSH"), (True, "ENHANCED", "CONTINUOUS_SCAN")],
)
def test_registry_scanning_sets_the_registry_scan_type(
    enhanced: bool, scan_type: str, frequency: str
) -> None:
    def build(opts: pulumi.ResourceOptions) -> dict[str, Any]:
        args = RegistryScanningArgs(repository_filters=["vendor/*"], enhanced=enhanced)
        RegistryScanning("scanning", args, opts)
        return {}

    run = run_with_provider(build)
    configuration = only(
        run.resources, "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
    )
    assert configuration.inputs == {
        "scanType": scan_type,
        "rules": [
            {
                "scanFrequency": frequency,
                "repositoryFilters": [{"filter": "vendor/*", "filterType": "WILDCARD"}],
            }
        ],
    }
