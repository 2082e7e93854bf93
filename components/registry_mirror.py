"""The vendor's image in the customer's own registry and region, and the registry settings for it.

- `PullThroughCache` (customer): a cache rule whose upstream is the vendor's registry, the role
  ECR assumes to read it, and a creation template for the cached repositories.
- `ReplicationAcceptance` (customer): the registry policy admitting the vendor's replication into
  named repositories, and a creation template for the replicas.
- `VendorReplication` (vendor): the registry's replication configuration, one rule a repository.
- `RegistryScanning` (either): the registry's scanning configuration.

Each yields what the app needs as a `components.vendor.VendorImage` (the in-region image URI and
the repository the execution role pulls from), so a container switches source without changes to
FargateApp. The documents are components/mirror.py's; why each is shaped so is written there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

from components.aws_values import ACCOUNT_ID, REGION, REPOSITORY_NAME
from components.config_errors import format_problem
from components.iam import PolicyStatement
from components.mirror import (
    CACHE_PULL_ACTIONS,
    TEMPLATE_ENCRYPTION,
    TEMPLATE_TAG_MUTABILITY,
    CacheSpec,
    Destination,
    Upstream,
    cache_location_problems,
    mirror_lifecycle_policy,
    registry_scanning_rules,
    replication_acceptance_policy,
    replication_rule,
    upstream_read_policy,
    upstream_read_trust_policy,
    upstream_role_name,
)
from components.shared_repo import RepoRef
from components.vendor import VendorImage

CACHE_TYPE: Final = "ecr-cross-account:components:PullThroughCache"
ACCEPTANCE_TYPE: Final = "ecr-cross-account:components:ReplicationAcceptance"
REPLICATION_TYPE: Final = "ecr-cross-account:components:VendorReplication"
SCANNING_TYPE: Final = "ecr-cross-account:components:RegistryScanning"

# A template with this prefix applies to every repository no other template's prefix matches.
# Replicas keep the source's name (`rake-app`, no namespace), so only ROOT reaches them.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
ROOT_PREFIX: Final = "ROOT"
# A cache rule's upstream prefix: ROOT maps `<prefix>/rake-app` to the upstream's `rake-app`.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-private-wildcards.html
UPSTREAM_ROOT_PREFIX: Final = "ROOT"
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutReplicationConfiguration.html
MAX_REPLICATION_RULES: Final = 10
MAX_DESTINATIONS: Final = 25


def _creation_template(
    name: str,
    *,
    prefix: str,
    applied_for: str,
    description: str,
    keep_images: int,
    parent: pulumi.Resource,
) -> aws.ecr.RepositoryCreationTemplate:
    """Repositories ECR creates get SharedRepo's settings (immutable tags, AES256) and a lifecycle
    that keeps the newest images whatever their tag (`mirror_lifecycle_policy`)."""
    return aws.ecr.RepositoryCreationTemplate(
        name,
        prefix=prefix,
        applied_fors=[applied_for],
        description=description,
        # The provider defaults to MUTABLE: always say it.
        image_tag_mutability=TEMPLATE_TAG_MUTABILITY,
        encryption_configurations=[
            aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                encryption_type=TEMPLATE_ENCRYPTION
            )
        ],
        lifecycle_policy=json.dumps(mirror_lifecycle_policy(keep_images=keep_images)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _raise(problems: list[str]) -> None:
    if problems:
        raise ValueError("\n".join(problems))


@dataclass(frozen=True, kw_only=True)
class CachedRepoRef(RepoRef):
    """The cached copy of the vendor's repository: a first pull also imports it into the cache."""

    def grant_pull(self) -> pulumi.Output[list[PolicyStatement]]:
        """Login, plus pull and first-pull import on the cached repository ARN only."""
        return self._grant("Pull", CACHE_PULL_ACTIONS)


