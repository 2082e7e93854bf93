"""Run the real `__main__.py` under Pulumi mocks and record everything it asks for.

    run = run_stack("vendor")                      # Pulumi.yaml defaults + Pulumi.vendor.yaml
    repo = only(run.resources, "aws:ecr/repository:Repository")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert run.exports["rake_app_image_uri"] == "111122223333.dkr.ecr...@sha256:..."

`run_stack(stack, overrides=..., remove=..., vendor_outputs=..., api_key=...)` changes the config
per test (keys without the project prefix, values as YAML would give them; `aws:region` keeps its
namespace). The customer's `vendorStack` StackReference resolves to `vendor_outputs` (default:
`VENDOR_OUTPUTS`, what the vendor stack file exports). Every run starts from fresh Pulumi runtime
state, so vendor and customer runs can share a session. A config error surfaces as the program's
own `ValueError`.

Fake resource outputs are realistic where a test or the program reads them: ECR URLs and ARNs are
computed from the stack's account, region and repository name; a docker Image's `repoDigest` is
`<repository url>@sha256:<64 hex>` (stable per image name); IAM ARNs carry the account. Types not
listed in `FAKE_OUTPUTS` echo their inputs plus an `arn`, so a component can add resources without
touching this file; add an entry when a test needs a computed attribute.

`preview=True` runs as a first preview does (`unknowns=False` keeps every fake known): a resource
being created knows only its inputs and its `name`; its ID and every other output (`arn`,
`repositoryUrl`, `repoDigest`, `dnsName`, `versionId`, a password...) are unknown, and so is
everything computed from them. `StackRun.unknown_exports` names the exports left unknown.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import runpy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ecr-cross-account"
MAIN = ROOT / "__main__.py"

# What the vendor stack file exports, as the customer's StackReference sees it.
VENDOR_ACCOUNT = "111122223333"
VENDOR_REGION = "us-east-2"
VENDOR_REPOSITORY_URL = f"{VENDOR_ACCOUNT}.dkr.ecr.{VENDOR_REGION}.amazonaws.com/rake-app"
VENDOR_IMAGE_URI = f"{VENDOR_REPOSITORY_URL}@sha256:{'ab' * 32}"
VENDOR_OUTPUTS: Mapping[str, Any] = {
    "account_id": VENDOR_ACCOUNT,
    "region": VENDOR_REGION,
    "rake_app_repository_url": VENDOR_REPOSITORY_URL,
    "rake_app_repository_arn": f"arn:aws:ecr:{VENDOR_REGION}:{VENDOR_ACCOUNT}:repository/rake-app",
    "rake_app_image_uri": VENDOR_IMAGE_URI,
    "rake_app_pull_accounts": ["999988887777"],
}
# The customer stack file's account and region.
CUSTOMER_ACCOUNT = "999988887777"
CUSTOMER_REGION = "us-west-2"
# Expected action lists, written out once for every test's exact-policy assertion.
PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
PULL_AND_DESCRIBE_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetDownloadUrlForLayer",
]
PULL_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]
# The `docker login` statement every identity grant carries (its exact test is in test_iam.py).
LOGIN_STATEMENT = {
    "Sid": "EcrLogin",
    "Effect": "Allow",
    "Action": ["ecr:GetAuthorizationToken"],
    "Resource": "*",
}
# The customer's secret `apiKey` in tests (never a real key).
TEST_API_KEY = "test-api-key-not-a-secret"

# Remote (multi-language) components: the engine would construct them in their own plugin; under
# mocks they are one recorded resource with the outputs below.
REMOTE_TYPES = frozenset({"awsx:ec2:Vpc"})


@dataclass(frozen=True)
class Resource:
    """One registration the program made, as the engine would have seen it."""

    type: str
    name: str
    inputs: dict[str, Any]
    # Provider reference "<provider urn>::<id>", or "" for the default provider.
    provider: str
    custom: bool
    remote: bool
    # True for reads such as StackReference (ReadResource), False for registrations.
    read: bool
    urn: str
    parent: str
    # Package -> provider reference a component passes on to its children (remote components
    # such as awsx's Vpc get their providers this way, not through `provider`).
    providers: dict[str, str] = field(default_factory=dict)
    # Resource options the engine sees: explicit `depends_on` URNs and `ignore_changes` names.
    dependencies: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    # `custom_timeouts` as the engine gets them: {"create": "30m", ...}, empty ones left out.
    custom_timeouts: dict[str, str] = field(default_factory=dict)

    @property
    def provider_urn(self) -> str:
        # URNs contain "::" themselves: the id is what follows the last one.
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class StackRun:
    """The outcome of one program run: resources, invokes, exports (values and secrecy)."""

    stack: str
    config: dict[str, Any]
    resources: list[Resource] = field(default_factory=list)
    # (token, args, provider reference) of every data-source invoke.
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)
    # Exports whose value is not known (previews only); they are not in `exports`.
    unknown_exports: set[str] = field(default_factory=set)

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def registered(self) -> list[tuple[str, str]]:
        """(type, logical name) of every resource, sorted: what a run would create."""
        return sorted((r.type, r.name) for r in self.resources)


def all_of(resources: list[Resource], type_token: str) -> list[Resource]:
    """Every recorded resource of one type, in registration order."""
    return [r for r in resources if r.type == type_token]


def only(resources: list[Resource], type_token: str) -> Resource:
    """The single resource of this type; fails naming the URNs found otherwise."""
    found = all_of(resources, type_token)
    assert len(found) == 1, f"expected one {type_token}, got {[r.urn for r in found]}"
    return found[0]


def named(resources: list[Resource], type_token: str, name: str) -> Resource:
    """The resource of this type with this logical name."""
    found = [r for r in all_of(resources, type_token) if r.name == name]
    assert len(found) == 1, f"expected one {type_token} named {name}, got {[r.urn for r in found]}"
    return found[0]


# How a secret input reaches the mock monitor: {SECRET_SIG_KEY: SECRET_SIG, "value": ...}.
SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig


def is_secret_input(value: Any) -> bool:
    """True when a recorded input value was a secret Output."""
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def unwrap_secret(value: Any) -> Any:
    """The plain value of a recorded secret input (assert `is_secret_input` first)."""
    assert is_secret_input(value), f"expected a secret input, got {value!r}"
    return value["value"]


def is_unknown_input(value: Any) -> bool:
    """True when a recorded input value was unknown (previews only)."""
    return isinstance(value, Unknown)


def fake_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _Context:
    account: str
    region: str
    vendor_outputs: Mapping[str, Any]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account}:{resource}"


def _ecr_repository(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    name = args.inputs.get("name", args.name)
    return {
        "arn": ctx.arn("ecr", f"repository/{name}"),
        "name": name,
        "registryId": ctx.account,
        "repositoryUrl": f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{name}",
    }


def _docker_image(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    image_name = str(args.inputs.get("imageName", args.name))
    repository = image_name.rsplit(":", 1)[0] if "/" in image_name else image_name
    return {
        "baseImageName": image_name,
        "repoDigest": f"{repository}@sha256:{fake_digest(image_name)}",
    }


def _iam(kind: str) -> Callable[[pulumi_mocks.MockResourceArgs, _Context], dict[str, Any]]:
    def outputs(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
        name = args.inputs.get("name", args.name)
        return {"arn": ctx.arn("iam", f"{kind}/{name}", regional=False), "name": name}

    return outputs


def _login_profile(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    # As the provider does: with a PGP key only the encrypted password, else the plain one.
    user = args.inputs["user"]
    if args.inputs.get("pgpKey"):
        return {"encryptedPassword": f"pgp-encrypted-password-of-{user}", "keyFingerprint": "fp"}
    return {"password": f"generated-password-for-{user}"}


def _access_key(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    user = args.inputs["user"]
    if args.inputs.get("pgpKey"):
        return {"encryptedSecret": f"pgp-encrypted-secret-of-{user}", "keyFingerprint": "fp"}
    return {"secret": f"secret-key-of-{user}"}


def fake_secret_version_id(secret_string: Any) -> str:
    """The version ID the mocks give a secret's value: a new value makes a new version, as in
    Secrets Manager (`secret_string`: the recorded input)."""
    return f"version-{fake_digest(repr(secret_string))[:12]}"


def _secret_version(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    return {"versionId": fake_secret_version_id(args.inputs["secretString"])}


def _vpc(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    return {
        "vpcId": "vpc-0123456789abcdef0",
        "publicSubnetIds": ["subnet-public-a", "subnet-public-b"],
        "privateSubnetIds": ["subnet-private-a", "subnet-private-b"],
        "isolatedSubnetIds": [],
    }


def _named(
    service: str, resource: str, **extra: str
) -> Callable[[pulumi_mocks.MockResourceArgs, _Context], dict[str, Any]]:
    """Outputs `name` (the input, else the logical name) and `arn` (`resource` with `{name}`)."""

    def outputs(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
        name = str(args.inputs.get("name", args.name))
        values = {"name": name, "region": ctx.region}
        return {
            "name": name,
            "arn": ctx.arn(service, resource.format(name=name)),
            **{key: value.format(**values) for key, value in extra.items()},
        }

    return outputs


def _s3_bucket(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    # The provider auto-names a bucket from its logical name; S3 ARNs have no region or account.
    bucket = str(args.inputs.get("bucket", args.name))
    return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _stack_reference(args: pulumi_mocks.MockResourceArgs, ctx: _Context) -> dict[str, Any]:
    return {"name": args.inputs.get("name"), "outputs": dict(ctx.vendor_outputs)}


Faker = Callable[[pulumi_mocks.MockResourceArgs, _Context], dict[str, Any]]

# Computed outputs per resource type (merged over the echoed inputs).
FAKE_OUTPUTS: dict[str, Faker] = {
    "aws:ecr/repository:Repository": _ecr_repository,
    "docker:index/image:Image": _docker_image,
    "aws:iam/group:Group": _iam("group"),
    "aws:iam/user:User": _iam("user"),
    "aws:iam/role:Role": _iam("role"),
    "aws:iam/policy:Policy": _iam("policy"),
    "aws:iam/userLoginProfile:UserLoginProfile": _login_profile,
    "aws:iam/accessKey:AccessKey": _access_key,
    "awsx:ec2:Vpc": _vpc,
    "pulumi:pulumi:StackReference": _stack_reference,
    "aws:cloudwatch/logGroup:LogGroup": _named("logs", "log-group:{name}"),
    "aws:secretsmanager/secret:Secret": _named("secretsmanager", "secret:{name}-AbCdEf"),
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:ecs/cluster:Cluster": _named("ecs", "cluster/{name}"),
    "aws:ecs/service:Service": _named("ecs", "service/{name}"),
    "aws:lb/loadBalancer:LoadBalancer": _named(
        "elasticloadbalancing",
        "loadbalancer/app/{name}/0123456789abcdef",
        dnsName="{name}-1234567890.{region}.elb.amazonaws.com",
        # The CloudWatch dimension; the zone is the Region's ELB hosted zone (us-west-2's here).
        arnSuffix="app/{name}/0123456789abcdef",
        zoneId="Z1H1FL5HABSF5",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("cloudwatch", "alarm:{name}"),
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:lb/targetGroup:TargetGroup": _named(
        "elasticloadbalancing",
        "targetgroup/{name}/0123456789abcdef",
        arnSuffix="targetgroup/{name}/0123456789abcdef",
    ),
}


def _fake_calls(ctx: _Context) -> dict[str, dict[str, Any]]:
    registry = f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com"
    return {
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
            "authorizationToken": "QVdTOmZha2UtZWNyLXBhc3N3b3Jk",
            "expiresAt": "2026-01-01T12:00:00Z",
            "id": ctx.region,
            "password": "fake-ecr-password",
            "proxyEndpoint": f"https://{registry}",
            "registryId": ctx.account,
            "userName": "AWS",
        },
        "aws:index/getCallerIdentity:getCallerIdentity": {
            "accountId": ctx.account,
            "arn": f"arn:aws:iam::{ctx.account}:user/tester",
            "id": ctx.account,
            "userId": "AIDATESTER",
        },
        "aws:index/getRegion:getRegion": {
            "name": ctx.region,
            "region": ctx.region,
            "id": ctx.region,
            "description": ctx.region,
            "endpoint": f"ec2.{ctx.region}.amazonaws.com",
        },
        "aws:index/getPartition:getPartition": {
            "id": "aws",
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
        },
    }


AVAILABILITY_ZONES_TOKEN = "aws:index/getAvailabilityZones:getAvailabilityZones"


def _availability_zones(ctx: _Context, args: Mapping[str, Any]) -> dict[str, Any]:
    """The region's zones as EC2 lists them, with an opted-in Local Zone that sorts first
    (`<region>-lax-1a`), unless a `zone-type` filter keeps standard zones only."""
    zones = {f"{ctx.region}-lax-1a": "local-zone"} | {
        f"{ctx.region}{letter}": "availability-zone" for letter in "abcd"
    }
    types = next(
        (f["values"] for f in args.get("filters") or [] if f.get("name") == "zone-type"), None
    )
    names = sorted(name for name, kind in zones.items() if types is None or kind in types)
    return {"id": ctx.region, "names": names, "zoneIds": [f"zone-{n}" for n in names]}


# What a first preview knows of a resource being created besides its inputs: the name the
# provider picks when none is given (auto-naming happens at preview).
PREVIEW_KNOWN_OUTPUTS = frozenset({"name"})


class RecordingMocks(pulumi_mocks.Mocks):
    """Records every resource and invoke; fakes outputs from the stack's account and region.

    With `unknowns`, answers as the engine does in a first preview (see the module docstring).
    """

    def __init__(self, run: StackRun, ctx: _Context, *, unknowns: bool = False) -> None:
        self.run = run
        self.ctx = ctx
        self.unknowns = unknowns
        self.current = threading.local()

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        meta = getattr(self.current, "meta", None) or {}
        self.current.meta = None
        self.run.resources.append(
            Resource(
                type=args.typ,
                name=args.name,
                inputs=args.inputs,
                provider=args.provider or "",
                custom=bool(args.custom),
                remote=bool(meta.get("remote")),
                read=bool(meta.get("read")),
                urn=str(meta.get("urn", "")),
                parent=str(meta.get("parent", "")),
                providers=dict(meta.get("providers", {})),
                dependencies=tuple(meta.get("dependencies", ())),
                ignore_changes=tuple(meta.get("ignore_changes", ())),
                delete_before_replace=bool(meta.get("delete_before_replace")),
                custom_timeouts=dict(meta.get("custom_timeouts", {})),
            )
        )
        faker = FAKE_OUTPUTS.get(args.typ)
        outputs = faker(args, self.ctx) if faker else {}
        if not faker and args.typ.startswith("aws:"):
            outputs = {"arn": self.ctx.arn(args.typ.split(":")[1].split("/")[0], args.name)}
        resource_id = args.resource_id or f"{args.name}-id"
        if self.unknowns and not meta.get("read") and not args.typ.startswith("pulumi:providers:"):
            # The mock monitor reports an empty ID as unknown in a preview.
            resource_id = ""
            outputs = {
                key: value if key in PREVIEW_KNOWN_OUTPUTS else rpc.UNKNOWN
                for key, value in outputs.items()
            }
        if args.typ in REMOTE_TYPES:
            # A component's outputs are not its inputs (awsx's `natGateways` input is a strategy,
            # its output a list of NatGateway resources): return only the faked ones.
            return resource_id, outputs
        return resource_id, {**args.inputs, **outputs}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.run.calls.append((args.token, args.args, args.provider or ""))
        if args.token == AVAILABILITY_ZONES_TOKEN:
            return _availability_zones(self.ctx, args.args), []
        return _fake_calls(self.ctx).get(args.token, {}), []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Passes what `MockResourceArgs` lacks (URN, parent, remote, read) to the recorder."""

    mocks: RecordingMocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802  (gRPC method name)
        self._note(request, read=False)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:  # noqa: N802  (gRPC method name)
        self._note(request, read=True)
        return super().ReadResource(request)  # type: ignore[no-untyped-call]

    def _note(self, request: Any, *, read: bool) -> None:
        # The mock calls new_resource synchronously on this thread, right after.
        self.mocks.current.meta = {
            "urn": self.make_urn(request.parent, request.type, request.name),
            "parent": request.parent,
            "remote": getattr(request, "remote", False),
            "read": read,
            "providers": dict(getattr(request, "providers", {})),
            "dependencies": list(getattr(request, "dependencies", [])),
            "ignore_changes": list(getattr(request, "ignoreChanges", [])),
            "delete_before_replace": getattr(request, "deleteBeforeReplace", False),
            "custom_timeouts": _timeouts(getattr(request, "customTimeouts", None)),
        }


