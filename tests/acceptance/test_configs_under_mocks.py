"""The configs the acceptance test derives run through the real program, under Pulumi's mocks.

So a real run cannot fail on its own config, and the per-type resource counts its preview test
expects are the ones the program declares (the NAT gateways live inside awsx's VPC component,
which mocks record as one resource: its strategy is checked instead).
"""

from __future__ import annotations

import json
import runpy
from typing import Any

import pytest

from components.settings import PROJECT
from tests.acceptance.harness import (
    AccountAccess,
    customer_config,
    expected_creates,
    vendor_config,
    vendor_image_source,
    vendor_stack_source,
)
from tests.infra.conftest import MAIN, TEST_API_KEY, StackRun, all_of, only, run_program
from tools.stack_files import read_stack_config

VENDOR = AccountAccess(side="vendor", account_id="210987654321", profile="vendor")
CUSTOMER = AccountAccess(
    side="customer",
    account_id="123456789012",
    role_arn="arn:aws:iam::123456789012:role/deployer",
)
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
API_KEY = f"{PROJECT}:apiKey"


def run(stack: str, config: dict[str, Any]) -> StackRun:
    secret = {API_KEY: TEST_API_KEY} if f"{PROJECT}:app" in config else {}
    return run_program(
        lambda: runpy.run_path(str(MAIN), run_name="__main__"),
        stack=stack,
        config=config | secret,
        secret_keys=list(secret),
    )


def assert_expected_creates(result: StackRun, config: dict[str, Any]) -> None:
    expected = expected_creates(config)
    counted = {t: len(all_of(result.resources, t)) for t in expected if t != NAT_GATEWAY}
    assert counted == {t: n for t, n in expected.items() if t != NAT_GATEWAY}
    if NAT_GATEWAY in expected:
        vpc = only(result.resources, "awsx:ec2:Vpc")
        assert vpc.inputs["natGateways"] == {"strategy": config[f"{PROJECT}:app"]["natGateways"]}


def test_acceptance_vendor_config_runs_and_shares_with_the_customer_account() -> None:
    config = vendor_config(
        read_stack_config("vendor"), vendor=VENDOR, customer_account_id=CUSTOMER.account_id
    )

    result = run("acc-x1-vendor", config)

    assert_expected_creates(result, config)
    provider = only(result.resources, "pulumi:providers:aws")
    assert json.loads(provider.inputs["allowedAccountIds"]) == [VENDOR.account_id]
    assert "assumeRoles" not in provider.inputs  # the profile's own identity deploys
    policy = only(result.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert f"arn:aws:iam::{CUSTOMER.account_id}:root" in policy.inputs["policy"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(vendor_stack_source("acc-x1-vendor"), id="vendor-stack"),
        pytest.param(
            vendor_image_source(
                read_stack_config("customer"),
                vendor_account_id=VENDOR.account_id,
                vendor_region="us-east-2",
            ),
            id="vendor-image",
        ),
    ],
)
def test_acceptance_customer_config_runs_with_the_expected_resources(
    source: dict[str, Any],
) -> None:
    config = customer_config(read_stack_config("customer"), customer=CUSTOMER, vendor_source=source)

    result = run("acc-x1-customer", config)

    assert_expected_creates(result, config)
    references = [
        r.inputs["name"] for r in all_of(result.resources, "pulumi:pulumi:StackReference")
    ]
    assert references == (
        ["organization/ecr-cross-account/acc-x1-vendor"]
        if f"{PROJECT}:vendorStack" in source
        else []
    )
    provider = only(result.resources, "pulumi:providers:aws")
    # Providers receive nested inputs as JSON text.
    assert json.loads(provider.inputs["allowedAccountIds"]) == [CUSTOMER.account_id]
    assert json.loads(provider.inputs["assumeRoles"]) == [{"roleArn": CUSTOMER.role_arn}]
