"""Pure helpers of the two-account acceptance test: what it needs, names, config, expectations.

Nothing here needs AWS or the Pulumi CLI (the HTTP helpers call only the URL they are given), so
`tests/acceptance/test_harness.py` checks every rule in the normal suite, on loopback.
`test_two_accounts.py` drives Pulumi's Automation API with them.

A run collides with neither the real stacks (README.md, "Deploy both stacks") nor another
run in the same accounts: its stacks are `acc-<token>-vendor` and `acc-<token>-customer`, and
every physical name the config sets (the ECR repositories, the developers group and its users)
ends in `-acc-<token>`. The task definition's family is named after the stack
(`acc-<token>-customer-app`), and Pulumi auto-names everything else the program creates (a random
suffix per stack). `test_configs_under_mocks.py` checks all of this.

The test is configured by environment variables (docs/acceptance.md):

    VENDOR_ACCOUNT_ID, CUSTOMER_ACCOUNT_ID     the two 12-digit account IDs
    VENDOR_AWS_PROFILE or VENDOR_ROLE_ARN      credentials for the vendor account: a named
    CUSTOMER_AWS_PROFILE or CUSTOMER_ROLE_ARN  profile, and/or a role the provider assumes
                                               (from the profile, else ambient credentials)
    PULUMI_BACKEND_URL                         optional self-managed backend (default: a
                                               file:// backend in a temporary directory)
"""

from __future__ import annotations

import copy
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from components.alarms import AlarmThresholds, alarm_inputs
from components.aws_values import ACCOUNT_ID, ROLE_ARN
from components.fargate_app import FargateAppArgs
from components.settings import PROJECT
from tools.live_check import http_json as http_json  # the acceptance test calls the API with it
from tools.live_check import wait_for_200

SIDES: Final = ("vendor", "customer")
STATIC_KEY_VARIABLES: Final = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

# A self-managed ("DIY") backend: its fully qualified stack names use this literal organization.
# https://www.pulumi.com/docs/iac/concepts/state-and-backends/#using-a-self-managed-backend
DIY_ORGANIZATION: Final = "organization"
SELF_MANAGED_BACKEND = re.compile(r"(file|s3|gs|azblob|postgres)://.*")

# The seed's example and its exact keywords, in order (docs/api.md, "Try it").
SEED_TEXT: Final = (
    "The Internet is the global system of interconnected computer networks that use the "
    "Internet protocol suite to link devices worldwide."
)
SEED_KEYWORDS: Final = [
    {"candidate": "interconnected computer networks", "score": 9},
    {"candidate": "link devices worldwide", "score": 9},
    {"candidate": "internet protocol suite", "score": 8},
    {"candidate": "global system", "score": 4},
    {"candidate": "internet", "score": 2},
]

# NAT gateways a VPC over two AZs gets for each `app.natGateways` strategy.
NAT_GATEWAYS_BY_STRATEGY: Final = {"None": 0, "Single": 1, "OnePerAz": 2}


def _key(name: str) -> str:
    return f"{PROJECT}:{name}"


@dataclass(frozen=True, kw_only=True)
class AccountAccess:
    """How the test reaches one account: its ID, and a profile and/or a role to assume."""

    side: str
    account_id: str
    # Default: the ambient credentials (environment, default profile, instance role).
    profile: str | None = None
    # Default: no role; the profile's (or ambient) identity deploys.
    role_arn: str | None = None

    def process_env(self) -> dict[str, str]:
        """What the `pulumi` process for this account's stack gets in its environment. With a
        profile, static keys in the environment are blanked: the AWS SDKs prefer them to
        AWS_PROFILE, and they may belong to the other account."""
        if not self.profile:
            return {}
        return {"AWS_PROFILE": self.profile} | dict.fromkeys(STATIC_KEY_VARIABLES, "")


def env_names(side: str) -> tuple[str, str, str]:
    """One side's variables: account ID, profile, role ARN (`VENDOR_ACCOUNT_ID`, ...)."""
    prefix = side.upper()
    return f"{prefix}_ACCOUNT_ID", f"{prefix}_AWS_PROFILE", f"{prefix}_ROLE_ARN"