def _timeouts(timeouts: Any) -> dict[str, str]:
    if timeouts is None:
        return {}
    values = {k: getattr(timeouts, k, "") for k in ("create", "update", "delete")}
    return {k: v for k, v in values.items() if v}


def yaml_config(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    config = loaded.get("config") or {}
    assert isinstance(config, dict), f"{path}: `config` is not a mapping"
    return config


def stack_config(stack: str) -> dict[str, Any]:
    """Pulumi.yaml's declared defaults, overlaid with Pulumi.<stack>.yaml (keys fully qualified)."""
    config: dict[str, Any] = {}
    for key, declaration in yaml_config(ROOT / "Pulumi.yaml").items():
        if isinstance(declaration, dict) and "default" in declaration:
            config[key if ":" in key else f"{PROJECT}:{key}"] = declaration["default"]
        elif isinstance(declaration, dict) and "value" in declaration:
            config[key] = declaration["value"]
    config.update(yaml_config(ROOT / f"Pulumi.{stack}.yaml"))
    return config


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def as_config_string(value: Any) -> str:
    """How the CLI hands a value to the program: strings as-is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def run_stack(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    remove: tuple[str, ...] = (),
    vendor_outputs: Mapping[str, Any] | None = None,
    api_key: str | None = TEST_API_KEY,
    api_key_is_secret: bool = True,
    preview: bool = False,
    unknowns: bool | None = None,
) -> StackRun:
    """Run `__main__.py` for `stack` under mocks and return what it registered and exported.

    `overrides` replace top-level keys (`{"accountId": "123"}`, `{"aws:region": "eu-west-1"}`),
    `remove` deletes keys, `api_key=None` leaves `apiKey` unset. `preview` and `unknowns`: see
    `run_program`. Raises what the program raises.
    """
    config = stack_config(stack)
    for key in remove:
        config.pop(_qualified(key), None)
    config.update({_qualified(k): v for k, v in (overrides or {}).items()})
    secret_keys: list[str] = []
    if api_key is not None:
        config[f"{PROJECT}:apiKey"] = api_key
        if api_key_is_secret:
            secret_keys.append(f"{PROJECT}:apiKey")

    return run_program(
        lambda: runpy.run_path(str(MAIN), run_name="__main__"),
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        vendor_outputs=vendor_outputs,
        preview=preview,
        unknowns=unknowns,
    )


def run_program(
    program: Callable[[], object],
    *,
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    vendor_outputs: Mapping[str, Any] | None = None,
    preview: bool = False,
    unknowns: bool | None = None,
) -> StackRun:
    """Run any Pulumi program function under the recording mocks (components in isolation).

    Fakes use the config's `accountId` and `aws:region` (default 111122223333, us-east-2).
    `preview=True` runs as `pulumi preview` does; there `unknowns` (default: `preview`) leaves
    what a first preview cannot know unknown, as the module docstring says.
    """
    config = dict(config or {})
    run = StackRun(stack=stack, config=config)
    ctx = _Context(
        account=str(config.get(f"{PROJECT}:accountId", VENDOR_ACCOUNT)),
        region=str(config.get("aws:region", VENDOR_REGION)),
        vendor_outputs=VENDOR_OUTPUTS if vendor_outputs is None else vendor_outputs,
    )
    mocks = RecordingMocks(run, ctx, unknowns=preview if unknowns is None else unknowns)
    _ensure_event_loop()

    # Fresh runtime state: no root stack, no config or outputs left by an earlier run.
    pulumi_settings.reset_options(project=PROJECT, stack=stack, preview=preview)
    set_all_config({k: as_config_string(v) for k, v in config.items()}, secret_keys or [])
    pulumi_mocks.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        monitor=RecordingMonitor(mocks),
    )
    root = pulumi_settings.get_root_resource()
    assert root is not None

    def body() -> None:
        program()

    _sync_await(run_pulumi_func(body))
    for name, value in getattr(root, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        if not _sync_await(output.is_known()):
            run.unknown_exports.add(name)
        else:
            run.exports[name] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            run.secret_exports.add(name)
    return run


def _ensure_event_loop() -> None:
    # Pulumi's mock runtime runs on the thread's current loop, and `asyncio.run` elsewhere in the
    # session (the load test, for one) leaves the thread without one.
    try:
        closed = asyncio.get_event_loop_policy().get_event_loop().is_closed()
    except RuntimeError:
        closed = True
    if closed:
        asyncio.set_event_loop(asyncio.new_event_loop())


def discard_failed_run() -> None:
    """Mark a failed run's errors as seen, after the test has asserted the one it expects.

    A run that fails inside an `apply` leaves every dependent future holding the error, and the
    runtime's context variables keep them alive; asyncio would log each one as "Future exception
    was never retrieved" when the interpreter exits.
    """
    # Registrations still in flight when the run raised finish first (and fail the same way).
    loop = asyncio.get_event_loop()
    pending = asyncio.all_tasks(loop)
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()


def resolve(output: pulumi.Output[Any]) -> Any:
    """The value of an Output built outside a program run (pure grants, settings)."""
    return _sync_await(output.future())
