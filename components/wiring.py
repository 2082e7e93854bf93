"""The one place settings become component args: what each config key turns into.

`__main__.py` calls these in order; components know nothing of the config (they own their
defaults, and components/settings.py reads those defaults from them).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_aws as aws

from components.alarms import AlarmThresholds
from components.dev_user_group import DevUserGroupArgs
from components.fargate_app import ContainerSpec, FargateAppArgs
from components.mirror import (
    MIRROR_CACHE,
    MIRROR_NONE,
    MIRROR_REPLICATION,
    SCANNING_ENHANCED,
    Destination,
)
from components.operations import OperationsArgs
from components.provider import Providers, RegistryLogin, stack_providers
from components.reach import Domain
from components.registry_mirror import (
    PullThroughCache,
    PullThroughCacheArgs,
    RegistryScanningArgs,
    ReplicationAcceptance,
    ReplicationAcceptanceArgs,
    VendorReplicationArgs,
)
from components.scaling import ScalingTargets
from components.service_ports import derived_environment
from components.settings import ContainerSettings, RepositorySettings, Settings
from components.shared_repo import Grants, SharedRepo, SharedRepoArgs
from components.vendor import CopyAccess, VendorImage, vendor_images


def providers(settings: Settings) -> Providers:
    """The stack's AWS provider (its account, region and `assumeRole`), Docker provider, login."""
    assume_role = settings.assume_role
    return stack_providers(
        region=settings.region,
        account_id=settings.account_id,
        assume_role=aws.ProviderAssumeRoleArgs(
            role_arn=assume_role.role_arn,
            session_name=assume_role.session_name,
            external_id=assume_role.external_id,
        )
        if assume_role
        else None,
    )


def shared_repo_args(
    name: str, repository: RepositorySettings, settings: Settings, registry: RegistryLogin
) -> SharedRepoArgs:
    """The args of the configured repository `repositories.<name>`."""
    return SharedRepoArgs(
        repository_name=name,
        source=repository.source,
        image_tag=settings.image_tag,
        registry=registry,
        pull_accounts=repository.pull_accounts,
        pull_org_id=repository.pull_org_id,
        cache_accounts=repository.cache_accounts,
        kms_key_arn=repository.kms_key_arn,
        keep_release_images=settings.keep_release_images,
        force_delete=settings.force_delete,
    )


def dev_user_group_args(settings: Settings, repositories: list[Grants]) -> DevUserGroupArgs:
    """The developers group over every repository of the stack."""
    return DevUserGroupArgs(
        group_name=settings.developers.group,
        repositories=repositories,
        user_names=settings.developers.users,
        pgp_key=settings.pgp_key,
        create_access_keys=settings.create_access_keys,
    )


def app_vendor_images(settings: Settings) -> dict[str, VendorImage]:
    """The vendor images the app's containers name (`vendorRepository`), by repository name, in
    the vendor's registry (`mirrored_vendor_images` moves them into this one)."""
    copy = (
        CopyAccess(
            mirror=settings.vendor_mirror,
            region=settings.region,
            replication_sources=settings.accept_replication_from,
        )
        if settings.vendor_mirror != MIRROR_NONE
        else None
    )
    return vendor_images(
        vendor_repository_names(settings),
        settings.vendor,
        account_id=settings.account_id,
        copy=copy,
    )


def fargate_app_args(
    settings: Settings,
    repos: Mapping[str, SharedRepo],
    vendor: Mapping[str, VendorImage],
) -> FargateAppArgs:
    """The args of the stack's `app`: each container's image from its repository.

    `repository: nlp-client` runs this stack's image; `vendorRepository: rake-app` runs the
    vendor's (settings has checked that every name exists and `app` comes with `apiKey`).
    The services' port variables and the edge's upstream URLs come from the ports
    (components/service_ports.py); settings has checked that `environment` agrees.
    """
    app, api_key = settings.app, settings.api_key
    assert app is not None and api_key is not None
    ports = {c.name: c.port for c in app.containers}

    def container(spec: ContainerSettings) -> ContainerSpec:
        source: SharedRepo | VendorImage = (
            repos[spec.repository] if spec.repository else vendor[str(spec.vendor_repository)]
        )
        return ContainerSpec(
            name=spec.name,
            image=source.image_uri,
            repository=source if isinstance(source, SharedRepo) else source.repository,
            port=spec.port,
            ingress=spec.ingress,
            depends_on=spec.depends_on,
            environment={**derived_environment(spec.name, ports), **spec.environment},
        )

    return FargateAppArgs(
        containers=[container(spec) for spec in app.containers],
        api_key=api_key,
        account_id=settings.account_id,
        region=settings.region,
        desired_count=app.desired_count,
        max_count=app.max_count,
        cpu=app.cpu,
        memory=app.memory,
        nat_gateways=app.nat_gateways,
        vpc_endpoints=app.vpc_endpoints,
        availability_zones=app.availability_zones,
        log_retention_days=app.log_retention_days,
        alb_certificate_arn=app.certificate_arn,
        secret_kms_key_arn=app.secret_kms_key_arn,
        operations=operations_args(settings),
    )


