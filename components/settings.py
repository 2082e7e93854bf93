"""Every stack setting, declared once: its key, type, default, constraint and description.

The pydantic models below are the config's one declaration: `parse_settings()` validates with
them, docs/configuration.md is generated from them (`python -m components.settings_docs`), and a
test holds Pulumi.yaml's declared keys to them. Defaults that configure a component are the
component's own (`FargateAppArgs.cpu`, ...). Config keys keep Pulumi's camelCase in the stack
files and in error messages; everything past this module is snake_case.

Validation collects every problem and raises them together as one `ValueError`, one per line, in
one format: `ecr-cross-account:keepReleaseImages: expected an integer from 1 to 1000, got 0.`
First each value is checked on its own (every such problem at once); when all are valid, the
rules between values (components/settings_rules.py) are checked. Values set with `--secret` are
never shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from components.alarms import AlarmThresholds
from components.aws_values import (
    ACCOUNT_ID,
    CERTIFICATE_ARN,
    CONTAINER_NAME,
    DOMAIN_NAME,
    ECR_ENCRYPTION_URL,
    ECR_IMAGE_BY_DIGEST,
    ECR_REPOSITORY_ARN,
    ENV_NAME,
    EXTERNAL_ID,
    FARGATE_MEMORY_BY_CPU,
    FARGATE_SIZES_URL,
    HOSTED_ZONE_ID,
    IAM_GROUP_NAME,
    IAM_NAME,
    IMAGE_TAG,
    KMS_KEY_ARN,
    LOG_RETENTION_DAYS,
    NAT_GATEWAY_STRATEGIES,
    NAT_LESS_STRATEGY,
    ORG_ID,
    PGP_KEY,
    REGION,
    REPOSITORY_NAME,
    ROLE_ARN,
    SESSION_NAME,
    SNS_TOPIC_ARN,
    STACK_NAME,
)
from components.config_errors import Problems, keys_text
from components.config_types import (
    CONFIG_ERROR,
    Boolean,
    Check,
    CidrBlock,
    Integer,
    Missing,
    Number,
    Refuse,
    Retired,
    Structured,
    Text,
    invalid,
)
from components.dev_user_group import DevUserGroupArgs
from components.fargate_app import API_KEY_ENV, AVAILABILITY_ZONE_COUNT, FargateAppArgs
from components.load_balancer import ALB_IDLE_TIMEOUT_SECONDS
from components.mirror import (
    CACHE_PREFIX,
    DEFAULT_CACHE_PREFIX,
    MIRROR_NONE,
    SCANNING_BASIC,
    SCANNING_TYPES,
    VENDOR_MIRRORS,
)
from components.operations import OperationsArgs
from components.scaling import ScalingTargets
from components.settings_rules import check_rules
from components.shared_repo import SharedRepoArgs
from components.vendor import VendorSource
from components.waf import MAX_RATE_LIMIT, MIN_RATE_LIMIT

PROJECT: Final = "ecr-cross-account"
REGION_KEY: Final = "aws:region"

KMS_KEY: Final = Text("a KMS key ARN", KMS_KEY_ARN)


def one_of(values: tuple[str, ...]) -> Text:
    """A string that is exactly one of `values`."""
    return Text(keys_text(values), re.compile("|".join(map(re.escape, values))))


# An account ID in a list (`pulumi config set --path 'ids[0]' 222222222222` stores a number).
AccountId = Annotated[
    str,
    Text(
        "a 12-digit AWS account ID (in quotes, or set with `--type string`)",
        ACCOUNT_ID,
        numbers=True,
    ),
]
# A name of 2 to 256 characters (CreateRepository's limits), lowercase.
REPOSITORY_KEY: Final = re.compile(rf"(?=.{{2,256}}$){REPOSITORY_NAME.pattern}")


class ConfigModel(BaseModel):
    """A config object: camelCase keys, no unknown ones, frozen once validated."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        # Config is validated by its camelCase keys only (parse_settings); code and tests build
        # models with the snake_case names.
        validate_by_alias=True,
        validate_by_name=True,
        arbitrary_types_allowed=True,
    )


