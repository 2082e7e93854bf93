"""The configs the acceptance test derives run through the real program, under Pulumi's mocks.

So a real run cannot fail on its own config, its resources cannot collide with the real stacks'
in the same accounts (every physical name the program sets carries the run's token), the
customer finds the renamed vendor's outputs, and the per-type resource counts its preview test
expects are the ones the program declares (the NAT gateways live inside awsx's VPC component,
which mocks record as one resource: its strategy is checked instead).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import PROJECT
from components.shared_repo import repository_output
from tests.acceptance.configs import (
    CUSTOMER,
    NAMES,
    TOKEN,
    VENDOR,
    VENDOR_IMAGE_SOURCE,
    VENDOR_REGION,
    acceptance_customer_config,
    acceptance_vendor_config,
    run,
)
from tests.acceptance.harness import expected_creates, per_run_name, vendor_stack_source
from tests.infra.app_helpers import container_definitions_of, exec_policy
from tests.infra.harness import (
    PULL_ACTIONS,
    PULL_AND_DESCRIBE_ACTIONS,
    StackRun,
    all_of,
    only,
    run_stack,
)

NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
# The inputs that give an AWS resource a fixed physical name (the program sets no other; a
# `namePrefix` would get a random suffix anyway). Pulumi auto-names every other resource
# `<logical name>-<random>`, a fresh suffix per stack, so those cannot collide: the ALB and target
# group names stay within 32 characters, and a new run never waits out the recovery window of a
# deleted API-key secret's name.
PHYSICAL_NAME_INPUTS = ("name", "family")
# Named after the FargateApp component ("app" in __main__.py), which the config cannot change.
TASK_FAMILY = (TASK_DEFINITION, "family")

PhysicalNames = dict[tuple[str, str], list[str]]


def physical_names(result: StackRun) -> PhysicalNames:
    """Every fixed physical name the program gives an AWS resource: (type, input) -> names."""
    names: PhysicalNames = {}
    for resource in result.resources:
        for key in PHYSICAL_NAME_INPUTS:
            if resource.type.startswith("aws:") and key in resource.inputs:
                names.setdefault((resource.type, key), []).append(resource.inputs[key])
    return {kind: sorted(values) for kind, values in names.items()}


def assert_expected_creates(result: StackRun, config: dict[str, Any]) -> None:
    expected = expected_creates(config)
    counted = {t: len(all_of(result.resources, t)) for t in expected if t != NAT_GATEWAY}
    assert counted == {t: n for t, n in expected.items() if t != NAT_GATEWAY}
    if NAT_GATEWAY in expected:
        vpc = only(result.resources, "awsx:ec2:Vpc")
        assert vpc.inputs["natGateways"] == {"strategy": config[f"{PROJECT}:app"]["natGateways"]}


@pytest.fixture(scope="module")
def vendor_run() -> StackRun:
    return run(NAMES.vendor, acceptance_vendor_config())


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(vendor_stack_source(NAMES.vendor), id="vendor-stack"),
        pytest.param(VENDOR_IMAGE_SOURCE, id="vendor-image"),
    ],
)
def customer_run(request: pytest.FixtureRequest, vendor_run: StackRun) -> StackRun:
    """The customer's run with each vendor source; its StackReference resolves to the outputs
    of the acceptance vendor's own run, so only outputs that vendor exports are found."""
    config = acceptance_customer_config(request.param)
    return run(NAMES.customer, config, vendor_outputs=vendor_run.exports)


@pytest.fixture(scope="module")
def committed_runs() -> dict[str, StackRun]:
    """The committed stack files' own runs: the names the real stacks hold in the accounts."""
    return {stack: run_stack(stack) for stack in ("vendor", "customer")}


def test_acceptance_vendor_config_runs_and_shares_with_the_customer_account(
    vendor_run: StackRun,
) -> None:
    assert_expected_creates(vendor_run, acceptance_vendor_config())
    provider = only(vendor_run.resources, "pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [VENDOR.account_id]
    assert "assumeRoles" not in provider.inputs  # the profile's own identity deploys
    policy = only(vendor_run.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "CrossAccountPull",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{CUSTOMER.account_id}:root"]},
            "Action": PULL_AND_DESCRIBE_ACTIONS,
        }
    ]


