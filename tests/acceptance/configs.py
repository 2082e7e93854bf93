"""The acceptance test's configs run under Pulumi's mocks: the longest token, the two sides'
accounts and the run of the real `__main__.py` with them.

`test_configs_under_mocks.py` checks these runs; `tests/infra/dump_resources.py` dumps them.
"""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from typing import Any

from components.settings import PROJECT
from tests.acceptance.harness import (
    MAX_TOKEN_LENGTH,
    AccountAccess,
    customer_config,
    unique_stack_names,
    vendor_config,
    vendor_image_source,
)
from tests.infra.harness import MAIN, TEST_API_KEY, StackRun, run_program
from tools.stack_files import read_stack_config, stack_region

# The longest token the harness accepts: if its names fit AWS's limits (the program's config
# checks), the real run's shorter ones do too.
TOKEN = "a1" * (MAX_TOKEN_LENGTH // 2)
NAMES = unique_stack_names(TOKEN)
VENDOR = AccountAccess(side="vendor", account_id="210987654321", profile="vendor")
CUSTOMER = AccountAccess(
    side="customer",
    account_id="123456789012",
    role_arn="arn:aws:iam::123456789012:role/deployer",
)
API_KEY = f"{PROJECT}:apiKey"
VENDOR_REGION = stack_region("vendor")
VENDOR_IMAGE_SOURCE = vendor_image_source(
    read_stack_config("customer"),
    token=TOKEN,
    vendor_account_id=VENDOR.account_id,
    vendor_region=VENDOR_REGION,
)


def run(
    stack: str, config: dict[str, Any], *, vendor_outputs: Mapping[str, Any] | None = None
) -> StackRun:
    secret = {API_KEY: TEST_API_KEY} if f"{PROJECT}:app" in config else {}
    return run_program(
        lambda: runpy.run_path(str(MAIN), run_name="__main__"),
        stack=stack,
        config=config | secret,
        secret_keys=list(secret),
        vendor_outputs=vendor_outputs,
    )


def acceptance_vendor_config() -> dict[str, Any]:
    return vendor_config(
        read_stack_config("vendor"),
        token=TOKEN,
        vendor=VENDOR,
        customer_account_id=CUSTOMER.account_id,
    )


def acceptance_customer_config(vendor_source: dict[str, Any]) -> dict[str, Any]:
    """The customer's config reading the vendor's image from `vendor_source` (the vendor's stack
    or its image's coordinates)."""
    return customer_config(
        read_stack_config("customer"), token=TOKEN, customer=CUSTOMER, vendor_source=vendor_source
    )
