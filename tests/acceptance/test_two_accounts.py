"""The whole system on two real AWS accounts, driven by Pulumi's Automation API.

Opt-in: skipped unless the `pulumi` CLI is on PATH and both accounts' IDs and credentials are
given (see `harness.py` for the variables; the skip reason names what is missing). Run it with

    VENDOR_ACCOUNT_ID=... VENDOR_AWS_PROFILE=... CUSTOMER_ACCOUNT_ID=... CUSTOMER_AWS_PROFILE=... \\
        .venv/bin/pytest -m acceptance tests/acceptance -p no:cacheprovider -s

Each run uses a fresh, uniquely named pair of stacks (`acc-<token>-vendor`, `-customer`) on a
temporary file:// backend (or the self-managed PULUMI_BACKEND_URL given), whose repositories and
developers group and users are named `<example's name>-acc-<token>`, so it runs beside the real
stacks in the same accounts; `finally` destroys whatever it created, customer first, so a failed
run leaves nothing billable behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from common.errors import MISSING_KEY
from components.settings import PROJECT
from tests.acceptance.harness import (
    HEALTH_TIMEOUT_S,
    OPERATION_LIMITS_S,
    SEED_KEYWORDS,
    SEED_TEXT,
    TEST_TIME_LIMIT_S,
    AccountAccess,
    OperationFailed,
    StackNames,
    account_access,
    creates_by_type,
    customer_config,
    expected_creates,
    http_json,
    missing_requirements,
    recovery_hint,
    run_bounded,
    run_label,
    skip_reason,
    stack_settings_document,
    unique_stack_names,
    vendor_config,
    vendor_image_source,
    vendor_stack_source,
    wait_until_healthy,
)
from tools.stack_files import PROJECT_ROOT, read_stack_config, stack_file, stack_region

# Read once, at import: the suite's hermetic fixture strips PULUMI_* from os.environ per test.
AMBIENT = MappingProxyType(dict(os.environ))
PULUMI_CLI = shutil.which("pulumi")
SKIP_REASON = skip_reason(missing_requirements(AMBIENT, pulumi_cli=PULUMI_CLI))

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or ""),
    # Builds, two `up`s, a bounded health wait and two `destroy`s, each with its own limit
    # (harness.OPERATION_LIMITS_S) that together stay below this one: far past the suite's 300 s.
    pytest.mark.timeout(TEST_TIME_LIMIT_S),
]

API_KEY_CONFIG = f"{PROJECT}:apiKey"
POLICY_PACK = PROJECT_ROOT / "policy"
PROSE_GOLDEN = PROJECT_ROOT / "tests" / "services" / "fixtures" / "prose-golden.json"
HEALTH_INTERVAL_S = 10.0
# Pulumi's uv toolchain (Pulumi.yaml) calls `uv`; the Makefile installs its pinned one here.
MAKEFILE_UV_DIR = PROJECT_ROOT / ".tools" / "bin"


def say(message: str) -> None:
    """Progress on the terminal as it happens (run pytest with -s to see it live)."""
    print(f"[acceptance] {message}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step and how long it took, failed or not."""
    say(f"{name} ...")
    started = time.monotonic()
    outcome = "failed"
    try:
        yield
        outcome = "done"
    finally:
        say(f"{name}: {outcome} in {time.monotonic() - started:.1f} s")


def new_token() -> str:
    """Ten random lowercase hex digits: two runs never share a stack or physical name."""
    return secrets.token_hex(5)


