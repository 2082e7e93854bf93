"""The rules between settings, in one place: what no single value can say of itself.

`check_rules()` runs once every value is valid on its own (components/settings.py), and records
each broken rule in the one error format, naming the keys as the user typed them. Components
do not repeat these checks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from components.aws_values import (
    ECR_IMAGE_BY_DIGEST,
    ECR_REPOSITORY_ARN,
    ECR_VPC_ENDPOINTS_URL,
    FARGATE_MEMORY_BY_CPU,
    FARGATE_SIZES_URL,
    NAT_LESS_STRATEGY,
    SNS_TOPIC_ARN,
)
from components.config_errors import Problems, keys_text
from components.mirror import MIRROR_CACHE, MIRROR_NONE, MIRROR_REPLICATION
from components.reach import ANYWHERE
from components.service_ports import derived_environment

if TYPE_CHECKING:  # the models import this module to run the rules
    from components.settings import AppSettings, Settings

ONLY_ONE_VENDOR_SOURCE: Final = "Set only one of `vendorStack` or `vendorImage`."


def check_rules(settings: Settings, problems: Problems, *, api_key_is_secret: bool) -> None:
    """Record every broken rule of valid settings in `problems`."""
    _check_regions(settings, problems)
    _check_access_keys(settings, problems)
    _check_vendor(settings, problems)
    if settings.app is not None:
        _check_app(settings.app, problems, settings.region)
        _check_containers(settings.app, problems, set(settings.repositories))
        _check_operations(settings.app, problems, settings.region)
    _check_vendor_use(settings, problems)
    _check_api_key(settings, problems, api_key_is_secret)
    _copy_rules(settings, problems)


def _check_api_key(settings: Settings, problems: Problems, api_key_is_secret: bool) -> None:
    """`app` comes with `apiKey`, which is set with `--secret`."""
    if settings.app is not None and settings.api_key is None:
        problems.missing("apiKey", "--secret apiKey <value>")
    elif settings.api_key is not None and not api_key_is_secret:
        # The value itself is never shown.
        problems.got(
            "apiKey",
            "a secret (`pulumi config set --secret apiKey <value>`)",
            "a plaintext value",
        )


def _check_regions(settings: Settings, problems: Problems) -> None:
    """A repository's KMS key is in the stack's region (ECR uses a key of its own region)."""
    for name, repository in settings.repositories.items():
        key = repository.kms_key_arn
        if key and f":kms:{settings.region}:" not in key:
            problems.bad(f"repositories.{name}.kmsKeyArn", f"a KMS key in {settings.region}", key)


def _check_access_keys(settings: Settings, problems: Problems) -> None:
    """`createAccessKeys` comes with `pgpKey` (a secret key is exported only encrypted to it)."""
    if settings.create_access_keys and settings.pgp_key is None:
        # Without it the secret key would be a (Pulumi) secret output, readable by anyone who
        # may preview or reference the stack.
        problems.got(
            "createAccessKeys",
            "true only with `pgpKey` (the secret key is exported only encrypted to it)",
            "no `pgpKey`",
        )


def _check_vendor(settings: Settings, problems: Problems) -> None:
    """`vendorImage` comes with its repository's ARN; nothing else does."""
    image, arn = settings.vendor_image, settings.vendor_repository_arn
    if arn is not None and image is None:
        problems.got("vendorRepositoryArn", "only together with `vendorImage`", "no `vendorImage`")
    if image is not None and arn is None:
        problems.missing(
            "vendorRepositoryArn",
            "vendorRepositoryArn arn:aws:ecr:<region>:<account>:repository/<name>",
        )
    if image and arn:
        image_parts = ECR_IMAGE_BY_DIGEST.fullmatch(image)
        arn_parts = ECR_REPOSITORY_ARN.fullmatch(arn)
        assert image_parts is not None and arn_parts is not None
        if image_parts.group("account", "region", "name") != arn_parts.group(
            "account", "region", "name"
        ):
            problems.bad(
                "vendorRepositoryArn", "the ARN of the repository `vendorImage` comes from", arn
            )