def test_acceptance_customer_config_runs_with_the_expected_resources(
    customer_run: StackRun,
) -> None:
    assert_expected_creates(customer_run, customer_run.config)
    references = [
        r.inputs["name"] for r in all_of(customer_run.resources, "pulumi:pulumi:StackReference")
    ]
    assert references == (
        [f"organization/ecr-cross-account/{NAMES.vendor}"]
        if f"{PROJECT}:vendorStack" in customer_run.config
        else []
    )
    provider = only(customer_run.resources, "pulumi:providers:aws")
    # Providers receive nested inputs as JSON text.
    assert json.loads(provider.inputs["allowedAccountIds"]) == [CUSTOMER.account_id]
    assert json.loads(provider.inputs["assumeRoles"]) == [{"roleArn": CUSTOMER.role_arn}]


def test_acceptance_customer_runs_and_pulls_the_renamed_vendor_image(
    vendor_run: StackRun, customer_run: StackRun
) -> None:
    repository = per_run_name("rake-app", TOKEN)
    registry = f"{VENDOR.account_id}.dkr.ecr.{VENDOR_REGION}.amazonaws.com"
    vendor_arn = f"arn:aws:ecr:{VENDOR_REGION}:{VENDOR.account_id}:repository/{repository}"

    (rake,) = [c for c in container_definitions_of(customer_run) if c["name"] == "rake-app"]
    statements = exec_policy(customer_run)["Statement"]

    if f"{PROJECT}:vendorStack" in customer_run.config:
        # Exported under the renamed repository's output name, and found by the customer's
        # renamed `vendorRepository` (both through `repository_output`).
        assert rake["image"] == vendor_run.exports[repository_output(repository, "image_uri")]
        assert vendor_run.exports[repository_output(repository, "repository_arn")] == vendor_arn
    assert rake["image"].startswith(f"{registry}/{repository}@sha256:")
    assert [(s["Effect"], s["Action"]) for s in statements if s["Resource"] == [vendor_arn]] == [
        ("Allow", PULL_ACTIONS)
    ]


def assert_committed_names_with_the_run_label(acceptance: StackRun, committed: StackRun) -> None:
    """The run names exactly what the committed stack names, each ending in `-acc-<token>` (the
    task family, named after the stack, aside), and shares no name with it (IAM names are
    case-insensitive: "development" is "Development")."""
    names = physical_names(acceptance)
    committed_names = physical_names(committed)
    assert {kind: found for kind, found in names.items() if kind != TASK_FAMILY} == {
        kind: sorted(per_run_name(name, TOKEN) for name in found)
        for kind, found in committed_names.items()
        if kind != TASK_FAMILY
    }
    assert {n.lower() for found in names.values() for n in found}.isdisjoint(
        n.lower() for found in committed_names.values() for n in found
    )


def test_acceptance_vendor_physical_names_are_the_committed_ones_with_the_run_label(
    vendor_run: StackRun, committed_runs: dict[str, StackRun]
) -> None:
    assert physical_names(vendor_run) == {
        ("aws:ecr/repository:Repository", "name"): [f"rake-app-acc-{TOKEN}"],
        ("aws:iam/group:Group", "name"): [f"Development-acc-{TOKEN}"],
        ("aws:iam/user:User", "name"): [f"Developer-01-acc-{TOKEN}"],
    }
    assert_committed_names_with_the_run_label(vendor_run, committed_runs["vendor"])


def test_acceptance_customer_physical_names_are_the_committed_ones_with_the_run_label(
    customer_run: StackRun, committed_runs: dict[str, StackRun]
) -> None:
    assert physical_names(customer_run) == {
        ("aws:ecr/repository:Repository", "name"): [
            f"nlp-client-acc-{TOKEN}",
            f"prose-app-acc-{TOKEN}",
        ],
        ("aws:iam/group:Group", "name"): [f"Development-acc-{TOKEN}"],
        ("aws:iam/user:User", "name"): [f"Developer-01-acc-{TOKEN}"],
        # Named after the stack (`acc-<token>-customer`), not suffixed like the names above.
        TASK_FAMILY: [f"acc-{TOKEN}-customer-app"],
    }
    assert_committed_names_with_the_run_label(customer_run, committed_runs["customer"])
    assert physical_names(committed_runs["customer"])[TASK_FAMILY] == ["customer-app"]