class Backend:
    """Where the run's stacks live, and the environment every `pulumi` process gets."""

    def __init__(self, tmp_path: Path) -> None:
        state = tmp_path / "state"
        state.mkdir()
        self.temporary = not AMBIENT.get("PULUMI_BACKEND_URL")
        self.url = AMBIENT.get("PULUMI_BACKEND_URL") or state.as_uri()
        self.passphrase = AMBIENT.get("PULUMI_CONFIG_PASSPHRASE") or secrets.token_hex(16)
        # Kept beside the state (owner-only) so a failed destroy can be finished by hand.
        self.passphrase_file = tmp_path / "passphrase"
        self.passphrase_file.touch(mode=0o600)
        self.passphrase_file.write_text(self.passphrase, encoding="utf-8")

    def recovery_hint(self, stack: str, access: AccountAccess) -> str:
        """How to finish a stack this run could not, from the project directory."""
        return recovery_hint(
            stack,
            backend_url=self.url,
            temporary=self.temporary,
            env_prefix=f"AWS_PROFILE={access.profile} " if access.profile else "",
            passphrase_file=self.passphrase_file,
        )

    def env(self, access: AccountAccess) -> dict[str, str]:
        path = os.pathsep.join([str(MAKEFILE_UV_DIR), AMBIENT.get("PATH", "")])
        return {
            "PULUMI_BACKEND_URL": self.url,
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PATH": path,
        } | access.process_env()


def bounded(command: str, stack: auto.Stack, access: AccountAccess, backend: Backend) -> None:
    """`pulumi up` or `pulumi destroy` of `stack`, within its limit (harness.run_bounded)."""
    run_bounded(
        [PULUMI_CLI or "pulumi", command, "--stack", stack.name, "--yes", "--non-interactive"]
        + (["--skip-preview"] if command == "up" else []),
        limit_s=OPERATION_LIMITS_S[(command, access.side)],
        env={**AMBIENT, **backend.env(access)},
        cwd=PROJECT_ROOT,
        on_line=say,
    )


def create(name: str, *, access: AccountAccess, backend: Backend) -> auto.Stack:
    """Create stack `name` of this project (the program in PROJECT_ROOT) for `access`."""
    return auto.create_stack(
        name,
        work_dir=str(PROJECT_ROOT),
        opts=auto.LocalWorkspaceOptions(env_vars=backend.env(access)),
    )


def configure(stack: auto.Stack, config: dict[str, Any], *, api_key: str | None = None) -> None:
    """Give the stack exactly `config` (its secrets provider's salt kept), and the secret key."""
    path = stack_file(stack.name)
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    document = stack_settings_document(existing, config)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    if api_key is not None:
        stack.set_config(API_KEY_CONFIG, auto.ConfigValue(api_key, secret=True))


