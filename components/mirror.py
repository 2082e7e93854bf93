"""Pure builders for an in-region copy of the vendor's image: pull-through cache and replication.

Plain values in, plain dicts out (like components/iam.py); components/registry_mirror.py adds the
resources. What AWS documents, and where this module narrows it:

Pull-through cache with an ECR upstream in another account (2025)
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-private.html
  - The rule names a role ECR assumes (`customRoleArn`); its trust principal is the service
    `pullthroughcache.ecr.amazonaws.com` with `sts:AssumeRole` and no condition.
  - AWS's example role policy allows GetDownloadUrlForLayer, GetAuthorizationToken,
    BatchImportUpstreamImage, BatchGetImage, GetImageCopyStatus, InitiateLayerUpload,
    UploadLayerPart, CompleteLayerUpload and PutImage on Resource "*". We keep every action and
    narrow the resources: the reads the upstream grants (below) on the vendor's repository ARN
    only, the import and layer writes on the cached repository ARN only, and the registry login
    (no resource-level permissions) on "*".
  - The upstream owner must grant the cache's account root, in a registry or repository policy,
    exactly `UPSTREAM_GRANT_ACTIONS` (BatchGetImage, GetDownloadUrlForLayer,
    BatchImportUpstreamImage, GetImageCopyStatus). That is more than the vendor's pull grant
    (components/iam.py `repository_pull_policy`): the vendor stack must add
    `upstream_grant_statement` to its repository policy for cache consumers.
  - Names: with `ecrRepositoryPrefix` P and the default upstream prefix ROOT, the cached copy of
    the vendor's `rake-app` is `P/rake-app` in the customer's registry.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-private-wildcards.html
  - A first pull through the cache needs, on the puller's identity, ecr:BatchImportUpstreamImage
    and (the cached repository does not exist yet) ecr:CreateRepository, both resource-level on the
    cached repository ARN; ecr:TagResource only if the creation template adds resource tags (ours
    adds none). https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
  - The provider (internal/service/ecr/pull_through_cache_rule.go) replaces the rule when
    `ecrRepositoryPrefix`, `upstreamRegistryUrl` or `upstreamRepositoryPrefix` change, updates
    `customRoleArn` in place, and its delete removes the rule only: repositories already cached
    stay (and keep serving pulls) until deleted by hand. Its ID is the prefix, and ECR refuses a
    second rule for one prefix, so a replacement deletes the old rule first. It reads
    `upstreamRepositoryPrefix` back (ECR stores ROOT when none is given) without computing it, so
    the rule always says ROOT, or the next `up` would replace it.

Repository creation templates (settings of the repositories ECR creates for a cache or replica)
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
  - Their lifecycle policy is not SharedRepo's (`mirror_lifecycle_policy`): an image pulled by
    digest through a cache is stored untagged, and the rule that expires untagged images after a
    day would evict the very image the task pins. They keep the newest N images, tagged or not.
  - A template with a customer managed KMS key (or resource tags) needs a custom role for ECR;
    templates here use AES256, so none is needed (see `TEMPLATE_ENCRYPTION`).
  - A template has no scanning setting: scan on push for created repositories comes from the
    registry's scanning configuration (`registry_scanning_rules`).
  - The provider's `imageTagMutability` defaults to MUTABLE, so it is always set; `prefix` forces
    replacement; delete removes the template only (repositories already created keep settings).

Private registry replication and cross-account registry permissions
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-examples.html
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions.html
  - The destination's registry policy admits the source account root with ecr:CreateRepository
    and ecr:ReplicateImage; AWS's examples use `repository/*` or a prefix, we name the one
    repository. Registry policies accept only ReplicateImage, BatchImportUpstreamImage and
    CreateRepository (anything else is rejected).
  - Replication filters are PREFIX_MATCH only: a filter `rake-app` also replicates
    `rake-app-beta`; the destination's policy, which names the exact repository, stops those.
  - Provider (replication_configuration.go, registry_policy.go): both are one per registry and
    region; the replication configuration's delete puts an empty rule list (every rule of the
    registry goes, not only ours), the registry policy's delete removes the whole policy.

Enhanced scanning
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-enabling.html
  - Configured per registry and Region; a filter without `*` matches every repository whose name
    contains it. Provider (registry_scanning_configuration.go): one per registry; delete resets the
    registry to BASIC with no rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from components.aws_values import ACCOUNT_ID, ECR_IMAGE_BY_DIGEST, ECR_REPOSITORY_ARN, REGION
from components.config_errors import format_problem
from components.iam import (
    PULL_ACTIONS,
    PolicyDocument,
    PolicyStatement,
    account_root,
    allow,
    auth_token_statement,
    policy_document,
)

# The service principal of ECR's pull-through cache (pull-through-cache-private.html).
PULL_THROUGH_CACHE_SERVICE: Final = "pullthroughcache.ecr.amazonaws.com"
# What the upstream (vendor) grants the cache's account, and so what the role may do upstream.
UPSTREAM_GRANT_ACTIONS: Final = (
    "ecr:BatchGetImage",
    "ecr:BatchImportUpstreamImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetImageCopyStatus",
)
# The rest of AWS's example role policy: importing into, and writing layers of, the cache.
CACHE_WRITE_ACTIONS: Final = (
    "ecr:BatchImportUpstreamImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetImageCopyStatus",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# A puller's first pull through the cache (pull-through-cache-iam.html).
FIRST_PULL_ACTIONS: Final = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
# Everything the execution role does with the cached repository: pull, and import on a miss.
CACHE_PULL_ACTIONS: Final = (*PULL_ACTIONS, *FIRST_PULL_ACTIONS)
# What a destination registry admits from a replication source (registry-permissions-examples).
REPLICATION_ACCEPT_ACTIONS: Final = ("ecr:CreateRepository", "ecr:ReplicateImage")
# Settings of every repository ECR creates for us; the same as SharedRepo's own repositories.
TEMPLATE_TAG_MUTABILITY: Final = "IMMUTABLE"
TEMPLATE_ENCRYPTION: Final = "AES256"
# The provider's and the API's limits on a cache rule's `ecrRepositoryPrefix`.
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html
CACHE_PREFIX: Final = re.compile(
    r"(?=.{2,30}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
)
# ECR repository name filters of a replication rule: only this type exists.
REPLICATION_FILTER_TYPE: Final = "PREFIX_MATCH"

# Where a customer's tasks pull the vendor's image from (config `vendorMirror`): the vendor's
# registry (the default), a pull-through cache, or a replica, both in the customer's registry.
MIRROR_NONE: Final = "none"
MIRROR_CACHE: Final = "pullThroughCache"
MIRROR_REPLICATION: Final = "replication"
VENDOR_MIRRORS: Final = (MIRROR_NONE, MIRROR_CACHE, MIRROR_REPLICATION)
# The default name prefix of cached repositories (`vendorMirrorPrefix`): `vendor/rake-app`.
DEFAULT_CACHE_PREFIX: Final = "vendor"
# A registry's scanning (config `scanning`): basic (the default) or Amazon Inspector's enhanced.
SCANNING_BASIC: Final = "basic"
SCANNING_ENHANCED: Final = "enhanced"
SCANNING_TYPES: Final = (SCANNING_BASIC, SCANNING_ENHANCED)


def _partition_suffix(partition: str) -> str:
    # Registry hosts end in .amazonaws.com, or .amazonaws.com.cn in the China partition.
    return ".amazonaws.com.cn" if partition == "aws-cn" else ".amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class Upstream:
    """The vendor's repository a cache reads.

    From `arn:<partition>:ecr:<region>:<account>:repository/<name>`.
    """

    partition: str
    account: str
    region: str
    repository: str

    @classmethod
    def from_arn(cls, arn: str) -> Upstream:
        """Parse an ECR repository ARN; a clear ValueError for anything else."""
        match = ECR_REPOSITORY_ARN.fullmatch(arn)
        if not match:
            raise ValueError(format_problem("Upstream.from_arn(arn)", "an ECR repository ARN", arn))
        return cls(
            partition=arn.split(":", 2)[1],
            account=match["account"],
            region=match["region"],
            repository=match["name"],
        )

    @property
    def registry_url(self) -> str:
        """The rule's `upstreamRegistryUrl`: `<account>.dkr.ecr.<region>.amazonaws.com`."""
        return f"{self.account}.dkr.ecr.{self.region}{_partition_suffix(self.partition)}"

    @property
    def repository_arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def cache_location_problems(owner: str, prefix: str, account: str, region: str) -> list[str]:
    """What is wrong with a cache's prefix, account and region, one line each."""
    checks = [
        ("prefix", CACHE_PREFIX, "2 to 30 characters of repository-name segments", prefix),
        ("account_id", ACCOUNT_ID, "a 12-digit AWS account ID", account),
        ("region", REGION, "an AWS region", region),
    ]
    return [
        format_problem(f"{owner}.{key}", expected, value)
        for key, pattern, expected, value in checks
        if not pattern.fullmatch(value)
    ]


