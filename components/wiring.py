"""The one place settings become component args: what each config key turns into.

`__main__.py` calls these in order; components know nothing of the config (they own their
defaults, and components/settings.py reads those defaults from them).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_aws as aws

from components.alarms import AlarmThresholds
from components.dev_user_group import DevUserGroupArgs
from components.endpoint import Domain
from components.fargate_app import ContainerSpec, FargateAppArgs
from components.operations import OperationsArgs
from components.provider import Providers, RegistryLogin, stack_providers
from components.scaling import ScalingTargets
from components.service_ports import derived_environment
from components.settings import ContainerSettings, RepositorySettings, Settings
from components.shared_repo import Grants, SharedRepo, SharedRepoArgs
from components.vendor import VendorImage, vendor_images


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
    """The vendor images the app's containers name (`vendorRepository`), by repository name."""
    if settings.app is None:
        return {}
    names = [c.vendor_repository for c in settings.app.containers if c.vendor_repository]
    return vendor_images(names, settings.vendor, account_id=settings.account_id)


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
