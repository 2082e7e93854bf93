"""Parse and validate every stack setting once, into frozen dataclasses.

`load_settings()` reads the running stack's config; `parse_settings()` is the pure function behind
it (plain values in, `Settings` out) so every rule is unit-tested without Pulumi. Config keys keep
Pulumi's camelCase in the stack files and in error messages; everything past this module is
snake_case. All problems are collected and raised together as one `ValueError`, one per line, in
one format: `ecr-cross-account:keepReleaseImages: expected an integer from 1 to 1000, got 0.`
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
from pulumi.runtime import config as runtime_config

from components.aws_values import (
    ACCOUNT_ID,
    CERTIFICATE_ARN,
    CONTAINER_NAME,
    ECR_IMAGE_BY_DIGEST,
    ECR_REPOSITORY_ARN,
    ENV_NAME,
    EXTERNAL_ID,
    FARGATE_MEMORY_BY_CPU,
    FARGATE_SIZES_URL,
    IAM_GROUP_NAME,
    IAM_NAME,
    IMAGE_TAG,
    KMS_KEY_ARN,
    LOG_RETENTION_DAYS,
    NAT_GATEWAY_STRATEGIES,
    ORG_ID,
    REGION,
    REPOSITORY_NAME,
    ROLE_ARN,
    SESSION_NAME,
    STACK_NAME,
)
from components.config_reader import Problems, Reader, decoded, keys_text

PROJECT: Final = "ecr-cross-account"
REGION_KEY: Final = "aws:region"

# Defaults of the keys Pulumi.yaml declares with a `default:` (tests/infra/test_settings.py checks
# that the two agree).
DEFAULT_IMAGE_TAG: Final = "1.1.0"
DEFAULT_FORCE_DELETE: Final = False
DEFAULT_CREATE_ACCESS_KEYS: Final = False
DEFAULT_KEEP_RELEASE_IMAGES: Final = 10

ONLY_ONE_VENDOR_SOURCE: Final = "Set only one of `vendorStack` or `vendorImage`."


@dataclass(frozen=True, kw_only=True)
class AssumeRoleSettings:
    """The role the AWS provider assumes (config `assumeRole`)."""

    role_arn: str
    # Default: Pulumi's own session name.
    session_name: str | None = None
    # Default: no external ID (the role's trust policy decides whether it needs one).
    external_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class DevelopersSettings:
    """The stack's developer group and its members (config `developers`)."""

    group: str
    # Default: an empty group.
    users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RepositorySettings:
    """One ECR repository of this stack and who may pull from it (config `repositories.<name>`)."""

    name: str
    # Dockerfile directory, relative to the project; its parent is the build context.
    source: str
    # Default: no consumer account.
    pull_accounts: tuple[str, ...] = ()
    # Default: no organization-wide pull.
    pull_org_id: str | None = None
    # Default: AES256 encryption with an AWS-owned key.
    kms_key_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContainerSettings:
    """One container of the app's task (config `app.containers[i]`)."""

    name: str
    port: int
    # Exactly one of `repository` (this stack's) and `vendor_repository` (the vendor's) is set.
    repository: str | None = None
    vendor_repository: str | None = None
    # Default: not the load balancer's target (exactly one container is).
    ingress: bool = False
    # Default: starts without waiting for other containers.
    depends_on: tuple[str, ...] = ()
    # Default: no extra environment (the API key is always injected as a secret, never here).
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AppSettings:
    """The Fargate app (config `app`); absent on stacks that only publish images."""

    containers: tuple[ContainerSettings, ...]
    # Default: 2 tasks, one per AZ.
    desired_count: int = 2
    # Default: autoscaling up to 4 tasks.
    max_count: int = 4
    # Default: 1 vCPU and 2 GiB, room for spaCy next to two light services.
    cpu: int = 1024
    memory: int = 2048
    # Default: one NAT gateway shared by both AZs.
    nat_gateways: str = "Single"
    # Default: 30 days of logs.
    log_retention_days: int = 30
    # Default: HTTP only (HTTPS and an HTTP->HTTPS redirect when set).
    certificate_arn: str | None = None
    # Default: the API-key secret uses the AWS-managed key (set to encrypt it with your own).
    secret_kms_key_arn: str | None = None

    @property
    def ingress(self) -> ContainerSettings:
        """The one container behind the load balancer."""
        return next(c for c in self.containers if c.ingress)