def example_configs(
    vendor: AccountAccess,
    customer: AccountAccess,
    *,
    token: str,
    vendor_source: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The committed stack files' config with the run's names, retargeted at the real accounts
    (vendor, customer)."""
    return (
        vendor_config(
            read_stack_config("vendor"),
            token=token,
            vendor=vendor,
            customer_account_id=customer.account_id,
        ),
        customer_config(
            read_stack_config("customer"),
            token=token,
            customer=customer,
            vendor_source=vendor_source,
        ),
    )


def create_pair(
    stacks: list[auto.Stack],
    names: StackNames,
    configs: tuple[dict[str, Any], dict[str, Any]],
    *,
    api_key: str,
    backend: Backend,
) -> None:
    """Create and configure the vendor then the customer stack, appending each to `stacks` the
    moment it exists, so the caller's `finally` removes whatever was created."""
    for name, access in zip((names.vendor, names.customer), accesses(), strict=True):
        with step(f"create stack {name}"):
            stacks.append(create(name, access=access, backend=backend))
    configure(stacks[0], configs[0])
    configure(stacks[1], configs[1], api_key=api_key)


def remove_stack(stack: auto.Stack) -> None:
    """Forget the stack (its state and its Pulumi.<name>.yaml); its resources must be gone."""
    stack.workspace.remove_stack(stack.name, force=True)
    stack_file(stack.name).unlink(missing_ok=True)


def golden_prose(text: str) -> dict[str, Any]:
    """prose-app's recorded output for `text` (tokens, entities, sentences) from the services'
    golden file: the deployed image runs the same pipeline, so it must answer the same."""
    cases = json.loads(PROSE_GOLDEN.read_text(encoding="utf-8"))["cases"]
    return next(case for case in cases if case["text"] == text)


def accesses() -> tuple[AccountAccess, AccountAccess]:
    return account_access(AMBIENT, "vendor"), account_access(AMBIENT, "customer")


def test_two_accounts_preview_with_policy_pack_plans_expected_resources(tmp_path: Path) -> None:
    # given: fresh stacks; the customer uses the cross-company variant (pinned vendorImage), so
    # nothing needs to exist in the vendor account for its preview
    vendor, customer = accesses()
    backend = Backend(tmp_path)
    token = new_token()
    names = unique_stack_names(token)
    configs = example_configs(
        vendor,
        customer,
        token=token,
        vendor_source=vendor_image_source(
            read_stack_config("customer"),
            token=token,
            vendor_account_id=vendor.account_id,
            vendor_region=stack_region("vendor"),
        ),
    )
    stacks: list[auto.Stack] = []
    try:
        create_pair(stacks, names, configs, api_key=secrets.token_hex(32), backend=backend)

        for stack, config in zip(stacks, configs, strict=True):
            events: list[auto.EngineEvent] = []
            # when
            with step(f"preview {stack.name} with the policy pack"):
                result = stack.preview(
                    policy_packs=[str(POLICY_PACK)], on_event=events.append, on_output=say
                )
            # then
            violations = [
                (e.policy_event.policy_name, e.policy_event.message, e.policy_event.resource_urn)
                for e in events
                if e.policy_event is not None
            ]
            steps = [
                (str(e.resource_pre_event.metadata.op.value), e.resource_pre_event.metadata.type)
                for e in events
                if e.resource_pre_event is not None
            ]
            expected = expected_creates(config)
            assert violations == []
            assert creates_by_type(steps, expected) == expected
            assert set(result.change_summary) == {"create"}  # a fresh stack only creates
    finally:
        for stack in reversed(stacks):
            with step(f"remove stack {stack.name}"):
                remove_stack(stack)


def test_two_accounts_up_serves_the_api_through_the_alb_then_destroys(tmp_path: Path) -> None:
    vendor, customer = accesses()
    backend = Backend(tmp_path)
    token = new_token()
    names = unique_stack_names(token)
    api_key = secrets.token_hex(32)
    say(
        f"stacks {names.vendor} and {names.customer} on {backend.url.split('://')[0]}://; "
        f"repositories, group and users named *-{run_label(token)}"
    )
    stacks: list[auto.Stack] = []
    try:
        configs = example_configs(
            vendor, customer, token=token, vendor_source=vendor_stack_source(names.vendor)
        )
        create_pair(stacks, names, configs, api_key=api_key, backend=backend)

        for stack, access in zip(stacks, (vendor, customer), strict=True):  # vendor first
            with step(f"up {stack.name}"):
                bounded("up", stack, access, backend)
        url = str(stacks[1].outputs()["service_url"].value).rstrip("/")
        say(f"service_url = {url}")

        with step("wait for the load balancer's targets to be healthy"):
            wait_until_healthy(url, timeout=HEALTH_TIMEOUT_S, interval=HEALTH_INTERVAL_S)

        key = {"X-API-Key": api_key}
        seed = {"text": SEED_TEXT}
        with step("POST /keywords, /tokens, /entities through the load balancer"):
            assert http_json("POST", f"{url}/keywords", body=seed, headers=key) == (
                200,
                SEED_KEYWORDS,
            )
            golden = golden_prose(SEED_TEXT)
            assert http_json("POST", f"{url}/tokens", body=seed, headers=key) == (
                200,
                golden["tokens"],
            )
            assert http_json("POST", f"{url}/entities", body=seed, headers=key) == (
                200,
                golden["entities"],
            )
        with step("POST /keywords without the key"):
            assert http_json("POST", f"{url}/keywords", body=seed) == (
                400,
                {"message": MISSING_KEY},
            )
    finally:
        problems: list[str] = []
        # Customer first: its tasks use the vendor's image. zip stops at the stacks created.
        for stack, access in reversed(list(zip(stacks, (vendor, customer), strict=False))):
            try:
                with step(f"destroy {stack.name}"):
                    bounded("destroy", stack, access, backend)
                remove_stack(stack)
            except (OperationFailed, auto.CommandError) as error:
                problems.append(
                    f"{stack.name}: {error}\n{backend.recovery_hint(stack.name, access)}"
                )
        if problems:
            pytest.fail("destroy failed; resources may be left behind:\n" + "\n".join(problems))
