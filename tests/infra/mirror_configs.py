"""The stack files with each copy option on (docs/mirroring.md), for every test that runs them.

`run_chain(customer_overrides)` runs the vendor with `VENDOR_COPIES` and hands its real exports
to the customer, as `pulumi up` on both stacks would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tests.infra.harness import (
    CUSTOMER_ACCOUNT,
    CUSTOMER_REGION,
    PROJECT,
    VENDOR_ACCOUNT,
    StackRun,
    run_stack,
    stack_config,
)


def _customer_app(**changes: Any) -> dict[str, Any]:
    return {**stack_config("customer")[f"{PROJECT}:app"], **changes}


def _vendor_rake_app(**changes: Any) -> dict[str, Any]:
    return {
        "rake-app": {**stack_config("vendor")[f"{PROJECT}:repositories"]["rake-app"], **changes}
    }


# The vendor lets the customer cache rake-app, replicates it into the customer's registry, and
# scans its registry with Amazon Inspector.
VENDOR_COPIES: Final[Mapping[str, Any]] = {
    "repositories": _vendor_rake_app(
        cacheAccounts=[CUSTOMER_ACCOUNT],
        replicateTo=[{"account": CUSTOMER_ACCOUNT, "region": CUSTOMER_REGION}],
    ),
    "scanning": "enhanced",
}
# The customer pulls rake-app through a pull-through cache; its tasks also use VPC endpoints
# (with the NAT gateway AWS asks for a cache's first pull).
CUSTOMER_CACHE: Final[Mapping[str, Any]] = {
    "vendorMirror": "pullThroughCache",
    "app": _customer_app(vpcEndpoints=True),
}
# The customer pulls rake-app's replica, with no NAT gateway at all, and scans with Inspector.
CUSTOMER_REPLICATION: Final[Mapping[str, Any]] = {
    "vendorMirror": "replication",
    "acceptReplicationFrom": [VENDOR_ACCOUNT],
    "scanning": "enhanced",
    "app": _customer_app(natGateways="None", vpcEndpoints=True),
}


def run_chain(
    customer_overrides: Mapping[str, Any],
    *,
    vendor_overrides: Mapping[str, Any] = VENDOR_COPIES,
    preview: bool = False,
) -> tuple[StackRun, StackRun]:
    """The vendor's run and the customer's, which reads the vendor's real exports."""
    vendor = run_stack("vendor", overrides=vendor_overrides)
    customer = run_stack(
        "customer", overrides=customer_overrides, vendor_outputs=vendor.exports, preview=preview
    )
    return vendor, customer