def upstream_role_name(prefix: str, region: str) -> str:
    """The upstream-read role's name: one cache rule per prefix and registry, so one role each.

    An explicit name (not an auto-name) lets the policy pack relate the role's RolePolicy to the
    role at preview, when a new role's ID is still unknown. At most 30 + 14 + 13 characters.
    """
    return f"{prefix.replace('/', '-')}-{region}-ecr-upstream"


@dataclass(frozen=True, kw_only=True)
class CacheSpec:
    """Where a pull-through cache keeps its copy of `upstream` in the customer's registry."""

    upstream: Upstream
    # The rule's `ecrRepositoryPrefix` (ECR always reads it with a trailing `/`).
    prefix: str
    # The customer's account and region: the cache's registry.
    account: str
    region: str

    def __post_init__(self) -> None:
        problems = cache_location_problems("CacheSpec", self.prefix, self.account, self.region)
        if problems:
            raise ValueError("\n".join(problems))

    @property
    def repository_name(self) -> str:
        """`<prefix>/<upstream name>`: the name ECR gives the cached repository."""
        return f"{self.prefix}/{self.upstream.repository}"

    @property
    def repository_arn(self) -> str:
        partition = self.upstream.partition
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository_name}"

    @property
    def registry(self) -> str:
        suffix = _partition_suffix(self.upstream.partition)
        return f"{self.account}.dkr.ecr.{self.region}{suffix}"

    @property
    def role_name(self) -> str:
        return upstream_role_name(self.prefix, self.region)

    def image_uri(self, vendor_image_uri: str) -> str:
        """The vendor's digest-pinned image, pulled through the cache.

        `111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app@sha256:ab..` with prefix `vendor`
        -> `999988887777.dkr.ecr.us-west-2.amazonaws.com/vendor/rake-app@sha256:ab..`.
        """
        match = ECR_IMAGE_BY_DIGEST.fullmatch(vendor_image_uri)
        if not match or match["name"] != self.upstream.repository:
            expected = f"an image of {self.upstream.repository_arn} pinned by digest"
            raise ValueError(format_problem("CacheSpec.image_uri", expected, vendor_image_uri))
        digest = vendor_image_uri.rsplit("@", 1)[1]
        return f"{self.registry}/{self.repository_name}@{digest}"


