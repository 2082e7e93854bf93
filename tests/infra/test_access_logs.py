"""AccessLogBucket: the bucket policy per Region, the lifecycle, and the component under mocks."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.access_logs import (
    AccessLogBucket,
    AccessLogBucketArgs,
    access_log_bucket_policy,
    lifecycle_rules,
    log_delivery_principal,
)
from tests.infra.harness import StackRun, named, only, run_program

ACCOUNT = "999988887777"
BUCKET_ARN = "arn:aws:s3:::logs-bucket"
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_bucket_policy_in_an_older_region_admits_that_regions_elb_account_under_the_prefix() -> (
    None
):
    assert access_log_bucket_policy(
        bucket="logs-bucket", prefix="alb", account_id=ACCOUNT, region="us-west-2"
    ) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AlbLogDelivery",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::797873946194:root"},
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET_ARN}/alb/AWSLogs/{ACCOUNT}/*",
            },
            TLS_ONLY,
        ],
    }


@pytest.mark.parametrize(
    ("region", "principal"),
    [
        pytest.param("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}, id="us-east-1"),
        pytest.param("eu-central-1", {"AWS": "arn:aws:iam::054676820928:root"}, id="frankfurt"),
        pytest.param(
            "us-gov-west-1", {"AWS": "arn:aws-us-gov:iam::048591011584:root"}, id="govcloud"
        ),
        pytest.param("cn-north-1", {"AWS": "arn:aws-cn:iam::638102146993:root"}, id="beijing"),
        # Opened after August 2022: the log delivery service principal.
        pytest.param(
            "me-central-1",
            {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            id="uae",
        ),
        pytest.param(
            "ap-southeast-4",
            {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            id="melbourne",
        ),
    ],
)
def test_log_delivery_principal_is_the_one_aws_documents_for_the_region(
    region: str, principal: dict[str, str]
) -> None:
    assert log_delivery_principal(region) == principal


def test_lifecycle_expires_only_the_log_prefix_after_the_retention() -> None:
    assert lifecycle_rules(prefix="alb", retention_days=30) == [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {"prefix": "alb/"},
            "expiration": {"days": 30},
        }
    ]


def run_bucket(**changes: Any) -> StackRun:
    def program() -> None:
        values: dict[str, Any] = {"account_id": ACCOUNT, "region": "us-west-2", **changes}
        logs = AccessLogBucket("app-access-logs", AccessLogBucketArgs(**values))
        # How FargateApp's load balancer uses it.
        aws.lb.LoadBalancer(
            "app-alb",
            access_logs=logs.access_logs(),
            opts=pulumi.ResourceOptions(depends_on=[logs.policy]),
        )

    return run_program(program)


def test_access_log_bucket_is_private_owner_enforced_sse_s3_and_expiring() -> None:
    run = run_bucket()
    bucket_id = "app-access-logs-bucket-id"

    def inputs(type_token: str, role: str) -> dict[str, Any]:
        return named(run.resources, type_token, f"app-access-logs-{role}").inputs

    assert inputs("aws:s3/bucket:Bucket", "bucket") == {"forceDestroy": False}
    assert inputs("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access") == {
        "bucket": bucket_id,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert inputs("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership") == {
        "bucket": bucket_id,
        "rule": {"objectOwnership": "BucketOwnerEnforced"},
    }
    assert inputs(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "encryption",
    ) == {
        "bucket": bucket_id,
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
    }
    assert inputs(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle"
    ) == {
        "bucket": bucket_id,
        "rules": [
            {
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": "alb/"},
                "expiration": {"days": 90},
            }
        ],
    }
    policy = inputs("aws:s3/bucketPolicy:BucketPolicy", "policy")
    assert policy["bucket"] == bucket_id
    # The policy names the bucket the provider created (its `bucket` output).
    assert json.loads(policy["policy"]) == access_log_bucket_policy(
        bucket="app-access-logs-bucket", prefix="alb", account_id=ACCOUNT, region="us-west-2"
    )
    public_access = named(
        run.resources,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "app-access-logs-public-access",
    )
    assert (
        public_access.urn
        in named(
            run.resources, "aws:s3/bucketPolicy:BucketPolicy", "app-access-logs-policy"
        ).dependencies
    )
    alb = only(run.resources, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs == {
        "accessLogs": {"bucket": "app-access-logs-bucket", "prefix": "alb", "enabled": True}
    }


def test_access_log_bucket_children_are_parented_to_the_component() -> None:
    run = run_bucket()
    component = only(run.resources, "ecr-cross-account:components:AccessLogBucket")
    assert sorted(r.name for r in run.resources if r.parent == component.urn) == [
        "app-access-logs-bucket",
        "app-access-logs-encryption",
        "app-access-logs-lifecycle",
        "app-access-logs-ownership",
        "app-access-logs-policy",
        "app-access-logs-public-access",
    ]


def test_access_log_bucket_force_destroy_retention_and_prefix_come_from_args() -> None:
    run = run_bucket(force_destroy=True, retention_days=7, prefix="edge/alb")
    assert only(run.resources, "aws:s3/bucket:Bucket").inputs == {"forceDestroy": True}
    lifecycle = only(
        run.resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 7}
    assert lifecycle.inputs["rules"][0]["filter"] == {"prefix": "edge/alb/"}
    policy = json.loads(only(run.resources, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == (
        f"arn:aws:s3:::app-access-logs-bucket/edge/alb/AWSLogs/{ACCOUNT}/*"
    )


def test_access_log_bucket_rejects_bad_args_listing_every_problem() -> None:
    with pytest.raises(ValueError) as exc_info:
        run_bucket(account_id="123", region="mars", prefix="logs/AWSLogs", retention_days=0)
    assert str(exc_info.value).splitlines() == [
        "AccessLogBucketArgs.account_id: expected a 12-digit AWS account ID, got '123'.",
        "AccessLogBucketArgs.region: expected an AWS Region, got 'mars'.",
        "AccessLogBucketArgs.prefix: expected an S3 key prefix without AWSLogs or "
        "leading/trailing '/', got 'logs/AWSLogs'.",
        "AccessLogBucketArgs.retention_days: expected at least 1, got 0.",
    ]


@pytest.mark.parametrize("prefix", ["/alb", "alb/", "a//b", ""])
def test_access_log_bucket_rejects_prefixes_with_stray_slashes(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"^AccessLogBucketArgs\.prefix: "):
        run_bucket(prefix=prefix)