@dataclass(frozen=True, kw_only=True)
class VendorSettings:
    """Where the vendor's image comes from: its stack's outputs, or a pinned image + ARN."""

    # Exactly one of `stack` and `image` is set; `repository_arn` goes with `image`.
    stack: str | None = None
    image: str | None = None
    repository_arn: str | None = None
    # Default: the vendor repository is AES256-encrypted (set with `image` when it uses a KMS key).
    kms_key_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a stack's config says, validated."""

    account_id: str
    region: str
    developers: DevelopersSettings
    repositories: tuple[RepositorySettings, ...]
    # Default: Pulumi.yaml's `imageTag` default.
    image_tag: str = DEFAULT_IMAGE_TAG
    # Default: `pulumi destroy` refuses to delete repositories that hold images.
    force_delete: bool = DEFAULT_FORCE_DELETE
    # Default: keep the newest 10 tagged images per repository.
    keep_release_images: int = DEFAULT_KEEP_RELEASE_IMAGES
    # Default: the ambient credentials' own identity.
    assume_role: AssumeRoleSettings | None = None
    # Default: console passwords only, no long-lived access keys.
    create_access_keys: bool = DEFAULT_CREATE_ACCESS_KEYS
    # Default: no vendor image (set when a container uses `vendorRepository`).
    vendor: VendorSettings | None = None
    # Default: no app (the stack only publishes images).
    app: AppSettings | None = None
    # The API key as a secret Output; set whenever `app` is.
    api_key: pulumi.Output[str] | None = None

    def repository(self, name: str) -> RepositorySettings:
        """The configured repository called `name` (KeyError if there is none)."""
        for repository in self.repositories:
            if repository.name == name:
                return repository
        raise KeyError(name)


TOP_LEVEL_KEYS: Final = (
    "accountId",
    "apiKey",
    "app",
    "assumeRole",
    "createAccessKeys",
    "developers",
    "forceDelete",
    "imageTag",
    "keepReleaseImages",
    "repositories",
    "vendorImage",
    "vendorKmsKeyArn",
    "vendorRepositoryArn",
    "vendorStack",
)