@dataclass(frozen=True, kw_only=True)
class PullThroughCacheArgs:
    """The vendor's repository and image, and where the customer caches them."""

    # The vendor's repository (`vendorRepositoryArn`, or the vendor stack's output).
    upstream_repository_arn: pulumi.Input[str]
    # The vendor's image pinned by digest, in the vendor's registry.
    vendor_image_uri: pulumi.Input[str]
    # The customer's account and region: the cache's registry.
    account_id: str
    region: str
    # The cached repositories keep this many images, tagged or not.
    keep_images: int
    # Default: cached repositories are named `vendor/<vendor repository>`.
    prefix: str = "vendor"


class PullThroughCache(pulumi.ComponentResource):
    """A pull-through cache of one vendor repository, read with exactly the upstream's grant."""

    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    template: aws.ecr.RepositoryCreationTemplate
    rule: aws.ecr.PullThroughCacheRule
    # <customer registry>/<prefix>/<vendor repository>@sha256:<the vendor's digest>.
    image_uri: pulumi.Output[str]
    cached_repository_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PullThroughCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(CACHE_TYPE, name, None, opts)
        problems = cache_location_problems(
            "PullThroughCacheArgs", args.prefix, args.account_id, args.region
        )
        if not 1 <= args.keep_images:
            problems.append(
                format_problem(
                    "PullThroughCacheArgs.keep_images",
                    "at least 1",
                    args.keep_images,
                )
            )
        _raise(problems)
        child = pulumi.ResourceOptions(parent=self)
        spec = pulumi.Output.from_input(args.upstream_repository_arn).apply(
            lambda arn: CacheSpec(
                upstream=Upstream.from_arn(arn),
                prefix=args.prefix,
                account=args.account_id,
                region=args.region,
            )
        )
        self.role = aws.iam.Role(
            f"{name}-upstream-role",
            name=upstream_role_name(args.prefix, args.region),
            description=f"ECR pull-through cache {args.prefix}/ reads the vendor's repository",
            assume_role_policy=json.dumps(upstream_read_trust_policy()),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-upstream-policy",
            # The name, not the ID: known at preview, so the policy pack can relate the two.
            role=self.role.name,
            policy=spec.apply(lambda s: json.dumps(upstream_read_policy(s))),
            opts=child,
        )
        self.template = _creation_template(
            f"{name}-template",
            prefix=args.prefix,
            applied_for="PULL_THROUGH_CACHE",
            description=f"Repositories the pull-through cache {args.prefix}/ creates",
            keep_images=args.keep_images,
            parent=self,
        )
        self.rule = aws.ecr.PullThroughCacheRule(
            f"{name}-rule",
            ecr_repository_prefix=args.prefix,
            upstream_registry_url=spec.apply(lambda s: s.upstream.registry_url),
            # ECR's default, said: ECR stores ROOT when it is left out, the provider reads it back
            # into an attribute it does not compute, and a later `up` would see a change that
            # forces a replacement (pull-through-cache-private-wildcards.html, module docstring).
            upstream_repository_prefix=UPSTREAM_ROOT_PREFIX,
            custom_role_arn=self.role.arn,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The first pull must find the role able to read and the template in place.
                depends_on=[self.role_policy, self.template],
                # One rule per prefix and registry (the rule's ID is its prefix): a new upstream
                # (the vendor's account or region) can only be created once the old rule is gone.
                delete_before_replace=True,
            ),
        )
        self.cached_repository_arn = spec.apply(lambda s: s.repository_arn)
        self.image_uri = pulumi.Output.all(spec, args.vendor_image_uri).apply(
            lambda values: values[0].image_uri(values[1])
        )
        self.role_arn = self.role.arn
        self.register_outputs(
            {
                "image_uri": self.image_uri,
                "cached_repository_arn": self.cached_repository_arn,
                "role_arn": self.role_arn,
            }
        )

    def vendor_image(self) -> VendorImage:
        """The image through the cache, and the cached repository the execution role pulls."""
        return VendorImage(
            image_uri=self.image_uri,
            # The rule must exist before a task's first pull goes through it.
            repository=CachedRepoRef(
                repository_arn=pulumi.Output.all(self.cached_repository_arn, self.rule.id).apply(
                    lambda values: values[0]
                )
            ),
        )


