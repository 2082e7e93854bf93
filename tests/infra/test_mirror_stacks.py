"""Both stack files with each copy option on (tests/infra/mirror_configs.py), under mocks.

The vendor's real exports feed the customer (the vendor -> customer chain): the cached or
replicated image is the vendor's digest in the customer's registry, the execution role pulls only
there, and a vendor that does not cache-share or replicate to the customer fails its preview.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from tests.infra.app_helpers import container_definitions_of, exec_policy
from tests.infra.harness import (
    CUSTOMER_ACCOUNT,
    CUSTOMER_REGION,
    PULL_ACTIONS,
    PULL_AND_DESCRIBE_ACTIONS,
    VENDOR_ACCOUNT,
    StackRun,
    all_of,
    discard_failed_run,
    only,
    run_stack,
)
from tests.infra.mirror_configs import (
    CUSTOMER_CACHE,
    CUSTOMER_REPLICATION,
    run_chain,
)

VENDOR_REGION = "us-east-2"
VENDOR_ARN = f"arn:aws:ecr:{VENDOR_REGION}:{VENDOR_ACCOUNT}:repository/rake-app"
REGISTRY = f"{CUSTOMER_ACCOUNT}.dkr.ecr.{CUSTOMER_REGION}.amazonaws.com"
CACHED_ARN = f"arn:aws:ecr:{CUSTOMER_REGION}:{CUSTOMER_ACCOUNT}:repository/vendor/rake-app"
REPLICA_ARN = f"arn:aws:ecr:{CUSTOMER_REGION}:{CUSTOMER_ACCOUNT}:repository/rake-app"
VENDOR_STACK = "organization/ecr-cross-account/vendor"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
CACHE_RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC = "awsx:ec2:Vpc"
# The resource types only the copy options create.
COPY_TYPES = {
    REPLICATION,
    SCANNING,
    CACHE_RULE,
    TEMPLATE,
    REGISTRY_POLICY,
    ENDPOINT,
    "ecr-cross-account:components:PullThroughCache",
    "ecr-cross-account:components:ReplicationAcceptance",
    "ecr-cross-account:components:VendorReplication",
    "ecr-cross-account:components:RegistryScanning",
    "ecr-cross-account:components:VpcEndpoints",
}


@pytest.fixture(scope="module")
def cache_chain() -> tuple[StackRun, StackRun]:
    return run_chain(CUSTOMER_CACHE)


@pytest.fixture(scope="module")
def replication_chain() -> tuple[StackRun, StackRun]:
    return run_chain(CUSTOMER_REPLICATION)


def scanning(scan_type: str, frequency: str, names: tuple[str, ...]) -> dict[str, Any]:
    """A registry scanning configuration's inputs: one rule over `names`."""
    filters = [{"filter": name, "filterType": "WILDCARD"} for name in names]
    return {
        "scanType": scan_type,
        "rules": [{"scanFrequency": frequency, "repositoryFilters": filters}],
    }


def fails_at_preview_with(
    message: str, customer_overrides: Mapping[str, Any], **kwargs: Any
) -> None:
    """The chain's customer preview fails with `message` as the error's last line (the engine
    first names the resources the value was on the way to)."""
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        run_chain(customer_overrides, preview=True, **kwargs)
    discard_failed_run()


def digest(image_uri: str) -> str:
    return image_uri.rsplit("@", 1)[1]


def rake_image(run: StackRun) -> str:
    (rake,) = [c["image"] for c in container_definitions_of(run) if c["name"] == "rake-app"]
    return str(rake)


def rake_statements(run: StackRun) -> list[dict[str, Any]]:
    """The execution role's statements about rake-app, wherever it lives."""
    return [s for s in exec_policy(run)["Statement"] if "rake-app" in json.dumps(s["Resource"])]


def test_default_stacks_create_none_of_the_copy_resources() -> None:
    for stack in ("vendor", "customer"):
        assert {t for t, _ in run_stack(stack).registered()} & COPY_TYPES == set()


# ---- Vendor ---------------------------------------------------------------------------------


def test_vendor_grants_cache_accounts_exactly_what_aws_documents_for_an_upstream(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, _ = cache_chain
    policy = json.loads(only(vendor.resources, REPOSITORY_POLICY).inputs["policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{CUSTOMER_ACCOUNT}:root"]},
                "Action": PULL_AND_DESCRIBE_ACTIONS,
            },
            {
                "Sid": "PullThroughCacheUpstream",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{CUSTOMER_ACCOUNT}:root"]},
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:BatchImportUpstreamImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetImageCopyStatus",
                ],
            },
        ],
    }