def missing_requirements(environ: Mapping[str, str], *, pulumi_cli: str | None) -> list[str]:
    """Everything the acceptance test lacks, one human-readable item each (empty: ready to run)."""
    missing: list[str] = []
    if pulumi_cli is None:
        missing.append("the `pulumi` CLI on PATH")
    for side in SIDES:
        account_var, profile_var, role_var = env_names(side)
        account_id = environ.get(account_var, "")
        if not account_id:
            missing.append(f"{account_var} (the {side} account's 12-digit ID)")
        elif not ACCOUNT_ID.fullmatch(account_id):
            missing.append(f"{account_var} as a 12-digit account ID (got {account_id!r})")
        role_arn = environ.get(role_var, "")
        if not environ.get(profile_var) and not role_arn:
            missing.append(f"{profile_var} or {role_var} (credentials for the {side} account)")
        elif role_arn and not ROLE_ARN.fullmatch(role_arn):
            missing.append(f"{role_var} as an IAM role ARN (got {role_arn!r})")
        elif role_arn and account_id and f":iam::{account_id}:" not in role_arn:
            missing.append(f"{role_var} in account {account_var}={account_id} (got {role_arn!r})")
    backend = environ.get("PULUMI_BACKEND_URL", "")
    if backend and not SELF_MANAGED_BACKEND.fullmatch(backend):
        missing.append(
            "PULUMI_BACKEND_URL as a self-managed backend (file://, s3://, gs://, azblob://, "
            f"postgres://), or unset for a temporary file:// backend (got {backend!r})"
        )
    return missing


def skip_reason(missing: Iterable[str]) -> str | None:
    """The skip reason naming exactly what is missing, or None when nothing is."""
    items = list(missing)
    if not items:
        return None
    return "two-account acceptance test needs: " + "; ".join(items)


def account_access(environ: Mapping[str, str], side: str) -> AccountAccess:
    """One side's access, read from an environment `missing_requirements` found complete."""
    account_var, profile_var, role_var = env_names(side)
    return AccountAccess(
        side=side,
        account_id=environ[account_var],
        profile=environ.get(profile_var) or None,
        role_arn=environ.get(role_var) or None,
    )


MAX_TOKEN_LENGTH: Final = 20
TOKEN_PATTERN = re.compile(rf"[a-z0-9]{{1,{MAX_TOKEN_LENGTH}}}")


def run_label(token: str) -> str:
    """`acc-<token>`, in every stack name and physical name of one run (find leftovers by it).

    `token` is lowercase letters and digits: valid in stack names and in every physical name
    the config sets (ECR repositories are lowercase only).
    """
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(
            f"token: expected 1-{MAX_TOKEN_LENGTH} lowercase letters or digits, got {token!r}."
        )
    return f"acc-{token}"


@dataclass(frozen=True, kw_only=True)
class StackNames:
    """A fresh pair of stack names, unique per run so runs never share state."""

    vendor: str
    customer: str


def unique_stack_names(token: str) -> StackNames:
    """`acc-<token>-vendor` and `acc-<token>-customer`.

    >>> unique_stack_names("0x1f").vendor
    'acc-0x1f-vendor'
    """
    label = run_label(token)
    return StackNames(vendor=f"{label}-vendor", customer=f"{label}-customer")


def per_run_name(name: str, token: str) -> str:
    """What the run calls the resource the example calls `name`.

    >>> per_run_name("rake-app", "0x1f")
    'rake-app-acc-0x1f'
    """
    return f"{name}-{run_label(token)}"


def per_run_names(example: Mapping[str, Any], token: str) -> dict[str, Any]:
    """A copy of a stack's config in which every physical name it sets is `per_run_name`'s:
    the repositories, the containers' references to them (`repository`, `vendorRepository`) and
    the developers group and users. The vendor's output names derive from its repository names
    (`repository_output`), so the customer's renamed `vendorRepository` reads the renamed
    vendor's outputs. Container names are the task's own and stay. Lengths are left to the
    program's config checks (the longest token fits the example stacks: test_configs_under_mocks).
    """
    result = copy.deepcopy(dict(example))
    repositories = result.get(_key("repositories"))
    if isinstance(repositories, dict):
        result[_key("repositories")] = {
            per_run_name(name, token): repository for name, repository in repositories.items()
        }
    developers = result.get(_key("developers"))
    if isinstance(developers, dict):
        if "group" in developers:
            developers["group"] = per_run_name(developers["group"], token)
        if "users" in developers:
            developers["users"] = [per_run_name(user, token) for user in developers["users"]]
    for container in result.get(_key("app"), {}).get("containers", []):
        for key in ("repository", "vendorRepository"):
            if key in container:
                container[key] = per_run_name(container[key], token)
    return result


def qualified_stack_name(stack: str) -> str:
    """The name a StackReference uses for a stack of this project on a self-managed backend."""
    return f"{DIY_ORGANIZATION}/{PROJECT}/{stack}"


def _common(example: Mapping[str, Any], access: AccountAccess, token: str) -> dict[str, Any]:
    result = per_run_names(example, token)
    result[_key("accountId")] = access.account_id
    # Whatever the example says, `destroy` must be able to delete repositories holding images.
    result[_key("forceDelete")] = True
    if access.role_arn:
        result[_key("assumeRole")] = {"roleArn": access.role_arn}
    return result