class AssumeRoleSettings(ConfigModel):
    """The role the AWS provider assumes (config `assumeRole`)."""

    role_arn: Annotated[
        str, Text("an IAM role ARN (arn:aws:iam::<account>:role/<name>)", ROLE_ARN)
    ] = Field(description="The role to deploy as.")
    session_name: Annotated[str, Text("2-64 characters of [\\w+=,.@-]", SESSION_NAME)] | None = (
        Field(None, description="The assumed role's session name (default: Pulumi's own).")
    )
    external_id: Annotated[str, Text("2-1224 characters of [\\w+=,.@:/-]", EXTERNAL_ID)] | None = (
        Field(None, description="External ID (default: none; the role's trust policy decides).")
    )


class DevelopersSettings(ConfigModel):
    """The stack's developer group and its members (config `developers`)."""

    group: Annotated[str, Text("an IAM group name", IAM_GROUP_NAME)] = Field(
        description="IAM group allowed to push and pull the stack's repositories."
    )
    users: Annotated[
        tuple[Annotated[str, Text("an IAM user name", IAM_NAME)], ...],
        Structured(list, unique=True),
    ] = Field((), description="IAM users created in the group (default: none).")


class ReplicationDestinationSettings(ConfigModel):
    """A registry a repository replicates to (config `repositories.<name>.replicateTo[i]`)."""

    account: AccountId = Field(description="The destination registry's account.")
    region: Annotated[str, Text("an AWS region name such as 'us-west-2'", REGION)] = Field(
        description="The destination registry's region."
    )

    def __repr__(self) -> str:
        # As the user wrote it, in an error naming a repeated destination.
        return repr(self.model_dump(by_alias=True))


class RepositorySettings(ConfigModel):
    """One ECR repository of this stack and who may pull from it (config `repositories.<name>`)."""

    source: Annotated[
        str,
        Text(
            "the image's Dockerfile directory, relative to the project (services/<name>)",
            re.compile(r"(?!/)(?!.*(?:^|/)\.\.(?:/|$))[\w.-]+(?:/[\w.-]+)+"),
        ),
    ] = Field(
        description=(
            "Dockerfile directory, relative to the project; its COPY paths are relative to its "
            "parent, and the image builds from exactly the files it copies."
        )
    )
    pull_accounts: Annotated[tuple[AccountId, ...], Structured(list, unique=True)] = Field(
        (), description="Accounts that may pull its images (default: none)."
    )
    pull_org_id: (
        Annotated[str, Text("an AWS Organizations ID such as 'o-a1b2c3d4e5'", ORG_ID)] | None
    ) = Field(None, description="An organization whose accounts may pull (default: none).")
    kms_key_arn: Annotated[str, KMS_KEY] | None = Field(
        None, description="KMS key of the stack's region (default: AES256, an AWS-owned key)."
    )
    # ---- Copies in the consumers' regions (docs/mirroring.md) ----
    cache_accounts: Annotated[tuple[AccountId, ...], Structured(list, unique=True)] = Field(
        (),
        description="Accounts that may copy its images into their registry through an ECR "
        "pull-through cache: the grant AWS documents for that (default: none).",
    )
    replicate_to: Annotated[
        tuple[ReplicationDestinationSettings, ...], Structured(list, unique=True)
    ] = Field((), description="Registries its images replicate to, as pushed (default: none).")


