"""Stack files' settings parsed with changes: the settings tests and the mirror settings tests."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

from components.settings import Settings, parse_settings
from tests.infra.harness import PROJECT, stack_config

P = f"{PROJECT}:"
DIGEST = "0123456789abcdef" * 4
VENDOR_IMAGE = f"111122223333.dkr.ecr.us-east-2.amazonaws.com/rake-app@sha256:{DIGEST}"
VENDOR_ARN = "arn:aws:ecr:us-east-2:111122223333:repository/rake-app"


def stack_values(stack: str) -> dict[str, Any]:
    """A stack file's project keys (prefix removed), as parse_settings receives them."""
    config = stack_config(stack)
    return {k.removeprefix(P): v for k, v in config.items() if k.startswith(P)}


def parse(stack: str, *, region: str | None = None, **changes: Any) -> Settings:
    """Parse a stack file's config with top-level keys replaced (None removes a key)."""
    values = copy.deepcopy(stack_values(stack))
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    default_region = str(stack_config(stack)["aws:region"])
    api_key = pulumi.Output.secret("k") if stack == "customer" else None
    return parse_settings(values, region=region or default_region, api_key=api_key)


def errors_of(stack: str, **changes: Any) -> str:
    with pytest.raises(ValueError) as exc_info:
        parse(stack, **changes)
    return str(exc_info.value)


def customer_app(**changes: Any) -> dict[str, Any]:
    app: dict[str, Any] = copy.deepcopy(stack_values("customer")["app"])
    app.update(changes)
    return app