def vendor_config(
    example: Mapping[str, Any], *, token: str, vendor: AccountAccess, customer_account_id: str
) -> dict[str, Any]:
    """The example vendor config with the run's names, pointed at the real vendor account and
    sharing with the real customer: every repository that names consumer accounts names exactly
    the customer."""
    result = _common(example, vendor, token)
    for repository in result.get(_key("repositories"), {}).values():
        if "pullAccounts" in repository:
            repository["pullAccounts"] = [customer_account_id]
    return result


def vendor_stack_source(vendor_stack: str) -> dict[str, Any]:
    """Customer config that reads the vendor's image through a StackReference to `vendor_stack`."""
    return {_key("vendorStack"): qualified_stack_name(vendor_stack)}


def vendor_image_source(
    example: Mapping[str, Any], *, token: str, vendor_account_id: str, vendor_region: str
) -> dict[str, Any]:
    """Customer config of the cross-company variant: a pinned `vendorImage` and its repository's
    ARN in the vendor account, for the run's name of the repository the example's app names as
    `vendorRepository`. The digest is a placeholder, so this source is for `preview` only
    (nothing is pulled)."""
    app = example.get(_key("app"), {})
    repository = per_run_name(
        next(c["vendorRepository"] for c in app["containers"] if "vendorRepository" in c), token
    )
    registry = f"{vendor_account_id}.dkr.ecr.{vendor_region}.amazonaws.com"
    return {
        _key("vendorImage"): f"{registry}/{repository}@sha256:{PLACEHOLDER_DIGEST}",
        _key("vendorRepositoryArn"): (
            f"arn:aws:ecr:{vendor_region}:{vendor_account_id}:repository/{repository}"
        ),
    }


PLACEHOLDER_DIGEST: Final = "0" * 64
VENDOR_SOURCE_KEYS: Final = ("vendorStack", "vendorImage", "vendorRepositoryArn")


def customer_config(
    example: Mapping[str, Any],
    *,
    token: str,
    customer: AccountAccess,
    vendor_source: Mapping[str, Any],
) -> dict[str, Any]:
    """The example customer config with the run's names, in the real customer account, and the
    example's vendor source replaced by `vendor_source` (`vendor_stack_source` or
    `vendor_image_source`)."""
    result = _common(example, customer, token)
    for name in VENDOR_SOURCE_KEYS:
        result.pop(_key(name), None)
    result |= vendor_source
    return result