def _check_vendor_use(settings: Settings, problems: Problems) -> None:
    """A vendor source exactly when a container runs a vendor image (one image with vendorImage)."""
    app = settings.app
    uses_vendor = app is not None and any(c.vendor_repository for c in app.containers)
    has_stack = settings.vendor_stack is not None
    has_image = settings.vendor_image is not None
    if uses_vendor and has_stack and has_image:
        problems.add(ONLY_ONE_VENDOR_SOURCE)
    elif uses_vendor and settings.vendor is None:
        problems.missing("vendorStack", "vendorStack <org>/<project>/vendor")
    elif not uses_vendor and settings.vendor is not None:
        problems.got(
            "vendorStack" if has_stack else "vendorImage",
            "a vendor image source only when a container of `app` sets `vendorRepository`",
            "no such container",
        )
    if app is not None and has_image:
        names = sorted({c.vendor_repository for c in app.containers if c.vendor_repository})
        if len(names) > 1:
            problems.bad(
                "app.containers", "one `vendorRepository` with `vendorImage` (one image)", names
            )


def _check_app(app: AppSettings, problems: Problems, region: str) -> None:
    """Counts in order, a Fargate size, and the app's certificate, key and availability zones in
    the stack's region (standard zones, `<region><letter>`: a Local or Wavelength zone has no
    load balancer)."""
    if app.max_count < app.desired_count:
        problems.bad("app.maxCount", f"at least desiredCount ({app.desired_count})", app.max_count)
    if app.memory not in FARGATE_MEMORY_BY_CPU[app.cpu]:
        problems.bad(
            "app.memory",
            f"a Fargate memory size for cpu {app.cpu}: "
            f"{', '.join(map(str, FARGATE_MEMORY_BY_CPU[app.cpu]))} (see {FARGATE_SIZES_URL})",
            app.memory,
        )
    certificate = app.certificate_arn
    if certificate and f":acm:{region}:" not in certificate:
        problems.bad(
            "app.certificateArn", f"a certificate in the stack's region {region}", certificate
        )
    secret_kms_key = app.secret_kms_key_arn
    if secret_kms_key and f":kms:{region}:" not in secret_kms_key:
        problems.bad("app.secretKmsKeyArn", f"a KMS key in {region}", secret_kms_key)
    standard_zone = re.compile(rf"{re.escape(region)}[a-z]")
    for index, zone in enumerate(app.availability_zones):
        if not standard_zone.fullmatch(zone):
            problems.bad(
                f"app.availabilityZones[{index}]",
                f"a standard availability zone of {region} such as '{region}a'",
                zone,
            )


def _check_containers(app: AppSettings, problems: Problems, repositories: set[str]) -> None:
    """Each container's image source, unique names and ports, real dependencies, one ingress."""
    names = [c.name for c in app.containers]
    ports = [c.port for c in app.containers]
    for index, container in enumerate(app.containers):
        path = f"app.containers[{index}]"
        if (container.repository is None) == (container.vendor_repository is None):
            problems.got(
                f"{path}.repository",
                "exactly one of `repository` or `vendorRepository`",
                "neither" if container.repository is None else "both",
            )
        if container.repository is not None and container.repository not in repositories:
            problems.bad(
                f"{path}.repository",
                f"a repository of this stack ({keys_text(repositories)})",
                container.repository,
            )
        if names.index(container.name) != index:
            problems.bad(f"{path}.name", "a name no other container has", container.name)
        if ports.index(container.port) != index:
            # The containers of a Fargate task share one network namespace (localhost).
            problems.bad(f"{path}.port", "a port no other container uses", container.port)
        for dep_index, dependency in enumerate(container.depends_on):
            if dependency not in names or dependency == container.name:
                problems.bad(
                    f"{path}.dependsOn[{dep_index}]",
                    f"the name of another container ({keys_text(set(names) - {container.name})})",
                    dependency,
                )
    ingress = [c.name for c in app.containers if c.ingress]
    if len(ingress) != 1:
        problems.bad("app.containers", "exactly one container with `ingress: true`", ingress)
    _check_derived_environment(app, problems)


def _check_derived_environment(app: AppSettings, problems: Problems) -> None:
    """The variables the stack sets from the ports (NLP_CLIENT_PORT, RAKE_PORT, PROSE_PORT,
    RAKE_ENDPOINT, PROSE_ENDPOINT) are not set to anything else in `environment`."""
    ports = {c.name: c.port for c in app.containers}
    for index, container in enumerate(app.containers):
        for variable, value in derived_environment(container.name, ports).items():
            if container.environment.get(variable, value) != value:
                problems.bad(
                    f"app.containers[{index}].environment.{variable}",
                    f"{value!r} or no {variable} (the stack sets it from the containers' ports)",
                    container.environment[variable],
                )