def parse_settings(
    values: Mapping[str, Any],
    *,
    region: str | None,
    api_key: pulumi.Output[str] | None = None,
    api_key_is_secret: bool = True,
    secret_keys: frozenset[str] = frozenset(),
    project: str = PROJECT,
) -> Settings:
    """Validate the project's config values (keys without the `<project>:` prefix) into Settings.

    `values` holds what `pulumi config` stores: strings, JSON text or already-decoded values.
    `api_key` is the secret `apiKey` Output (its value is never read or echoed here);
    `secret_keys` names other keys set with `--secret`, whose values errors do not show either.
    Raises one ValueError listing every problem, one per line.
    """
    problems = Problems(project, secret_keys)
    top = Reader(problems, "", values)
    top.check_keys(TOP_LEVEL_KEYS)

    account_id = top.string(
        "accountId", pattern=ACCOUNT_ID, expected="a 12-digit AWS account ID (in quotes)"
    )
    if "accountId" not in values:
        problems.missing("accountId", "accountId <12-digit account ID>")
    if region is None:
        problems.missing(REGION_KEY, f"{REGION_KEY} <region, e.g. us-east-2>")
    elif not REGION.fullmatch(region):
        problems.bad(REGION_KEY, "an AWS region name such as 'us-east-2'", region)

    developers = _developers(top, problems)
    repositories = _repositories(top, problems, region)
    assume_role = _assume_role(top)
    vendor = _vendor(top)
    app = _app(top, region, {r.name for r in repositories})
    _check_vendor_use(problems, app, vendor, present=set(values))
    if app is not None and api_key is None:
        problems.missing("apiKey", "--secret apiKey <value>")
    elif api_key is not None and not api_key_is_secret:
        # The value itself is never shown.
        problems.got(
            "apiKey",
            "a secret (`pulumi config set --secret apiKey <value>`)",
            "a plaintext value",
        )

    settings = Settings(
        account_id=account_id or "",
        region=region or "",
        developers=developers or DevelopersSettings(group=""),
        repositories=repositories,
        image_tag=top.string(
            "imageTag",
            pattern=IMAGE_TAG,
            expected="a Docker tag such as '1.1.0' (at most 115 characters)",
        )
        or DEFAULT_IMAGE_TAG,
        force_delete=top.boolean("forceDelete", DEFAULT_FORCE_DELETE),
        keep_release_images=top.integer(
            "keepReleaseImages", DEFAULT_KEEP_RELEASE_IMAGES, minimum=1, maximum=1000
        ),
        assume_role=assume_role,
        create_access_keys=top.boolean("createAccessKeys", DEFAULT_CREATE_ACCESS_KEYS),
        vendor=vendor,
        app=app,
        api_key=api_key,
    )
    problems.raise_if_any()
    return settings


def _developers(top: Reader, problems: Problems) -> DevelopersSettings | None:
    reader = top.obj("developers")
    if reader is None:
        if "developers" not in top.values:
            problems.missing("developers", "--path developers.group Development")
        return None
    reader.check_keys(("group", "users"))
    group = reader.string("group", pattern=IAM_GROUP_NAME, expected="an IAM group name")
    if "group" not in reader.values:
        problems.bad(reader.child("group"), "an IAM group name", None)
    users = reader.strings("users", pattern=IAM_NAME, expected="an IAM user name") or ()
    return DevelopersSettings(group=group or "", users=users)


def _repositories(
    top: Reader, problems: Problems, region: str | None
) -> tuple[RepositorySettings, ...]:
    reader = top.obj("repositories")
    if "repositories" not in top.values:
        problems.missing("repositories", '--path "repositories.<name>.source" services/<name>')
    if reader is None:
        return ()
    if not reader.values:
        problems.bad("repositories", "at least one repository (<name>: {source: ...})", {})
    result: list[RepositorySettings] = []
    for name in reader.values:
        if (
            not isinstance(name, str)
            or not 2 <= len(name) <= 256
            or not REPOSITORY_NAME.fullmatch(name)
        ):
            problems.bad(reader.child(str(name)), "an ECR repository name (lowercase)", name)
            continue
        repo = reader.obj(name)
        if repo is None:
            continue
        repo.check_keys(("source", "pullAccounts", "pullOrgId", "kmsKeyArn"))
        source = repo.string(
            "source",
            pattern=re.compile(r"(?!/)(?!.*(?:^|/)\.\.(?:/|$))[\w.-]+(?:/[\w.-]+)+"),
            expected="the image's Dockerfile directory, relative to the project (services/<name>)",
        )
        if "source" not in repo.values:
            problems.bad(repo.child("source"), "the image's Dockerfile directory", None)
        kms_key_arn = repo.string("kmsKeyArn", pattern=KMS_KEY_ARN, expected="a KMS key ARN")
        if kms_key_arn and region and f":kms:{region}:" not in kms_key_arn:
            problems.bad(repo.child("kmsKeyArn"), f"a KMS key in {region}", kms_key_arn)
        result.append(
            RepositorySettings(
                name=name,
                source=source or "",
                pull_accounts=repo.strings(
                    "pullAccounts",
                    pattern=ACCOUNT_ID,
                    expected="a 12-digit AWS account ID (in quotes, or set with `--type string`)",
                )
                or (),
                pull_org_id=repo.string(
                    "pullOrgId",
                    pattern=ORG_ID,
                    expected="an AWS Organizations ID such as 'o-a1b2c3d4e5'",
                ),
                kms_key_arn=kms_key_arn,
            )
        )
    return tuple(result)