@dataclass(frozen=True, kw_only=True)
class ReplicationAcceptanceArgs:
    """Who may replicate into this registry, and into which repositories."""

    # The vendor accounts admitted (`acceptReplicationFrom`).
    source_accounts: Sequence[str]
    # The repository names replicated here (the vendor's names, e.g. "rake-app").
    repository_names: Sequence[str]
    # This registry: the customer's account and region.
    account_id: str
    region: str
    # The replicas keep this many images, tagged or not.
    keep_images: int


class ReplicationAcceptance(pulumi.ComponentResource):
    """The registry policy that admits the vendor's replicas, and the replicas' settings."""

    policy: aws.ecr.RegistryPolicy
    template: aws.ecr.RepositoryCreationTemplate

    def __init__(
        self,
        name: str,
        args: ReplicationAcceptanceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(ACCEPTANCE_TYPE, name, None, opts)
        _raise(_acceptance_problems(args))
        self._args = args
        self.policy = aws.ecr.RegistryPolicy(
            f"{name}-policy",
            policy=json.dumps(
                replication_acceptance_policy(
                    source_accounts=args.source_accounts,
                    repository_arns=[self._arn(r) for r in args.repository_names],
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.template = _creation_template(
            f"{name}-template",
            prefix=ROOT_PREFIX,
            applied_for="REPLICATION",
            description="Repositories that replication from the vendor creates",
            keep_images=args.keep_images,
            parent=self,
        )
        self.register_outputs({})

    def _arn(self, repository: str) -> str:
        return f"arn:aws:ecr:{self._args.region}:{self._args.account_id}:repository/{repository}"

    def replica(self, repository: str, vendor_image_uri: pulumi.Input[str]) -> VendorImage:
        """The replica of one vendor image: the same digest, in this registry."""
        if repository not in self._args.repository_names:
            raise ValueError(
                format_problem(
                    "ReplicationAcceptance.replica(repository)",
                    f"one of {sorted(self._args.repository_names)}",
                    repository,
                )
            )
        registry = f"{self._args.account_id}.dkr.ecr.{self._args.region}.amazonaws.com"
        digest = pulumi.Output.from_input(vendor_image_uri).apply(lambda uri: uri.rsplit("@", 1)[1])
        return VendorImage(
            image_uri=pulumi.Output.concat(registry, "/", repository, "@", digest),
            repository=RepoRef.from_arn(self._arn(repository)),
        )


def _acceptance_problems(args: ReplicationAcceptanceArgs) -> list[str]:
    owner = "ReplicationAcceptanceArgs"
    problems = [
        format_problem(f"{owner}.source_accounts[{i}]", "a 12-digit AWS account ID", a)
        for i, a in enumerate(args.source_accounts)
        if not ACCOUNT_ID.fullmatch(a)
    ]
    problems += [
        format_problem(f"{owner}.repository_names[{i}]", "an ECR repository name", r)
        for i, r in enumerate(args.repository_names)
        if not REPOSITORY_NAME.fullmatch(r)
    ]
    for key, value, expected in (
        ("source_accounts", args.source_accounts, "at least one account"),
        ("repository_names", args.repository_names, "at least one repository"),
    ):
        if not value:
            problems.append(format_problem(f"{owner}.{key}", expected, list(value)))
    if not ACCOUNT_ID.fullmatch(args.account_id):
        problems.append(
            format_problem(f"{owner}.account_id", "a 12-digit AWS account ID", args.account_id)
        )
    if not REGION.fullmatch(args.region):
        problems.append(format_problem(f"{owner}.region", "an AWS region", args.region))
    if args.keep_images < 1:
        problems.append(format_problem(f"{owner}.keep_images", "at least 1", args.keep_images))
    return problems


@dataclass(frozen=True, kw_only=True)
class VendorReplicationArgs:
    """Repository name -> the registries it replicates to (`repositories.<name>.replicateTo`)."""

    destinations: Mapping[str, Sequence[Destination]]


class VendorReplication(pulumi.ComponentResource):
    """The vendor registry's replication configuration: each repository to its destinations.

    One per registry and region: it replaces any replication rule made outside this stack.
    """

    configuration: aws.ecr.ReplicationConfiguration

    def __init__(
        self, name: str, args: VendorReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(REPLICATION_TYPE, name, None, opts)
        _raise(_replication_problems(args))
        rules = [replication_rule(repo, dests) for repo, dests in sorted(args.destinations.items())]
        self.configuration = aws.ecr.ReplicationConfiguration(
            f"{name}-configuration",
            replication_configuration=aws.ecr.ReplicationConfigurationReplicationConfigurationArgs(
                rules=[
                    aws.ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                        destinations=[
                            aws.ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(  # noqa: E501
                                region=d["region"], registry_id=d["registryId"]
                            )
                            for d in rule["destinations"]
                        ],
                        repository_filters=[
                            aws.ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(  # noqa: E501
                                filter=f["filter"], filter_type=f["filterType"]
                            )
                            for f in rule["repositoryFilters"]
                        ],
                    )
                    for rule in rules
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def _replication_problems(args: VendorReplicationArgs) -> list[str]:
    owner = "VendorReplicationArgs.destinations"
    problems = []
    if not 1 <= len(args.destinations) <= MAX_REPLICATION_RULES:
        problems.append(
            format_problem(
                owner, f"1 to {MAX_REPLICATION_RULES} repositories", len(args.destinations)
            )
        )
    for repo, dests in sorted(args.destinations.items()):
        if not REPOSITORY_NAME.fullmatch(repo):
            problems.append(format_problem(owner, "ECR repository names as keys", repo))
        if not 1 <= len(dests) <= MAX_DESTINATIONS:
            problems.append(
                format_problem(
                    f"{owner}[{repo!r}]", f"1 to {MAX_DESTINATIONS} destinations", len(dests)
                )
            )
        for i, dest in enumerate(dests):
            if not ACCOUNT_ID.fullmatch(dest.account):
                problems.append(
                    format_problem(
                        f"{owner}[{repo!r}][{i}].account", "a 12-digit AWS account ID", dest.account
                    )
                )
            if not REGION.fullmatch(dest.region):
                problems.append(
                    format_problem(f"{owner}[{repo!r}][{i}].region", "an AWS region", dest.region)
                )
    return problems


@dataclass(frozen=True, kw_only=True)
class RegistryScanningArgs:
    """Which repositories the registry scans, and how."""

    # Repository name filters (`*` wildcards; without one, a filter matches names containing it).
    repository_filters: Sequence[str]
    # Default: basic scanning on push; True: Amazon Inspector scans continuously (`scanning:
    # enhanced`), per registry and region, billed by Inspector.
    enhanced: bool = False


class RegistryScanning(pulumi.ComponentResource):
    """The registry's scanning configuration (one per registry and region)."""

    configuration: aws.ecr.RegistryScanningConfiguration

    def __init__(
        self, name: str, args: RegistryScanningArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(SCANNING_TYPE, name, None, opts)
        if not args.repository_filters:
            raise ValueError(
                format_problem("RegistryScanningArgs.repository_filters", "at least one filter", [])
            )
        rules = registry_scanning_rules(args.repository_filters, enhanced=args.enhanced)
        self.configuration = aws.ecr.RegistryScanningConfiguration(
            f"{name}-configuration",
            scan_type="ENHANCED" if args.enhanced else "BASIC",
            rules=[
                aws.ecr.RegistryScanningConfigurationRuleArgs(
                    scan_frequency=rule["scanFrequency"],
                    repository_filters=[
                        aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                            filter=f["filter"], filter_type=f["filterType"]
                        )
                        for f in rule["repositoryFilters"]
                    ],
                )
                for rule in rules
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
