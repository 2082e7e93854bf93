"""Fixtures of the infra tests; the mock runtime they run under is tests/infra/harness.py."""

from __future__ import annotations

import pytest

from tests.infra.harness import StackRun, run_stack


@pytest.fixture(scope="module")
def vendor_run() -> StackRun:
    """The vendor stack file's run, shared by a module's read-only assertions."""
    return run_stack("vendor")


@pytest.fixture(scope="module")
def customer_run() -> StackRun:
    """The customer stack file's run (with the vendor stack file's exports), shared likewise."""
    return run_stack("customer")
