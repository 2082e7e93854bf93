"""The pure builders of components/mirror.py, as exact JSON."""

from __future__ import annotations

import pytest

from components.mirror import (
    CacheSpec,
    Destination,
    Upstream,
    registry_scanning_rules,
    replication_acceptance_policy,
    replication_rule,
    upstream_grant_statement,
    upstream_read_policy,
    upstream_read_trust_policy,
)
from tests.infra.harness import LOGIN_STATEMENT

VENDOR_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/rake-app"
CACHED_ARN = "arn:aws:ecr:us-west-2:999988887777:repository/vendor/rake-app"
DIGEST = "sha256:" + "ab" * 32
CACHE = CacheSpec(
    upstream=Upstream.from_arn(VENDOR_ARN),
    prefix="vendor",
    account="999988887777",
    region="us-west-2",
)


def test_upstream_from_arn_names_the_vendor_registry() -> None:
    upstream = Upstream.from_arn(VENDOR_ARN)
    assert upstream.registry_url == "111122223333.dkr.ecr.us-east-2.amazonaws.com"
    assert upstream.repository_arn == VENDOR_ARN


def test_upstream_in_the_china_partition_uses_its_host_suffix() -> None:
    upstream = Upstream.from_arn("arn:aws-cn:ecr:cn-north-1:111122223333:repository/rake-app")
    assert upstream.registry_url == "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn"


def test_upstream_from_arn_rejects_a_non_ecr_arn() -> None:
    with pytest.raises(ValueError) as exc_info:
        Upstream.from_arn("arn:aws:s3:::bucket")
    assert str(exc_info.value) == (
        "Upstream.from_arn(arn): expected an ECR repository ARN, got 'arn:aws:s3:::bucket'."
    )


def test_cache_spec_names_the_cached_repository_role_and_image() -> None:
    assert CACHE.repository_name == "vendor/rake-app"
    assert CACHE.repository_arn == CACHED_ARN
    assert CACHE.role_name == "vendor-us-west-2-ecr-upstream"
    vendor_image = f"111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app@{DIGEST}"
    assert CACHE.image_uri(vendor_image) == (
        f"999988887777.dkr.ecr.us-west-2.amazonaws.com/vendor/rake-app@{DIGEST}"
    )


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app:2.0.0", id="by-tag"),
        pytest.param(
            f"111122223333.dkr.ecr.us-east-2.amazonaws.com/prose-app@{DIGEST}", id="other"
        ),
    ],
)
def test_cache_spec_image_uri_needs_the_upstream_image_by_digest(image: str) -> None:
    with pytest.raises(ValueError) as exc_info:
        CACHE.image_uri(image)
    assert str(exc_info.value) == (
        f"CacheSpec.image_uri: expected an image of {VENDOR_ARN} pinned by digest, got {image!r}."
    )


def test_cache_spec_lists_every_bad_location_value() -> None:
    with pytest.raises(ValueError) as exc_info:
        CacheSpec(upstream=CACHE.upstream, prefix="V", account="123", region="west")
    assert str(exc_info.value).splitlines() == [
        "CacheSpec.prefix: expected 2 to 30 characters of repository-name segments, got 'V'.",
        "CacheSpec.account_id: expected a 12-digit AWS account ID, got '123'.",
        "CacheSpec.region: expected an AWS region, got 'west'.",
    ]


def test_cache_prefix_may_be_nested_but_not_longer_than_30() -> None:
    nested = CacheSpec(
        upstream=CACHE.upstream, prefix="vendors/acme", account=CACHE.account, region=CACHE.region
    )
    assert nested.role_name == "vendors-acme-us-west-2-ecr-upstream"
    with pytest.raises(ValueError):
        CacheSpec(
            upstream=CACHE.upstream, prefix="v" * 31, account=CACHE.account, region=CACHE.region
        )


def test_upstream_read_trust_policy_is_the_pull_through_cache_service() -> None:
    assert upstream_read_trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pullthroughcache.ecr.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def test_upstream_read_policy_reads_only_the_vendor_repository_and_fills_only_the_cache() -> None:
    assert upstream_read_policy(CACHE) == {
        "Version": "2012-10-17",
        "Statement": [
            LOGIN_STATEMENT,
            {
                "Sid": "ReadUpstream",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:BatchImportUpstreamImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetImageCopyStatus",
                ],
                "Resource": [VENDOR_ARN],
            },
            {
                "Sid": "FillCache",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchImportUpstreamImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:GetImageCopyStatus",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                "Resource": [CACHED_ARN],
            },
        ],
    }


def test_upstream_grant_statement_is_the_documented_upstream_resource_policy() -> None:
    assert upstream_grant_statement(["999988887777", "444455556666", "999988887777"]) == {
        "Sid": "PullThroughCacheUpstream",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::999988887777:root"]},
        "Action": [
            "ecr:BatchGetImage",
            "ecr:BatchImportUpstreamImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:GetImageCopyStatus",
        ],
    }


def test_replication_acceptance_policy_admits_each_source_into_the_named_repository() -> None:
    arn = "arn:aws:ecr:us-west-2:999988887777:repository/rake-app"
    policy = replication_acceptance_policy(
        source_accounts=["444455556666", "111122223333"], repository_arns=[arn]
    )
    statement = {
        "Effect": "Allow",
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": [arn],
    }
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReplicateFrom111122223333",
                **statement,
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            },
            {
                "Sid": "ReplicateFrom444455556666",
                **statement,
                "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            },
        ],
    }


def test_replication_rule_filters_one_repository_to_its_destinations() -> None:
    rule = replication_rule(
        "rake-app",
        [
            Destination(account="999988887777", region="us-west-2"),
            Destination(account="444455556666", region="eu-west-1"),
        ],
    )
    assert rule == {
        "destinations": [
            {"region": "us-west-2", "registryId": "999988887777"},
            {"region": "eu-west-1", "registryId": "444455556666"},
        ],
        "repositoryFilters": [{"filter": "rake-app", "filterType": "PREFIX_MATCH"}],
    }


@pytest.mark.parametrize(
    ("enhanced", "frequency"), [(False, "SCAN_ON_PUSH"), (True, "CONTINUOUS_SCAN")]
)
def test_registry_scanning_rules_scan_the_named_repositories(
    enhanced: bool, frequency: str
) -> None:
    assert registry_scanning_rules(["vendor/*", "nlp-client", "vendor/*"], enhanced=enhanced) == [
        {
            "scanFrequency": frequency,
            "repositoryFilters": [
                {"filter": "nlp-client", "filterType": "WILDCARD"},
                {"filter": "vendor/*", "filterType": "WILDCARD"},
            ],
        }
    ]