def stack_settings_document(
    existing: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> dict[str, Any]:
    """A stack file with `config` replaced and the rest (the secrets provider's salt) kept."""
    document = dict(existing or {})
    document["config"] = copy.deepcopy(dict(config))
    return document


# The roles of the app's alarms (their number does not depend on the thresholds or names).
ALARM_ROLES: Final = tuple(
    alarm_inputs(
        AlarmThresholds(), load_balancer="", target_group="", cluster_name="", service_name=""
    )
)


def expected_creates(config: Mapping[str, Any]) -> dict[str, int]:
    """How many resources of the types a stack's config decides a fresh `preview` must create."""
    expected = {
        "aws:ecr/repository:Repository": len(config.get(_key("repositories"), {})),
        "aws:iam/group:Group": 1,
        "aws:iam/user:User": len(config.get(_key("developers"), {}).get("users", [])),
    }
    app = config.get(_key("app"))
    if app is not None:
        expected |= {
            "aws:ecs/cluster:Cluster": 1,
            "aws:ecs/taskDefinition:TaskDefinition": 1,
            "aws:ecs/service:Service": 1,
            "aws:lb/loadBalancer:LoadBalancer": 1,
            "aws:ec2/natGateway:NatGateway": NAT_GATEWAYS_BY_STRATEGY[
                app.get("natGateways", FargateAppArgs.nat_gateways)
            ],
            # Running it like production (docs/operations.md): every alarm, the topic unless
            # one is given, the access-log bucket, the web ACL with `waf`, the name with `domain`.
            "aws:cloudwatch/metricAlarm:MetricAlarm": len(ALARM_ROLES),
            "aws:sns/topic:Topic": 0 if app.get("alarmTopicArn") else 1,
            "aws:s3/bucket:Bucket": 1,
            "aws:wafv2/webAcl:WebAcl": 1 if app.get("waf") else 0,
            "aws:route53/record:Record": 1 if app.get("domain") else 0,
        }
    return expected


def creates_by_type(steps: Iterable[tuple[str, str]], types: Iterable[str]) -> dict[str, int]:
    """Count `(op, type)` preview steps that create each of `types` (0 for none)."""
    counts = Counter(type_ for op, type_ in steps if op == "create")
    return {type_: counts[type_] for type_ in types}


def wait_until_healthy(
    url: str,
    *,
    timeout: float,
    interval: float,
    request_timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll `GET <url>/health` until it answers 200 (returns the number of attempts); raise
    TimeoutError naming the last answer when `timeout` seconds pass first."""
    return wait_for_200(
        f"{url}/health",
        timeout=timeout,
        interval=interval,
        request_timeout=request_timeout,
        clock=clock,
        sleep=sleep,
    )


# ---- Time limits: every `up` and `destroy` ends on its own, before the test's own limit -------
# Worst case, in order: both `up`s, the health wait, both `destroy`s (the `finally` runs them even
# after an `up` ran out of time). Each is a real `pulumi` process (`run_bounded`): at its limit it
# gets SIGINT, on which Pulumi stops starting new steps, waits for those in flight, writes the
# state and releases the stack's lock (and the ECS service rolls back, `sigint_rollback`), and
# SIGKILL only if it has not exited STOP_GRACE_S later.
OPERATION_LIMITS_S: Final = {
    ("up", "vendor"): 900.0,  # build and push one small image
    # VPC, NAT gateway, ALB, two image builds, then the service's deployment wait
    # (components/fargate_app.py, SERVICE_DEPLOY_TIMEOUT_MINUTES: 30 min) with room to spare.
    ("up", "customer"): 2700.0,
    ("destroy", "customer"): 1200.0,  # the service drains; NAT gateway and ENIs go slowly
    ("destroy", "vendor"): 300.0,
}
HEALTH_TIMEOUT_S: Final = 300.0  # `up` has already waited for a steady service
STOP_GRACE_S: Final = 300.0
# Stack creation, HTTP calls and the interrupted operation's grace period.
OVERHEAD_S: Final = 600.0
TEST_TIME_LIMIT_S: Final = sum(OPERATION_LIMITS_S.values()) + HEALTH_TIMEOUT_S + OVERHEAD_S


class OperationFailed(RuntimeError):
    """A `pulumi` command exited non-zero, or ran out of time (`timed_out`)."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def run_bounded(
    argv: Sequence[str],
    *,
    limit_s: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    grace_s: float = STOP_GRACE_S,
    on_line: Callable[[str], None] = lambda line: None,
) -> None:
    """Run `argv`, passing each output line (stdout and stderr merged) to `on_line`. At
    `limit_s` seconds send SIGINT, and SIGKILL `grace_s` later; raise OperationFailed on a
    non-zero exit or a timeout (saying which)."""
    with subprocess.Popen(
        list(argv),
        env=None if env is None else dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        stream = process.stdout

        def pump() -> None:
            for line in stream:
                on_line(line.rstrip("\n"))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        timed_out = False
        try:
            process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
    command = " ".join(argv[:2])
    if timed_out:
        raise OperationFailed(
            f"`{command}` ran out of its {limit_s:g} s and was interrupted "
            f"(exit {process.returncode})",
            timed_out=True,
        )
    if process.returncode != 0:
        raise OperationFailed(f"`{command}` exited {process.returncode}", timed_out=False)


def recovery_hint(
    stack: str, *, backend_url: str, temporary: bool, env_prefix: str, passphrase_file: Path
) -> str:
    """How to finish a stack a failed or timed-out run left behind, from the project directory.

    A `pulumi` process that was killed (not interrupted) leaves the stack's lock, which makes
    every later command fail with "the stack is currently locked"; one killed mid-step also leaves
    pending operations in the state.
    """
    lock = f"{backend_url}/.pulumi/locks/{DIY_ORGANIZATION}/{PROJECT}/{stack}/"
    where = (
        f"The state is in {backend_url}, a temporary directory of this run: pytest keeps its "
        "last three runs' directories on this machine, and a CI runner's is gone with the job "
        "(set ACCEPTANCE_BACKEND_URL in CI, PULUMI_BACKEND_URL locally, to keep it)."
        if temporary
        else f"The state is in {backend_url}."
    )
    return "\n".join(
        [
            f"To finish {stack} (from the project directory):",
            f"  export {env_prefix}PULUMI_BACKEND_URL={backend_url} "
            f'PULUMI_CONFIG_PASSPHRASE="$(cat {passphrase_file})"',
            f"  pulumi cancel --stack {stack} --yes   # 'currently locked': removes the lock "
            f"the killed run left in {lock}",
            f"  pulumi stack export --stack {stack} --file {stack}.json   # 'pending operations': "
            'delete the "pending_operations" entries (check those resources in AWS), then',
            f"  pulumi stack import --stack {stack} --file {stack}.json",
            f"  pulumi destroy --stack {stack} --yes",
            where,
        ]
    )
