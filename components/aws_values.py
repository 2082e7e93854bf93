"""Shapes of the AWS values the stack config names: IDs, ARNs, names, sizes.

Each pattern or table has the AWS reference it comes from; `components.settings` validates config
with them, and the components re-check values that reach them from elsewhere (a StackReference).
The policy pack (policy/rules.py) reads the values it shares with the components from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

ACCOUNT_ID = re.compile(r"\d{12}")
# Commercial, GovCloud, China and ISO partitions: us-east-2, us-gov-west-1, cn-north-1, ...
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
# https://docs.docker.com/reference/cli/docker/image/tag/ (at most 128 characters); `imageTag` is
# a prefix: the tag pushed appends "-<12 hex>" (components/image_inputs.py), so 115 at most here.
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,114}")
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html (and CreateGroup)
IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}")
IAM_GROUP_NAME = re.compile(r"[\w+=,.@-]{1,128}")
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
# The key the provider encrypts a generated password or secret key to before storing it: a
# base64 PGP public key on one line (`gpg --export <id> | base64 -w0`), or `keybase:<user>`.
# https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_user_login_profile
PGP_KEY = re.compile(r"keybase:[A-Za-z0-9_-]{1,64}|[A-Za-z0-9+/]{64,}={0,2}")
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[\w-]+")
ECR_REPOSITORY_ARN = re.compile(
    r"arn:aws[a-z-]*:ecr:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):repository/(?P<name>\S+)"
)
# How ECR uses a repository's KMS key: its own grants, never the puller's permissions.
ECR_ENCRYPTION_URL: Final = (
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html"
)
# An ECR image pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<name>@sha256:<64 hex>.
ECR_IMAGE_BY_DIGEST = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<name>[a-z0-9._/-]+)@sha256:[0-9a-f]{64}"
)
# https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (Name: up to 256 of [\w-],
# FIFO topics end in `.fifo`, which alarms cannot notify).
SNS_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):\d{12}:[\w-]{1,256}")
# A fully qualified name without the trailing dot, lowercase: labels of 1-63 letters, digits and
# hyphens. https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
DOMAIN_NAME = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
)
# A Route 53 hosted zone ID without the "/hostedzone/" prefix.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_HostedZone.html
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
# A stack name, optionally fully qualified as <org>/<project>/<stack>.
STACK_NAME = re.compile(r"[\w.-]+(?:/[\w.-]+){0,2}")
CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Valid Fargate task sizes: CPU units -> allowed memory (MiB).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_SIZES_URL: Final = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "fargate-tasks-services.html#fargate-tasks-size"
)
FARGATE_MEMORY_BY_CPU: Final[Mapping[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
# The tag that marks the load balancer's security group rules that open it to the internet: the
# policy pack (policy/rules.py) allows 0.0.0.0/0 and ::/0 only on rules that carry it.
PUBLIC_INGRESS_TAG: Final = ("network-exposure", "internet-facing-load-balancer")
# awsx NatGatewayStrategy values that give the private subnets a route out. Its third, `None`,
# is accepted only with VPC endpoints and an image in the stack's region (settings_rules): without
# them tasks in private subnets would never reach ECR, so they would never start.
NAT_GATEWAY_STRATEGIES: Final = ("Single", "OnePerAz")
NAT_LESS_STRATEGY: Final = "None"
# What AWS says of VPC endpoints for ECR: one region each, and a first pull through a cache rule
# over them needs a NAT gateway ("Considerations").
ECR_VPC_ENDPOINTS_URL: Final = (
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html"
)