# ---- The vendor's image in this region, and NAT-less tasks (docs/mirroring.md) -----------------

# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutReplicationConfiguration.html
MAX_REPLICATION_RULES: Final = 10
MAX_REPLICATION_DESTINATIONS: Final = 25


def _copy_rules(settings: Settings, problems: Problems) -> None:
    """The rules of the copies of the vendor's image and of NAT-less tasks, in order."""
    _check_vendor_mirror(settings, problems)
    _check_accept_replication(settings, problems)
    _check_nat_less(settings, problems)
    _check_replicate_to(settings, problems)


def _vendor_names(settings: Settings) -> list[str]:
    containers = settings.app.containers if settings.app else ()
    return sorted({c.vendor_repository for c in containers if c.vendor_repository})


def _check_vendor_mirror(settings: Settings, problems: Problems) -> None:
    """`vendorMirror` other than `none` comes with a container that runs a vendor image;
    `pullThroughCache` with one vendor repository (its cache rule reads one); `replication` with
    the vendor's account in `acceptReplicationFrom` (with `vendorImage` it is the image's registry;
    a `vendorStack`'s account is checked when its outputs are read)."""
    mirror, names = settings.vendor_mirror, _vendor_names(settings)
    if mirror == MIRROR_NONE:
        return
    if not names:
        problems.bad(
            "vendorMirror",
            f"`{MIRROR_NONE}` when no container of `app` sets `vendorRepository` (nothing to copy)",
            mirror,
        )
    elif mirror == MIRROR_CACHE and len(names) > 1:
        problems.bad(
            "app.containers",
            f"one `vendorRepository` with `vendorMirror: {MIRROR_CACHE}` (the cache's role reads "
            "one vendor repository)",
            names,
        )
    vendor_account = _vendor_image_account(settings)
    if mirror == MIRROR_REPLICATION and names:
        if vendor_account and vendor_account not in settings.accept_replication_from:
            problems.bad(
                "acceptReplicationFrom",
                f"the vendor's account {vendor_account} (vendorImage's registry) with "
                f"`vendorMirror: {MIRROR_REPLICATION}`",
                list(settings.accept_replication_from),
            )
        elif not settings.accept_replication_from:
            problems.bad(
                "acceptReplicationFrom",
                f"the vendor's account with `vendorMirror: {MIRROR_REPLICATION}`",
                [],
            )


def _vendor_image_account(settings: Settings) -> str | None:
    match = ECR_IMAGE_BY_DIGEST.fullmatch(settings.vendor_image or "")
    return match["account"] if match else None


def _vendor_image_region(settings: Settings) -> str | None:
    match = ECR_IMAGE_BY_DIGEST.fullmatch(settings.vendor_image or "")
    return match["region"] if match else None


def _check_accept_replication(settings: Settings, problems: Problems) -> None:
    """`acceptReplicationFrom` comes with a container that runs a vendor image (the registry
    policy admits exactly the vendor repositories the app runs), and no repository of this stack
    has the name of one of them (a replica keeps the vendor's name)."""
    if not settings.accept_replication_from:
        return
    names = _vendor_names(settings)
    if not names:
        problems.bad(
            "acceptReplicationFrom",
            "no accounts when no container of `app` sets `vendorRepository` (nothing to accept)",
            list(settings.accept_replication_from),
        )
    for name in sorted(set(names) & set(settings.repositories)):
        problems.bad(
            f"repositories.{name}",
            "no repository named like a vendor repository that `acceptReplicationFrom` admits "
            "(its replica takes that name)",
            name,
        )