def upstream_read_trust_policy() -> PolicyDocument:
    """The role's trust policy, as AWS documents it: the pull-through cache service only."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": PULL_THROUGH_CACHE_SERVICE},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def upstream_read_policy(cache: CacheSpec) -> PolicyDocument:
    """The role's permissions: read the vendor's repository, fill the cached one, log in."""
    return policy_document(
        [
            auth_token_statement(),
            allow(UPSTREAM_GRANT_ACTIONS, [cache.upstream.repository_arn], sid="ReadUpstream"),
            allow(CACHE_WRITE_ACTIONS, [cache.repository_arn], sid="FillCache"),
        ]
    )


def upstream_grant_statement(cache_accounts: Sequence[str]) -> PolicyStatement:
    """The statement the vendor adds to its repository policy for accounts that cache it.

    A repository policy statement: no Resource (the repository is the resource).
    """
    return {
        "Sid": "PullThroughCacheUpstream",
        "Effect": "Allow",
        "Principal": {"AWS": sorted({account_root(a) for a in cache_accounts})},
        "Action": sorted(UPSTREAM_GRANT_ACTIONS),
    }


def replication_acceptance_policy(
    *, source_accounts: Sequence[str], repository_arns: Sequence[str]
) -> PolicyDocument:
    """The destination's registry policy: each source account may replicate into these names only.

    `replication_acceptance_policy(source_accounts=["111122223333"], repository_arns=[arn])` ->
    one statement `ReplicateFrom111122223333` allowing ecr:CreateRepository and
    ecr:ReplicateImage to `arn:aws:iam::111122223333:root` on `[arn]`.
    """
    return policy_document(
        {
            "Sid": f"ReplicateFrom{account}",
            "Effect": "Allow",
            "Principal": {"AWS": account_root(account)},
            "Action": sorted(REPLICATION_ACCEPT_ACTIONS),
            "Resource": sorted(set(repository_arns)),
        }
        for account in sorted(set(source_accounts))
    )


@dataclass(frozen=True, kw_only=True)
class Destination:
    """One registry a repository replicates to."""

    account: str
    region: str


def replication_rule(repository: str, destinations: Sequence[Destination]) -> dict[str, Any]:
    """One rule of the source's replication configuration (`PutReplicationConfiguration` shape)."""
    return {
        "destinations": [{"region": d.region, "registryId": d.account} for d in destinations],
        "repositoryFilters": [{"filter": repository, "filterType": REPLICATION_FILTER_TYPE}],
    }


def registry_scanning_rules(
    repository_filters: Sequence[str], *, enhanced: bool
) -> list[dict[str, Any]]:
    """The registry's scanning rules (`PutRegistryScanningConfiguration` shape).

    Basic scanning scans these repositories on push; enhanced scanning scans them continuously.
    """
    return [
        {
            "scanFrequency": "CONTINUOUS_SCAN" if enhanced else "SCAN_ON_PUSH",
            "repositoryFilters": [
                {"filter": name, "filterType": "WILDCARD"}
                for name in sorted(set(repository_filters))
            ],
        }
    ]


def mirror_lifecycle_policy(*, keep_images: int) -> PolicyDocument:
    """The lifecycle policy of the repositories a cache or replication creates: the newest
    `keep_images` images stay, tagged or not.

    One rule of `tagStatus: any` (so it is the only rule). An image pulled through a cache by
    digest is stored untagged: SharedRepo's "untagged after one day" rule would expire the image
    the task pins, and the next task start would import it again (or fail, once the vendor's
    copy is gone). https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
    """
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Keep the newest {keep_images} images, tagged or not (an image "
                "pulled through a cache by digest has no tag).",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_images,
                },
                "action": {"type": "expire"},
            }
        ]
    }
