"""AccessLogBucket: the S3 bucket an Application Load Balancer writes its access logs to.

What AWS requires and what this adds, per
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html:
- same Region as the load balancer (the stack's provider), encrypted with SSE-S3 (the only
  server-side encryption log delivery supports);
- a bucket policy that lets Elastic Load Balancing put objects, and only under
  `<prefix>/AWSLogs/<account>/`: the Region's Elastic Load Balancing account in Regions opened
  before August 2022, the `logdelivery.elasticloadbalancing.amazonaws.com` service principal in
  newer ones (`log_delivery_principal`);
- added here: every public access blocked, ACLs disabled (BucketOwnerEnforced: the account owns
  every object), a deny of any request without TLS, and expiry of the logs after N days.

`force_destroy` empties the bucket on `pulumi destroy` (the stack's `forceDelete`); without it
the provider refuses to delete a bucket that still holds logs (BucketNotEmpty).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, cast

import pulumi
import pulumi_aws as aws

from components.aws_values import ACCOUNT_ID, REGION
from components.config_errors import format_problem
from components.iam import PolicyDocument, policy_document

TYPE: Final = "ecr-cross-account:components:AccessLogBucket"

# Elastic Load Balancing's account per Region opened before August 2022 (the "Regions available
# before August 2022" table of the page above); any other Region uses the service principal.
ELB_ACCOUNT_BY_REGION: Final = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}
LOG_DELIVERY_SERVICE: Final = "logdelivery.elasticloadbalancing.amazonaws.com"
# The log key prefix: "AWSLogs" is what ELB appends itself, so the prefix must not contain it.
PREFIX: Final = re.compile(r"(?!.*AWSLogs)[A-Za-z0-9!_.*'()-]+(?:/[A-Za-z0-9!_.*'()-]+)*")
DEFAULT_PREFIX: Final = "alb"
DEFAULT_RETENTION_DAYS: Final = 90


def partition(region: str) -> str:
    """The ARN partition of a Region: aws, aws-us-gov or aws-cn."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws-cn" if region.startswith("cn-") else "aws"


def log_delivery_principal(region: str) -> dict[str, str]:
    """The principal AWS documents for ALB log delivery in `region`."""
    account = ELB_ACCOUNT_BY_REGION.get(region)
    if account is None:
        return {"Service": LOG_DELIVERY_SERVICE}
    return {"AWS": f"arn:{partition(region)}:iam::{account}:root"}


def access_log_bucket_policy(
    *, bucket: str, prefix: str, account_id: str, region: str
) -> PolicyDocument:
    """Log delivery may put objects under this account's log prefix; nobody may skip TLS."""
    bucket_arn = f"arn:{partition(region)}:s3:::{bucket}"
    return policy_document(
        [
            {
                "Sid": "AlbLogDelivery",
                "Effect": "Allow",
                "Principal": log_delivery_principal(region),
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*",
            },
            {
                # s3:*: every request, whatever it is, must come over TLS (a Deny narrows only).
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def lifecycle_rules(*, prefix: str, retention_days: int) -> list[dict[str, Any]]:
    """`BucketLifecycleConfiguration` rules: logs under the prefix expire after N days."""
    return [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {"prefix": f"{prefix}/"},
            "expiration": {"days": retention_days},
        }
    ]


@dataclass(frozen=True, kw_only=True)
class AccessLogBucketArgs:
    """Where the logs go and how long they stay."""

    # The stack's account and Region (the log path names the account; the Region picks the
    # principal and must be the load balancer's).
    account_id: str
    region: str
    # Default: logs under `alb/AWSLogs/<account>/...`; a bucket of its own needs no more.
    prefix: str = DEFAULT_PREFIX
    # Default: 90 days, long enough to investigate an incident noticed weeks later.
    retention_days: int = DEFAULT_RETENTION_DAYS
    # Default: `pulumi destroy` refuses to delete a bucket that still holds logs.
    force_destroy: bool = False


def _validate(args: AccessLogBucketArgs) -> None:
    problems = []
    if not ACCOUNT_ID.fullmatch(args.account_id):
        problems.append(
            format_problem(
                "AccessLogBucketArgs.account_id", "a 12-digit AWS account ID", args.account_id
            )
        )
    if not REGION.fullmatch(args.region):
        problems.append(format_problem("AccessLogBucketArgs.region", "an AWS Region", args.region))
    if not PREFIX.fullmatch(args.prefix):
        problems.append(
            format_problem(
                "AccessLogBucketArgs.prefix",
                "an S3 key prefix without AWSLogs or leading/trailing '/'",
                args.prefix,
            )
        )
    if args.retention_days < 1:
        problems.append(
            format_problem("AccessLogBucketArgs.retention_days", "at least 1", args.retention_days)
        )
    if problems:
        raise ValueError("\n".join(problems))


class AccessLogBucket(pulumi.ComponentResource):
    """A private, TLS-only, expiring bucket that only ALB log delivery may write to."""

    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    ownership: aws.s3.BucketOwnershipControls
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    lifecycle: aws.s3.BucketLifecycleConfiguration
    # The load balancer must depend on it: ELB checks that it may write when logging is enabled.
    policy: aws.s3.BucketPolicy
    bucket_name: pulumi.Output[str]
    prefix: str

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        _validate(args)
        child = pulumi.ResourceOptions(parent=self)
        self.prefix = args.prefix
        self.bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=args.force_destroy, opts=child)
        self.bucket_name = self.bucket.bucket
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(  # noqa: E501
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            # A plain dict of Pulumi's input names (exact JSON in tests/infra/test_access_logs.py).
            rules=cast(
                Any, lifecycle_rules(prefix=args.prefix, retention_days=args.retention_days)
            ),
            opts=child,
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.bucket.apply(
                lambda bucket: json.dumps(
                    access_log_bucket_policy(
                        bucket=bucket,
                        prefix=args.prefix,
                        account_id=args.account_id,
                        region=args.region,
                    )
                )
            ),
            # S3 answers OperationAborted to concurrent changes of one bucket's configuration;
            # the public access block comes first (a policy is checked against it).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.register_outputs({"bucket_name": self.bucket_name, "prefix": self.prefix})

    def access_logs(self) -> aws.lb.LoadBalancerAccessLogsArgs:
        """The load balancer's `access_logs` (enabled: the provider's default is off)."""
        return aws.lb.LoadBalancerAccessLogsArgs(
            bucket=self.bucket_name, prefix=self.prefix, enabled=True
        )