def _check_nat_less(settings: Settings, problems: Problems) -> None:
    """`app.natGateways: None` only with `app.vpcEndpoints: true` and, when a container runs a
    vendor image, that image in the stack's region: `vendorMirror: replication`, or a
    `vendorImage` of this region. An ECR endpoint serves its own region only, and AWS documents
    that a first pull through a pull-through cache over endpoints needs a NAT gateway."""
    app = settings.app
    if app is None or app.nat_gateways != NAT_LESS_STRATEGY:
        return
    key = "app.natGateways"
    if not app.vpc_endpoints:
        problems.bad(
            key,
            f"`{NAT_LESS_STRATEGY}` only with `app.vpcEndpoints: true` (without NAT, tasks reach "
            "ECR, S3, CloudWatch Logs and Secrets Manager only through VPC endpoints)",
            NAT_LESS_STRATEGY,
        )
    if not _vendor_names(settings):
        return
    mirror = settings.vendor_mirror
    if mirror == MIRROR_CACHE:
        problems.bad(
            key,
            f"`{NAT_LESS_STRATEGY}` only with `vendorMirror: {MIRROR_REPLICATION}`, not "
            f"`{MIRROR_CACHE}` (AWS: a first pull through a cache over VPC endpoints needs a NAT "
            f"gateway, {ECR_VPC_ENDPOINTS_URL})",
            NAT_LESS_STRATEGY,
        )
    elif mirror == MIRROR_NONE and _vendor_image_region(settings) != settings.region:
        problems.bad(
            key,
            f"`{NAT_LESS_STRATEGY}` only with `vendorMirror: {MIRROR_REPLICATION}` or a "
            f"`vendorImage` in {settings.region} (an ECR endpoint serves its own region only, "
            f"{ECR_VPC_ENDPOINTS_URL})",
            NAT_LESS_STRATEGY,
        )


def _check_replicate_to(settings: Settings, problems: Problems) -> None:
    """`repositories.<name>.replicateTo` names registries other than this stack's own (account
    and region), at most 25 per repository and on at most 10 repositories (ECR's limits)."""
    replicated = [name for name, r in settings.repositories.items() if r.replicate_to]
    if len(replicated) > MAX_REPLICATION_RULES:
        problems.bad(
            "repositories",
            f"`replicateTo` on at most {MAX_REPLICATION_RULES} repositories (one replication "
            "rule each)",
            replicated,
        )
    own = (settings.account_id, settings.region)
    for name, repository in settings.repositories.items():
        path = f"repositories.{name}.replicateTo"
        if len(repository.replicate_to) > MAX_REPLICATION_DESTINATIONS:
            problems.bad(
                path,
                f"at most {MAX_REPLICATION_DESTINATIONS} destinations",
                len(repository.replicate_to),
            )
        for index, destination in enumerate(repository.replicate_to):
            if (destination.account, destination.region) == own:
                problems.bad(
                    f"{path}[{index}]",
                    f"a registry other than this stack's own ({own[0]} in {own[1]})",
                    {"account": destination.account, "region": destination.region},
                )


# ---- Running the app like production (docs/operations.md) -----------------------------------


def _check_operations(app: AppSettings, problems: Problems, region: str) -> None:
    """The app's production options agree: `domain` comes with `certificateArn` (the name is
    served over HTTPS); `alarmTopicArn` is a topic in the stack's region (alarms notify topics of
    their own region); `autoscaling` keeps at least one policy; `allowedCidrs` is not empty for an
    internet-facing load balancer and holds no anywhere block (0.0.0.0/0, ::/0) for an internal
    one."""
    if app.domain is not None and app.certificate_arn is None:
        problems.got(
            "app.domain",
            "a name only with `certificateArn` (a certificate for it: the name is served over "
            "HTTPS)",
            "no `certificateArn`",
        )
    topic = app.alarm_topic_arn
    topic_parts = SNS_TOPIC_ARN.fullmatch(topic) if topic else None
    if topic_parts is not None and topic_parts.group("region") != region:
        problems.bad("app.alarmTopicArn", f"a topic in the stack's region {region}", topic)
    scaling = app.autoscaling
    if scaling.cpu is None and scaling.memory is None and scaling.requests_per_target is None:
        problems.got(
            "app.autoscaling",
            "at least one of `cpu`, `memory` or `requestsPerTarget`",
            "all null",
        )
    cidrs = app.allowed_cidrs
    if cidrs is not None and not cidrs and not app.internal:
        problems.bad(
            "app.allowedCidrs",
            "at least one CIDR block (an internet-facing load balancer nobody may reach), or "
            "`internal: true`",
            [],
        )
    for index, cidr in enumerate(cidrs if app.internal and cidrs else ()):
        if cidr in ANYWHERE:
            problems.bad(
                f"app.allowedCidrs[{index}]",
                "a block other than anywhere (an internal load balancer is not on the internet)",
                cidr,
            )