def _assume_role(top: Reader) -> AssumeRoleSettings | None:
    reader = top.obj("assumeRole")
    if reader is None:
        return None
    reader.check_keys(("roleArn", "sessionName", "externalId"))
    role_arn = reader.string(
        "roleArn", pattern=ROLE_ARN, expected="an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    )
    if "roleArn" not in reader.values:
        top.problems.bad(reader.child("roleArn"), "an IAM role ARN", None)
    return AssumeRoleSettings(
        role_arn=role_arn or "",
        session_name=reader.string(
            "sessionName", pattern=SESSION_NAME, expected="2-64 characters of [\\w+=,.@-]"
        ),
        external_id=reader.string(
            "externalId", pattern=EXTERNAL_ID, expected="2-1224 characters of [\\w+=,.@:/-]"
        ),
    )


def _vendor(top: Reader) -> VendorSettings | None:
    stack = top.string(
        "vendorStack", pattern=STACK_NAME, expected="a stack name such as 'org/project/vendor'"
    )
    image = top.string(
        "vendorImage",
        pattern=ECR_IMAGE_BY_DIGEST,
        expected="an ECR image pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com"
        "/<name>@sha256:<64 hex digits>)",
    )
    arn = top.string(
        "vendorRepositoryArn",
        pattern=ECR_REPOSITORY_ARN,
        expected="an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)",
    )
    kms_key_arn = top.string("vendorKmsKeyArn", pattern=KMS_KEY_ARN, expected="a KMS key ARN")
    for key in ("vendorRepositoryArn", "vendorKmsKeyArn"):
        if key in top.values and "vendorImage" not in top.values:
            top.problems.got(key, "only together with `vendorImage`", "no `vendorImage`")
    if not any(key in top.values for key in ("vendorStack", "vendorImage", "vendorRepositoryArn")):
        return None
    if "vendorImage" in top.values and "vendorRepositoryArn" not in top.values:
        top.problems.missing(
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
            top.problems.bad(
                "vendorRepositoryArn", "the ARN of the repository `vendorImage` comes from", arn
            )
        # ECR encrypts with a key of the repository's own account and region.
        region, account = arn_parts.group("region", "account")
        if kms_key_arn and f":kms:{region}:{account}:" not in kms_key_arn:
            top.problems.bad(
                "vendorKmsKeyArn",
                f"a KMS key of the vendor repository's account {account} in {region}",
                kms_key_arn,
            )
    return VendorSettings(stack=stack, image=image, repository_arn=arn, kms_key_arn=kms_key_arn)


def _check_vendor_use(
    problems: Problems,
    app: AppSettings | None,
    vendor: VendorSettings | None,
    *,
    present: set[str],
) -> None:
    uses_vendor = app is not None and any(c.vendor_repository for c in app.containers)
    has_stack = "vendorStack" in present
    has_image = "vendorImage" in present
    if uses_vendor and has_stack and has_image:
        problems.add(ONLY_ONE_VENDOR_SOURCE)
    elif uses_vendor and vendor is None:
        problems.missing("vendorStack", "vendorStack <org>/<project>/vendor")
    elif not uses_vendor and vendor is not None:
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


def _app(top: Reader, region: str | None, repositories: set[str]) -> AppSettings | None:
    reader = top.obj("app")
    if reader is None:
        return None
    problems = reader.problems
    reader.check_keys(
        (
            "containers",
            "desiredCount",
            "maxCount",
            "cpu",
            "memory",
            "natGateways",
            "logRetentionDays",
            "certificateArn",
            "secretKmsKeyArn",
        )
    )
    desired = reader.integer("desiredCount", AppSettings.desired_count, minimum=1, maximum=1000)
    maximum = reader.integer("maxCount", AppSettings.max_count, minimum=1, maximum=1000)
    if maximum < desired:
        problems.bad(reader.child("maxCount"), f"at least desiredCount ({desired})", maximum)
    cpu = reader.integer("cpu", AppSettings.cpu, minimum=256, maximum=16384)
    memory = reader.integer("memory", AppSettings.memory, minimum=512, maximum=122880)
    if memory not in FARGATE_MEMORY_BY_CPU.get(cpu, (memory,)):
        problems.bad(
            reader.child("memory"),
            f"a Fargate memory size for cpu {cpu}: "
            f"{', '.join(map(str, FARGATE_MEMORY_BY_CPU[cpu]))} (see {FARGATE_SIZES_URL})",
            memory,
        )
    if cpu not in FARGATE_MEMORY_BY_CPU:
        problems.bad(
            reader.child("cpu"),
            f"a Fargate CPU size: {', '.join(map(str, FARGATE_MEMORY_BY_CPU))} "
            f"(see {FARGATE_SIZES_URL})",
            cpu,
        )
    nat = reader.string(
        "natGateways",
        pattern=re.compile("|".join(NAT_GATEWAY_STRATEGIES)),
        expected=f"{keys_text(NAT_GATEWAY_STRATEGIES)} (tasks reach ECR through NAT)",
    )
    retention = reader.integer(
        "logRetentionDays", AppSettings.log_retention_days, minimum=1, maximum=3653
    )
    if retention not in LOG_RETENTION_DAYS:
        problems.bad(
            reader.child("logRetentionDays"),
            f"a CloudWatch Logs retention: {', '.join(map(str, LOG_RETENTION_DAYS))}",
            retention,
        )
    certificate = reader.string(
        "certificateArn",
        pattern=CERTIFICATE_ARN,
        expected="an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
    )
    if certificate and region and f":acm:{region}:" not in certificate:
        problems.bad(
            reader.child("certificateArn"), f"a certificate in the stack's region {region}",
            certificate,
        )  # fmt: skip
    secret_kms_key = reader.string("secretKmsKeyArn", pattern=KMS_KEY_ARN, expected="a KMS key ARN")
    if secret_kms_key and region and f":kms:{region}:" not in secret_kms_key:
        problems.bad(reader.child("secretKmsKeyArn"), f"a KMS key in {region}", secret_kms_key)
    return AppSettings(
        containers=_containers(reader, repositories),
        desired_count=desired,
        max_count=maximum,
        cpu=cpu,
        memory=memory,
        nat_gateways=nat or AppSettings.nat_gateways,
        log_retention_days=retention,
        certificate_arn=certificate,
        secret_kms_key_arn=secret_kms_key,
    )


def _containers(app: Reader, repositories: set[str]) -> tuple[ContainerSettings, ...]:
    problems = app.problems
    path = app.child("containers")
    raw = decoded(app.raw("containers"))
    if not isinstance(raw, list) or not raw:
        problems.bad(path, "a non-empty list of containers", raw)
        return ()
    containers: list[ContainerSettings] = []
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.bad(item_path, "an object (name, port, repository, ...)", item)
            continue
        containers.append(_container(Reader(problems, item_path, item), repositories))
    names = [c.name for c in containers]
    ports = [c.port for c in containers]
    for index, container in enumerate(containers):
        item_path = f"{path}[{index}]"
        if names.index(container.name) != index:
            problems.bad(f"{item_path}.name", "a name no other container has", container.name)
        if ports.index(container.port) != index:
            # The containers of a Fargate task share one network namespace (localhost).
            problems.bad(f"{item_path}.port", "a port no other container uses", container.port)
        for dep_index, dependency in enumerate(container.depends_on):
            if dependency not in names or dependency == container.name:
                problems.bad(
                    f"{item_path}.dependsOn[{dep_index}]",
                    f"the name of another container ({keys_text(set(names) - {container.name})})",
                    dependency,
                )
    ingress = [c.name for c in containers if c.ingress]
    if len(ingress) != 1:
        problems.bad(path, "exactly one container with `ingress: true`", ingress)
    return tuple(containers)


def _container(reader: Reader, repositories: set[str]) -> ContainerSettings:
    problems = reader.problems
    reader.check_keys(
        ("name", "repository", "vendorRepository", "port", "ingress", "dependsOn", "environment")
    )
    name = reader.string("name", pattern=CONTAINER_NAME, expected="a container name")
    if "name" not in reader.values:
        problems.bad(reader.child("name"), "a container name", None)
    repository = reader.string("repository", pattern=REPOSITORY_NAME, expected="a repository name")
    if repository is not None and repository not in repositories:
        problems.bad(
            reader.child("repository"),
            f"a repository of this stack ({keys_text(repositories)})",
            repository,
        )
    vendor_repository = reader.string(
        "vendorRepository", pattern=REPOSITORY_NAME, expected="the vendor's repository name"
    )
    if ("repository" in reader.values) == ("vendorRepository" in reader.values):
        problems.got(
            reader.child("repository"),
            "exactly one of `repository` or `vendorRepository`",
            "both" if "repository" in reader.values else "neither",
        )
    if "port" not in reader.values:
        problems.bad(reader.child("port"), "a port from 1 to 65535", None)
    port = reader.integer("port", 0, minimum=1, maximum=65535)
    depends_on = reader.strings("dependsOn", pattern=CONTAINER_NAME, expected="a container name")
    return ContainerSettings(
        name=name or "",
        port=port,
        repository=repository,
        vendor_repository=vendor_repository,
        ingress=reader.boolean("ingress", False),
        depends_on=depends_on or (),
        environment=_environment(reader),
    )


def _environment(container: Reader) -> dict[str, str]:
    reader = container.obj("environment")
    if reader is None:
        return {}
    environment: dict[str, str] = {}
    for name, value in reader.values.items():
        if not ENV_NAME.fullmatch(name):
            reader.problems.bad(reader.child(name), "an environment variable name", name)
        elif name == "API_KEY":
            # The key reaches containers from Secrets Manager (`secrets`), never in plain text.
            reader.problems.got(reader.child(name), "no API_KEY (use the secret `apiKey`)", "one")
        elif not isinstance(value, str):
            reader.problems.bad(reader.child(name), "a string (quote numbers)", value)
        else:
            environment[name] = value
    return environment


def _project_values(project: str) -> dict[str, Any]:
    """Every `<project>:<key>` config value of the running stack, keyed by `<key>`."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def _is_secret_key(key: str) -> bool:
    # The language host copies PULUMI_CONFIG_SECRET_KEYS into the runtime; read both to be sure.
    return (
        runtime_config.is_config_secret(key) or key in runtime_config.get_config_secret_keys_env()
    )


def load_settings(project: str | None = None) -> Settings:
    """Read and validate the running stack's config (raises one ValueError listing all problems)."""
    project = project or pulumi.get_project()
    values = _project_values(project)
    config = pulumi.Config(project)
    api_key = config.get_secret("apiKey")
    values.pop("apiKey", None)
    return parse_settings(
        values,
        region=pulumi.Config("aws").get("region"),
        api_key=api_key,
        api_key_is_secret=_is_secret_key(f"{project}:apiKey"),
        secret_keys=frozenset(k for k in values if _is_secret_key(f"{project}:{k}")),
        project=project,
    )


def repository_output(repository_name: str, attribute: str) -> str:
    """The stack output a repository's attribute is exported under (and read by the customer).

    `repository_output("rake-app", "image_uri")` -> `"rake_app_image_uri"`.
    """
    return re.sub(r"[^a-z0-9]+", "_", repository_name) + f"_{attribute}"