class ContainerSettings(ConfigModel):
    """One container of the app's task (config `app.containers[i]`)."""

    name: Annotated[str, Text("a container name", CONTAINER_NAME)] = Field(
        description="The container's name in the task (dependsOn names it)."
    )
    repository: Annotated[str, Text("a repository name", REPOSITORY_NAME)] | None = Field(
        None, description="Runs this stack's image of that repository (or vendorRepository)."
    )
    vendor_repository: (
        Annotated[str, Text("the vendor's repository name", REPOSITORY_NAME)] | None
    ) = Field(None, description="Runs the vendor's image of that repository (or repository).")
    port: Annotated[int, Integer(1, 65535)] = Field(
        description="Where the container listens: health check, port mapping, target group; "
        "for nlp-client, rake-app and prose-app the stack also sets the service's port variable."
    )
    ingress: Annotated[bool, Boolean()] = Field(
        False, description="The load balancer's target (exactly one container is)."
    )
    depends_on: Annotated[
        tuple[Annotated[str, Text("a container name", CONTAINER_NAME)], ...],
        Structured(list, unique=True),
    ] = Field((), description="Containers that must be healthy before this one starts.")
    environment: Annotated[
        dict[
            Annotated[
                str,
                Text("an environment variable name", ENV_NAME),
                Refuse(API_KEY_ENV, "no API_KEY (use the secret `apiKey`)", "one"),
            ],
            Annotated[str, Text("a string (quote numbers)")],
        ],
        Structured(dict),
    ] = Field(
        default_factory=dict,
        description="Environment variables (never API_KEY: it comes from the secret apiKey).",
    )


# ---- Running the app like production (components/operations.py, docs/operations.md) ----------

# A percentage a CloudWatch alarm or a scaling policy compares with.
PERCENT: Final = Number(0, 100)


class AlarmSettings(ConfigModel):
    """When each of the app's alarms fires (config `app.alarms`); docs/operations.md says why
    each default is what it is."""

    target_5xx_count: Annotated[int, Integer(1, 100_000)] = Field(
        AlarmThresholds.target_5xx_count,
        alias="target5xxCount",
        description="5xx answers of the app in a minute, in 2 of 3 minutes (also rolls a "
        "deployment back).",
    )
    target_5xx_percent: Annotated[float, PERCENT] = Field(
        AlarmThresholds.target_5xx_percent,
        alias="target5xxPercent",
        description="Percent of the app's answers that are 5xx, in 2 of 3 minutes.",
    )
    rate_min_requests: Annotated[int, Integer(1, 1_000_000)] = Field(
        AlarmThresholds.rate_min_requests,
        description="Requests in a minute below which the 5xx percentage is not judged.",
    )
    elb_5xx_count: Annotated[int, Integer(1, 100_000)] = Field(
        AlarmThresholds.elb_5xx_count,
        alias="elb5xxCount",
        description="5xx answers the load balancer makes itself in a minute, in 2 of 3 minutes.",
    )
    unhealthy_hosts: Annotated[int, Integer(1, 1000)] = Field(
        AlarmThresholds.unhealthy_hosts,
        description="Unhealthy targets, in 2 of 3 minutes (also rolls a deployment back).",
    )
    # Nothing answers later than the load balancer's idle timeout.
    latency_p99_seconds: Annotated[float, Number(0, ALB_IDLE_TIMEOUT_SECONDS)] = Field(
        AlarmThresholds.latency_p99_seconds,
        description="p99 response time of the app in seconds, 3 minutes in a row.",
    )
    # CloudWatch evaluates at most a day of one-minute periods.
    tasks_below_desired_minutes: Annotated[int, Integer(1, 1440)] = Field(
        AlarmThresholds.tasks_below_desired_minutes,
        description="Minutes in a row with fewer tasks running than desired.",
    )
    cpu_percent: Annotated[float, PERCENT] = Field(
        AlarmThresholds.cpu_percent, description="Average CPU of the service, 5 minutes in a row."
    )
    memory_percent: Annotated[float, PERCENT] = Field(
        AlarmThresholds.memory_percent,
        description="Average memory of the service, 5 minutes in a row.",
    )


class AutoscalingSettings(ConfigModel):
    """What the app scales on (config `app.autoscaling`): a target-tracking policy per key, `null`
    for none; at least one stays."""

    cpu: Annotated[float, PERCENT] | None = Field(
        ScalingTargets.cpu_percent, description="Average CPU percent to keep the service at."
    )
    memory: Annotated[float, PERCENT] | None = Field(
        ScalingTargets.memory_percent, description="Average memory percent to keep it at."
    )
    requests_per_target: Annotated[float, Number(0, 1_000_000)] | None = Field(
        ScalingTargets.requests_per_target,
        description="Load balancer requests per task a minute to keep it at.",
    )