def test_vendor_replicates_rake_app_to_the_customer_registry(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, _ = cache_chain
    assert only(vendor.resources, REPLICATION).inputs == {
        "replicationConfiguration": {
            "rules": [
                {
                    "destinations": [{"region": CUSTOMER_REGION, "registryId": CUSTOMER_ACCOUNT}],
                    "repositoryFilters": [{"filter": "rake-app", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    }


def test_vendor_enhanced_scanning_covers_its_repositories(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, _ = cache_chain
    assert only(vendor.resources, SCANNING).inputs == scanning(
        "ENHANCED", "CONTINUOUS_SCAN", ("rake-app",)
    )


def test_vendor_exports_who_may_copy_each_repository(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, _ = cache_chain
    assert {k: v for k, v in vendor.exports.items() if k.startswith("rake_app_")} == {
        "rake_app_repository_url": vendor.exports["rake_app_repository_url"],
        "rake_app_repository_arn": VENDOR_ARN,
        "rake_app_image_uri": vendor.exports["rake_app_image_uri"],
        "rake_app_pull_accounts": [CUSTOMER_ACCOUNT],
        "rake_app_cache_accounts": [CUSTOMER_ACCOUNT],
        "rake_app_replicate_to": [{"account": CUSTOMER_ACCOUNT, "region": CUSTOMER_REGION}],
    }


# ---- Customer: pull-through cache -----------------------------------------------------------


def test_cache_rule_reads_the_vendor_registry_with_its_own_role(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = cache_chain
    rule = only(customer.resources, CACHE_RULE)
    assert rule.inputs == {
        "ecrRepositoryPrefix": "vendor",
        "upstreamRegistryUrl": f"{VENDOR_ACCOUNT}.dkr.ecr.{VENDOR_REGION}.amazonaws.com",
        "upstreamRepositoryPrefix": "ROOT",
        "customRoleArn": f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/vendor-us-west-2-ecr-upstream",
    }
    template = only(customer.resources, TEMPLATE)
    assert (template.inputs["prefix"], template.inputs["appliedFors"]) == (
        "vendor",
        ["PULL_THROUGH_CACHE"],
    )


def test_cache_task_pulls_the_vendor_digest_from_the_customer_registry(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, customer = cache_chain
    vendor_digest = digest(vendor.exports["rake_app_image_uri"])
    assert rake_image(customer) == f"{REGISTRY}/vendor/rake-app@{vendor_digest}"


def test_cache_exec_role_pulls_and_imports_the_cached_repository_only(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = cache_chain
    assert rake_statements(customer) == [
        {
            "Sid": "PullVendorRakeApp",
            "Effect": "Allow",
            "Action": sorted(
                [*PULL_ACTIONS, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
            ),
            "Resource": [CACHED_ARN],
        }
    ]


def test_cache_registry_scans_own_and_cached_repositories_on_push(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = cache_chain
    assert only(customer.resources, SCANNING).inputs == scanning(
        "BASIC", "SCAN_ON_PUSH", ("nlp-client", "prose-app", "vendor/rake-app")
    )


def test_endpoints_are_in_the_private_subnets_and_the_service_waits_for_them(
    cache_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = cache_chain
    endpoints = all_of(customer.resources, ENDPOINT)
    assert sorted(e.inputs["serviceName"] for e in endpoints) == [
        f"com.amazonaws.{CUSTOMER_REGION}.{s}"
        for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
    ]
    assert {tuple(e.inputs["subnetIds"]) for e in endpoints} == {
        ("subnet-private-a", "subnet-private-b")
    }
    service = only(customer.resources, "aws:ecs/service:Service")
    assert {e.urn for e in endpoints} <= set(service.dependencies)
    vpc = only(customer.resources, VPC)
    assert {
        k: vpc.inputs[k] for k in ("natGateways", "enableDnsHostnames", "enableDnsSupport")
    } == {
        "natGateways": {"strategy": "Single"},
        "enableDnsHostnames": True,
        "enableDnsSupport": True,
    }
    assert (vpc.inputs["vpcEndpointStrategy"], vpc.inputs["vpcEndpointSpecs"]) == (
        "Auto",
        [{"serviceName": f"com.amazonaws.{CUSTOMER_REGION}.s3", "vpcEndpointType": "Gateway"}],
    )


def test_cache_rule_upstream_is_known_at_the_first_preview() -> None:
    _, customer = run_chain(CUSTOMER_CACHE, preview=True)
    rule = only(customer.resources, CACHE_RULE)
    assert rule.inputs["upstreamRegistryUrl"] == (
        f"{VENDOR_ACCOUNT}.dkr.ecr.{VENDOR_REGION}.amazonaws.com"
    )


def test_cache_fails_at_preview_when_the_vendor_does_not_let_the_customer_cache() -> None:
    message = (
        f"{VENDOR_STACK} does not let account {CUSTOMER_ACCOUNT} cache rake-app through a "
        "pull-through cache (it lets no account): the vendor adds it to "
        "`repositories.rake-app.cacheAccounts` and runs `pulumi up`."
    )
    fails_at_preview_with(message, CUSTOMER_CACHE, vendor_overrides={})


# ---- Customer: replication, no NAT ----------------------------------------------------------


def test_replication_registry_policy_admits_the_vendor_into_rake_app_only(
    replication_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = replication_chain
    assert json.loads(only(customer.resources, REGISTRY_POLICY).inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"ReplicateFrom{VENDOR_ACCOUNT}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": [REPLICA_ARN],
            }
        ],
    }
    template = only(customer.resources, TEMPLATE)
    assert (template.inputs["prefix"], template.inputs["appliedFors"]) == ("ROOT", ["REPLICATION"])


def test_replication_task_pulls_the_vendor_digest_from_its_replica(
    replication_chain: tuple[StackRun, StackRun],
) -> None:
    vendor, customer = replication_chain
    vendor_digest = digest(vendor.exports["rake_app_image_uri"])
    assert rake_image(customer) == f"{REGISTRY}/rake-app@{vendor_digest}"
    assert rake_statements(customer) == [
        {"Sid": "PullRakeApp", "Effect": "Allow", "Action": PULL_ACTIONS, "Resource": [REPLICA_ARN]}
    ]


def test_replication_runs_without_nat_and_scans_continuously(
    replication_chain: tuple[StackRun, StackRun],
) -> None:
    _, customer = replication_chain
    assert only(customer.resources, VPC).inputs["natGateways"] == {"strategy": "None"}
    assert only(customer.resources, SCANNING).inputs == scanning(
        "ENHANCED", "CONTINUOUS_SCAN", ("nlp-client", "prose-app", "rake-app")
    )


def test_replication_fails_at_preview_when_the_vendor_does_not_replicate_here() -> None:
    message = (
        f"{VENDOR_STACK} does not replicate rake-app to account {CUSTOMER_ACCOUNT} in "
        f"{CUSTOMER_REGION} (it replicates to no registry): the vendor adds {{account: "
        f"'{CUSTOMER_ACCOUNT}', region: {CUSTOMER_REGION}}} to "
        "`repositories.rake-app.replicateTo` and runs `pulumi up`."
    )
    fails_at_preview_with(message, CUSTOMER_REPLICATION, vendor_overrides={})


def test_replication_fails_at_preview_when_the_vendor_account_is_not_accepted() -> None:
    other = {**CUSTOMER_REPLICATION, "acceptReplicationFrom": ["444455556666"]}
    message = (
        f"`acceptReplicationFrom` does not admit {VENDOR_STACK}'s account {VENDOR_ACCOUNT}, "
        "which replicates rake-app here: add it to `acceptReplicationFrom` and run `pulumi up`."
    )
    fails_at_preview_with(message, other)


def test_cache_of_a_pinned_vendor_image_reads_no_stack() -> None:
    image = f"{VENDOR_ACCOUNT}.dkr.ecr.{VENDOR_REGION}.amazonaws.com/rake-app@sha256:{'cd' * 32}"
    pinned = {"vendorImage": image, "vendorRepositoryArn": VENDOR_ARN}
    run = run_stack("customer", overrides={**CUSTOMER_CACHE, **pinned}, remove=("vendorStack",))
    assert all_of(run.resources, "pulumi:pulumi:StackReference") == []
    assert rake_image(run) == f"{REGISTRY}/vendor/rake-app@sha256:{'cd' * 32}"
    assert only(run.resources, CACHE_RULE).inputs["upstreamRegistryUrl"] == (
        f"{VENDOR_ACCOUNT}.dkr.ecr.{VENDOR_REGION}.amazonaws.com"
    )
