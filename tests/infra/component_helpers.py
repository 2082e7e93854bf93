"""Run one component under the recording mocks with a stack-like explicit AWS provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws

from tests.infra.harness import CUSTOMER_ACCOUNT, CUSTOMER_REGION, StackRun, run_program

PROVIDER_NAME = "aws"


def run_with_provider(
    build: Callable[[pulumi.ResourceOptions], dict[str, Any]], *, preview: bool = False
) -> StackRun:
    """Run `build(opts)` in a program whose only provider is an explicit AWS one (as the stacks
    pass `Providers.opts()`); what `build` returns is exported. Fakes use the customer account."""

    def program() -> None:
        provider = aws.Provider(
            PROVIDER_NAME, region=CUSTOMER_REGION, allowed_account_ids=[CUSTOMER_ACCOUNT]
        )
        for key, value in build(pulumi.ResourceOptions(providers=[provider])).items():
            pulumi.export(key, value)

    return run_program(
        program,
        config={"ecr-cross-account:accountId": CUSTOMER_ACCOUNT, "aws:region": CUSTOMER_REGION},
        preview=preview,
    )


def children(run: StackRun, component_type: str) -> list[tuple[str, str]]:
    """(type, logical name) of the component's direct children, sorted."""
    components = [r for r in run.resources if r.type == component_type]
    assert len(components) == 1, f"expected one {component_type}"
    return sorted((r.type, r.name) for r in run.resources if r.parent == components[0].urn)


def custom_resources_without_the_provider(run: StackRun) -> list[str]:
    """URNs of custom resources not created by the explicit provider (should be none)."""
    provider = next(r for r in run.resources if r.type == "pulumi:providers:aws")
    return [
        r.urn
        for r in run.resources
        if r.custom
        and not r.type.startswith("pulumi:providers:")
        and r.provider_urn != provider.urn
    ]