class DomainSettings(ConfigModel):
    """The app's DNS name (config `app.domain`): a Route 53 alias record to the load balancer."""

    name: Annotated[str, Text("a lowercase DNS name such as 'nlp.example.com'", DOMAIN_NAME)] = (
        Field(description="The name clients call; `service_url` becomes https://<name>.")
    )
    zone_id: Annotated[
        str, Text("a Route 53 hosted zone ID such as 'Z0123456789ABCDEFGHIJ'", HOSTED_ZONE_ID)
    ] = Field(description="The account's hosted zone the name belongs to.")


class AppSettings(ConfigModel):
    """The Fargate app (config `app`); absent on stacks that only publish images."""

    containers: Annotated[
        tuple[ContainerSettings, ...],
        Structured(list, expected="a non-empty list of containers", min_items=1),
    ] = Field(description="The task's containers.")
    desired_count: Annotated[int, Integer(1, 1000)] = Field(
        FargateAppArgs.desired_count, description="Tasks to run (and the autoscaling minimum)."
    )
    max_count: Annotated[int, Integer(1, 1000)] = Field(
        FargateAppArgs.max_count, description="Autoscaling maximum (at least desiredCount)."
    )
    cpu: Annotated[
        int,
        Integer(
            256,
            16384,
            allowed=tuple(FARGATE_MEMORY_BY_CPU),
            allowed_expected=f"a Fargate CPU size: {', '.join(map(str, FARGATE_MEMORY_BY_CPU))} "
            f"(see {FARGATE_SIZES_URL})",
        ),
    ] = Field(FargateAppArgs.cpu, description="CPU units of the whole task.")
    memory: Annotated[int, Integer(512, 122880)] = Field(
        FargateAppArgs.memory, description="MiB of the whole task (a Fargate size for cpu)."
    )
    nat_gateways: Annotated[
        str,
        Text(
            f"{keys_text((*NAT_GATEWAY_STRATEGIES, NAT_LESS_STRATEGY))} "
            f"(`{NAT_LESS_STRATEGY}` only with VPC endpoints and an image in the stack's region)",
            re.compile("|".join((*NAT_GATEWAY_STRATEGIES, NAT_LESS_STRATEGY))),
        ),
    ] = Field(FargateAppArgs.nat_gateways, description="NAT gateways of the VPC.")
    vpc_endpoints: Annotated[bool, Boolean()] = Field(
        FargateAppArgs.vpc_endpoints,
        description="Tasks reach ECR, S3, CloudWatch Logs and Secrets Manager (and KMS with "
        "secretKmsKeyArn) through VPC endpoints in the private subnets, not NAT.",
    )
    # Standard zones of the stack's region only (settings_rules): Local and Wavelength zones have
    # no load balancer.
    availability_zones: Annotated[
        tuple[
            Annotated[
                str, Text("a standard availability zone of the stack's region ('us-east-2a')")
            ],
            ...,
        ],
        Structured(
            list,
            expected=f"at least {AVAILABILITY_ZONE_COUNT} zones "
            f"(the load balancer needs {AVAILABILITY_ZONE_COUNT})",
            min_items=AVAILABILITY_ZONE_COUNT,
            unique=True,
        ),
    ] = Field(
        tuple(FargateAppArgs.availability_zones),
        description="Zones the VPC spans (default: the region's first two standard zones, looked "
        "up at deploy time); changing them after the first deploy re-carves the subnets.",
    )
    log_retention_days: Annotated[
        int,
        Integer(
            1,
            3653,
            allowed=LOG_RETENTION_DAYS,
            allowed_expected="a CloudWatch Logs retention: "
            + ", ".join(map(str, LOG_RETENTION_DAYS)),
        ),
    ] = Field(FargateAppArgs.log_retention_days, description="Days the containers' logs are kept.")
    certificate_arn: (
        Annotated[
            str,
            Text(
                "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
                CERTIFICATE_ARN,
            ),
        ]
        | None
    ) = Field(None, description="ACM certificate: HTTPS, and HTTP redirects (default: HTTP only).")
    secret_kms_key_arn: Annotated[str, KMS_KEY] | None = Field(
        None, description="KMS key of the API-key secret (default: aws/secretsmanager)."
    )
    # ---- Running it like production (docs/operations.md) ----
    alarms: Annotated[AlarmSettings, Structured(dict)] = Field(
        default_factory=AlarmSettings, description="When the app's alarms fire."
    )
    alarm_topic_arn: (
        Annotated[
            str, Text("an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)", SNS_TOPIC_ARN)
        ]
        | None
    ) = Field(
        None,
        description="Where the alarms notify (default: an SNS topic the stack creates and "
        "exports as alarm_topic_arn; subscribe to it).",
    )
    access_log_retention_days: Annotated[int, Integer(1, 3653)] = Field(
        OperationsArgs.access_log_retention_days,
        description="Days the load balancer's access logs are kept (bucket exported as "
        "access_log_bucket).",
    )
    waf: Annotated[bool, Boolean()] = Field(
        OperationsArgs.waf,
        description="An AWS WAF web ACL on the load balancer: a per-IP rate limit and AWS's "
        "common and known-bad-inputs rules.",
    )
    waf_rate_limit: Annotated[int, Integer(MIN_RATE_LIMIT, MAX_RATE_LIMIT)] = Field(
        OperationsArgs.waf_rate_limit,
        description="Requests from one client IP in 5 minutes above which the web ACL blocks it.",
    )
    autoscaling: Annotated[AutoscalingSettings, Structured(dict)] = Field(
        default_factory=AutoscalingSettings,
        description="Target tracking between desiredCount and maxCount.",
    )
    allowed_cidrs: (
        Annotated[
            tuple[Annotated[str, CidrBlock()], ...],
            Structured(list, unique=True),
        ]
        | None
    ) = Field(None, description="CIDR blocks that may reach the load balancer (default: anywhere).")
    internal: Annotated[bool, Boolean()] = Field(
        OperationsArgs.internal,
        description="Put the load balancer in the private subnets, reachable from the VPC (and "
        "allowedCidrs) only; changing it replaces the load balancer.",
    )
    domain: Annotated[DomainSettings, Structured(dict)] | None = Field(
        None, description="A Route 53 name for the app (needs certificateArn)."
    )

    @property
    def ingress(self) -> ContainerSettings:
        """The one container behind the load balancer."""
        return next(c for c in self.containers if c.ingress)