def operations_args(settings: Settings) -> OperationsArgs:
    """What runs the app like production: alarms, access logs, WAF, scaling, reach and name."""
    app = settings.app
    assert app is not None
    alarms, scaling, domain = app.alarms, app.autoscaling, app.domain
    return OperationsArgs(
        # The settings' keys are the thresholds' fields, by the same names.
        alarm_thresholds=AlarmThresholds(**alarms.model_dump()),
        alarm_topic_arn=app.alarm_topic_arn,
        access_log_retention_days=app.access_log_retention_days,
        force_destroy_access_logs=settings.force_delete,
        waf=app.waf,
        waf_rate_limit=app.waf_rate_limit,
        scaling=ScalingTargets(
            cpu_percent=scaling.cpu,
            memory_percent=scaling.memory,
            requests_per_target=scaling.requests_per_target,
        ),
        allowed_cidrs=app.allowed_cidrs,
        internal=app.internal,
        domain=Domain(name=domain.name, zone_id=domain.zone_id) if domain else None,
    )


# ---- The vendor's image in this region, replication and scanning (docs/mirroring.md) ----------


def vendor_repository_names(settings: Settings) -> list[str]:
    """The vendor's repositories the app's containers run (`vendorRepository`), sorted."""
    containers = settings.app.containers if settings.app else ()
    return sorted({c.vendor_repository for c in containers if c.vendor_repository})


def pull_through_cache_args(
    settings: Settings, vendor: Mapping[str, VendorImage]
) -> PullThroughCacheArgs | None:
    """`vendorMirror: pullThroughCache`: a cache of the vendor's one repository (settings have
    checked there is one)."""
    if settings.vendor_mirror != MIRROR_CACHE:
        return None
    (image,) = vendor.values()
    return PullThroughCacheArgs(
        upstream_repository_arn=image.repository.repository_arn,
        vendor_image_uri=image.image_uri,
        account_id=settings.account_id,
        region=settings.region,
        keep_images=settings.keep_release_images,
        prefix=settings.vendor_mirror_prefix,
    )


def replication_acceptance_args(settings: Settings) -> ReplicationAcceptanceArgs | None:
    """`acceptReplicationFrom`: the vendor accounts may replicate the app's vendor repositories
    into this registry."""
    if not settings.accept_replication_from:
        return None
    return ReplicationAcceptanceArgs(
        source_accounts=settings.accept_replication_from,
        repository_names=vendor_repository_names(settings),
        account_id=settings.account_id,
        region=settings.region,
        keep_images=settings.keep_release_images,
    )


def mirrored_vendor_images(
    settings: Settings,
    vendor: Mapping[str, VendorImage],
    cache: PullThroughCache | None,
    acceptance: ReplicationAcceptance | None,
) -> dict[str, VendorImage]:
    """The images the app runs: the vendor's, or (`vendorMirror`) the same digests in this
    registry, through the cache or from the replicas (the task pins the same digest)."""
    if settings.vendor_mirror == MIRROR_CACHE:
        assert cache is not None
        return {name: cache.vendor_image() for name in vendor}
    if settings.vendor_mirror == MIRROR_REPLICATION:
        assert acceptance is not None
        return {name: acceptance.replica(name, image.image_uri) for name, image in vendor.items()}
    return dict(vendor)


def vendor_replication_args(settings: Settings) -> VendorReplicationArgs | None:
    """`repositories.<name>.replicateTo`: the registry's replication configuration."""
    destinations = {
        name: [Destination(account=d.account, region=d.region) for d in repository.replicate_to]
        for name, repository in settings.repositories.items()
        if repository.replicate_to
    }
    return VendorReplicationArgs(destinations=destinations) if destinations else None


def registry_scanning_args(settings: Settings) -> RegistryScanningArgs | None:
    """The registry's scanning configuration, when the stack needs one.

    `scanning: enhanced`: Amazon Inspector scans the stack's repositories (and the copies of the
    vendor's) continuously. With a copy of the vendor's image and basic scanning: scan on push for
    the same repositories, since a repository creation template has no scanning setting and the
    cached or replicated repositories would otherwise never be scanned. Otherwise none (each
    repository's own scan on push, as SharedRepo sets it).
    """
    enhanced = settings.scanning == SCANNING_ENHANCED
    names = vendor_repository_names(settings)
    copies = [
        *(
            f"{settings.vendor_mirror_prefix}/{n}"
            for n in names
            if settings.vendor_mirror == MIRROR_CACHE
        ),
        *(names if settings.accept_replication_from else []),
    ]
    if not enhanced and not copies:
        return None
    return RegistryScanningArgs(
        repository_filters=[*settings.repositories, *copies], enhanced=enhanced
    )
