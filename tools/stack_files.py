"""Read the committed stack files (`Pulumi.<stack>.yaml`) without the Pulumi CLI.

The workflows ask it for a stack's region before they sign in to AWS, so the region is written
once, in the stack file:

    $ .venv/bin/python -m tools.stack_files region vendor
    us-east-2
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from components.settings import REGION_KEY

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def stack_file(stack: str, root: Path = PROJECT_ROOT) -> Path:
    """The path of a stack's settings file, `Pulumi.<stack>.yaml`, in the project directory."""
    return root / f"Pulumi.{stack}.yaml"


def read_stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The `config:` mapping of a stack file (fully qualified keys, values as YAML typed them)."""
    path = stack_file(stack, root)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ValueError(f"{path.name}: expected a `config:` mapping, got {config!r}.")
    return config


def stack_region(stack: str, root: Path = PROJECT_ROOT) -> str:
    """The stack's `aws:region` (ValueError naming the file if it is not set)."""
    region = read_stack_config(stack, root).get(REGION_KEY)
    if not isinstance(region, str) or not region:
        raise ValueError(
            f"{stack_file(stack, root).name}: `{REGION_KEY}` is not set; set it with "
            f"`pulumi config set {REGION_KEY} <region> --stack {stack}`."
        )
    return region


USAGE = "usage: python -m tools.stack_files region STACK"


def main(argv: Sequence[str]) -> int:
    """`region STACK` prints the stack's region; anything else prints the usage (exit 2)."""
    if len(argv) != 2 or argv[0] != "region":
        print(USAGE, file=sys.stderr)
        return 2
    try:
        print(stack_region(argv[1]))
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