def _secret_output(value: Any) -> pulumi.Output[str] | None:
    if value is not None and not isinstance(value, pulumi.Output):
        raise invalid("a secret (`pulumi config set --secret apiKey <value>`)", got="a value")
    return value


class Settings(ConfigModel):
    """Everything a stack's config says, validated (keys without the `<project>:` prefix)."""

    account_id: Annotated[
        str,
        Text("a 12-digit AWS account ID (in quotes)", ACCOUNT_ID),
        Missing("accountId <12-digit account ID>"),
    ] = Field(
        description="12-digit AWS account ID this stack deploys to "
        "(the provider refuses any other account)."
    )
    region: Annotated[
        str,
        Text("an AWS region name such as 'us-east-2'", REGION),
        Missing(f"{REGION_KEY} <region, e.g. us-east-2>"),
    ] = Field(alias=REGION_KEY, description="The region this stack deploys to.")
    developers: Annotated[
        DevelopersSettings,
        Structured(dict),
        Missing("--path developers.group Development"),
    ] = Field(description="The developer group and its users.")
    repositories: Annotated[
        dict[
            Annotated[str, Text("an ECR repository name (lowercase)", REPOSITORY_KEY)],
            RepositorySettings,
        ],
        Structured(dict, expected="at least one repository (<name>: {source: ...})", min_items=1),
        Missing('--path "repositories.<name>.source" services/<name>'),
    ] = Field(description="This stack's ECR repositories by name, each with its image.")
    image_tag: Annotated[
        str, Text("a Docker tag such as '1.1.0' (at most 115 characters)", IMAGE_TAG)
    ] = Field(
        "1.1.0",
        description="Release tag of the images this stack builds and pushes (tags are immutable).",
    )
    force_delete: Annotated[bool, Boolean()] = Field(
        SharedRepoArgs.force_delete,
        description="Let `pulumi destroy` delete repositories that still hold images, and the "
        "access-log bucket with its logs.",
    )
    keep_release_images: Annotated[int, Integer(1, 1000)] = Field(
        SharedRepoArgs.keep_release_images,
        description="How many tagged release images each repository keeps (older ones expire).",
    )
    assume_role: Annotated[AssumeRoleSettings, Structured(dict)] | None = Field(
        None, description="A role the AWS provider assumes (default: the ambient credentials)."
    )
    pgp_key: (
        Annotated[
            str,
            Text(
                "a base64 PGP public key on one line (`gpg --export <id> | base64 -w0`) "
                "or keybase:<user>",
                PGP_KEY,
            ),
        ]
        | None
    ) = Field(
        DevUserGroupArgs.pgp_key,
        description="Developers get a generated console password, exported only encrypted to "
        "this key (default: no password; an administrator gives the first one).",
    )
    create_access_keys: Annotated[bool, Boolean()] = Field(
        DevUserGroupArgs.create_access_keys,
        description="Give each developer a long-lived access key (needs pgpKey; the secret is "
        "exported only PGP-encrypted); prefer SSO.",
    )
    vendor_stack: (
        Annotated[str, Text("a stack name such as 'org/project/vendor'", STACK_NAME)] | None
    ) = Field(None, description="The vendor stack whose outputs name its images.")
    vendor_image: (
        Annotated[
            str,
            Text(
                "an ECR image pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com"
                "/<name>@sha256:<64 hex digits>)",
                ECR_IMAGE_BY_DIGEST,
            ),
        ]
        | None
    ) = Field(None, description="The vendor's image by digest, instead of vendorStack.")
    vendor_repository_arn: (
        Annotated[
            str,
            Text(
                "an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)",
                ECR_REPOSITORY_ARN,
            ),
        ]
        | None
    ) = Field(None, description="The ARN of the repository vendorImage comes from.")
    # Known so that a stack file from before gets the reason, not "unknown key".
    vendor_kms_key_arn: (
        Annotated[
            str,
            Retired(
                "no key: pulling from a KMS-encrypted repository needs no key permission, ECR "
                f"decrypts with its own grant ({ECR_ENCRYPTION_URL})",
                got="a key ARN",
            ),
        ]
        | None
    ) = Field(None, description="Refused: a pull needs no permission on the vendor's KMS key.")
    # ---- The vendor's image in this region, and registry scanning (docs/mirroring.md) ----
    vendor_mirror: Annotated[str, one_of(VENDOR_MIRRORS)] = Field(
        MIRROR_NONE,
        description="Where tasks pull the vendor's image: none (the vendor's registry), "
        "pullThroughCache or replication (a copy in this stack's registry).",
    )
    vendor_mirror_prefix: Annotated[
        str, Text("2 to 30 characters of lowercase repository-name segments", CACHE_PREFIX)
    ] = Field(
        DEFAULT_CACHE_PREFIX,
        description="With pullThroughCache: the copies are named <prefix>/<vendor repository>.",
    )
    accept_replication_from: Annotated[tuple[AccountId, ...], Structured(list, unique=True)] = (
        Field(
            (),
            description="Vendor accounts whose replication may create and fill the app's vendor "
            "repositories in this registry (default: none).",
        )
    )
    scanning: Annotated[str, one_of(SCANNING_TYPES)] = Field(
        SCANNING_BASIC,
        description="basic: scan on push; enhanced: Amazon Inspector scans the stack's "
        "repositories continuously (a setting of the whole registry in this region).",
    )
    app: Annotated[AppSettings, Structured(dict)] | None = Field(
        None, description="The Fargate app (default: none; the stack only publishes images)."
    )
    # Set with `pulumi config set --secret apiKey`; read as a secret Output, never as a value.
    api_key: Annotated[pulumi.Output[str] | None, PlainValidator(_secret_output)] = Field(
        None, description="The API key every container receives as API_KEY (a secret)."
    )

    @property
    def vendor(self) -> VendorSource | None:
        """Where the vendor's images come from; None when no vendor key is set."""
        if not (self.vendor_stack or self.vendor_image or self.vendor_repository_arn):
            return None
        return VendorSource(
            stack=self.vendor_stack,
            image=self.vendor_image,
            repository_arn=self.vendor_repository_arn,
        )


def _path(loc: tuple[str | int, ...]) -> str:
    """`("app", "containers", 0, "port")` -> `app.containers[0].port` (dict keys by name)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # the error is the key itself, named by the path so far
            path += f".{part}" if path else part
    return path


def _unwrapped(annotation: Any) -> Any:
    """The type inside `Annotated[...]` and `X | None`."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif type(None) in get_args(annotation):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _lookup(loc: tuple[str | int, ...]) -> tuple[type[ConfigModel] | None, FieldInfo | None]:
    """The model whose key the last part of `loc` is, and that key's field (None if unknown)."""
    annotation: Any = Settings
    model: type[ConfigModel] | None = None
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrapped(annotation)
        if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
            model = annotation
            field = next((f for f in model.model_fields.values() if f.alias == part), None)
            if field is None:
                return model, None
            annotation = field.annotation
        else:  # an item of tuple[X, ...] or a value of dict[K, V]
            args = get_args(annotation)
            if not args:  # `[key]`: the error is a dict's key
                return None, None
            annotation = args[0] if get_origin(annotation) is tuple else args[-1]
            model, field = None, None
    return model, field


def _expected(field: FieldInfo | None) -> str:
    for marker in field.metadata if field else ():
        if isinstance(marker, Check):
            return marker.expected
    return "a value"


def _report(error: ErrorDetails, problems: Problems) -> None:
    """One pydantic error as the one line of config_errors' format."""
    loc, context, value = error["loc"], error.get("ctx") or {}, error["input"]
    path = _path(loc)
    model, field = _lookup(loc)
    if error["type"] == CONFIG_ERROR:
        if "index" in context:
            path += f"[{context['index']}]"
        if "got" in context:
            problems.got(path, context["expected"], context["got"])
        else:
            problems.bad(path, context["expected"], context.get("value", value))
    elif error["type"] == "missing":
        how = next((m for m in field.metadata if isinstance(m, Missing)), None) if field else None
        if how is not None:
            problems.missing(path, how.how)
        else:
            problems.bad(path, _expected(field), None)
    elif error["type"] == "extra_forbidden" and model is not None:
        known = [f.alias for f in model.model_fields.values() if f.alias and ":" not in f.alias]
        problems.bad(path, f"{keys_text(known)} (unknown key)", loc[-1])
    elif error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        problems.bad(path, "an object (key: value pairs)", value)
    else:  # no other error is expected; its message never holds the value
        problems.bad(path, error["msg"], value)


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
    data = dict(values)
    if region is not None:
        data[REGION_KEY] = region
    if api_key is not None:
        data["apiKey"] = api_key
    try:
        settings = Settings.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as error:
        # Unknown keys first, outer ones first: a misspelt key explains the missing one it was
        # meant to be.
        errors = sorted(
            error.errors(), key=lambda e: (e["type"] != "extra_forbidden", len(e["loc"]))
        )
        for details in errors:
            _report(details, problems)
        # `from None`: pydantic's own message shows the values, secrets included.
        raise ValueError("\n".join(problems.lines)) from None
    check_rules(settings, problems, api_key_is_secret=api_key_is_secret)
    problems.raise_if_any()
    return settings


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
