"""Dump what the program registers under Pulumi's mocks, to compare two commits' behaviour.

Runs the real `__main__.py` with the test harness's mocks (tests/infra/harness.py) for both
committed stacks and the acceptance variants (tests/acceptance/configs.py), and
writes every registered resource's type, name, URN, parent, provider, options and inputs as JSON,
sorted by URN. Run it in two checkouts and diff the files:

    $ .venv/bin/python -m tests.infra.dump_resources > after.json
    $ (cd ../main-copy && python -m tests.infra.dump_resources) > before.json
    $ .venv/bin/python -m tests.infra.dump_resources --diff before.json after.json

A dev tool: it needs the test harness (the `dev` dependency group), not AWS or the Pulumi CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

# One variant's dump: resource URN -> what the engine would see of it.
Dump = dict[str, dict[str, Any]]


def _variants() -> dict[str, Callable[[], Any]]:
    # Imported here: the harness imports pytest and the whole program.
    from tests.acceptance import configs as acc
    from tests.acceptance.harness import vendor_stack_source
    from tests.infra.harness import PROJECT, run_stack, stack_config
    from tests.infra.mirror_configs import CUSTOMER_CACHE, CUSTOMER_REPLICATION, run_chain

    def customer_variant(source: dict[str, Any]) -> Callable[[], Any]:
        def run() -> Any:
            vendor = acc.run(acc.NAMES.vendor, acc.acceptance_vendor_config())
            config = acc.acceptance_customer_config(source)
            return acc.run(acc.NAMES.customer, config, vendor_outputs=vendor.exports)

        return run

    # The optional keys the committed stacks leave unset, each set once.
    vendor_options = {
        "pgpKey": "keybase:devops",
        "createAccessKeys": True,
        "repositories": {
            "rake-app": {
                "source": "services/rake_app",
                "pullAccounts": ["999988887777"],
                "pullOrgId": "o-abc123def4",
                "kmsKeyArn": "arn:aws:kms:us-east-2:111122223333:key/"
                "1234abcd-12ab-34cd-56ef-1234567890ab",
            }
        },
    }

    def customer_with_zones() -> Any:
        app = stack_config("customer")[f"{PROJECT}:app"]
        zones = ["us-west-2c", "us-west-2a"]
        return run_stack("customer", overrides={"app": {**app, "availabilityZones": zones}})

    return {
        "vendor": lambda: run_stack("vendor"),
        "vendor-options": lambda: run_stack("vendor", overrides=vendor_options),
        "customer": lambda: run_stack("customer"),
        "customer-zones": customer_with_zones,
        "acceptance-vendor": lambda: acc.run(acc.NAMES.vendor, acc.acceptance_vendor_config()),
        "acceptance-customer-vendor-stack": customer_variant(vendor_stack_source(acc.NAMES.vendor)),
        "acceptance-customer-vendor-image": customer_variant(acc.VENDOR_IMAGE_SOURCE),
        # The copy options (docs/mirroring.md): the vendor's, and each customer reading it.
        "vendor-copies": lambda: run_chain(CUSTOMER_CACHE)[0],
        "customer-cache": lambda: run_chain(CUSTOMER_CACHE)[1],
        "customer-replication": lambda: run_chain(CUSTOMER_REPLICATION)[1],
    }


def dump() -> dict[str, Any]:
    """Every variant's resources and exports."""
    result: dict[str, Any] = {}
    for variant, run in _variants().items():
        stack_run = run()
        resources: Dump = {
            r.urn: {
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider_urn,
                "providers": r.providers,
                "dependencies": sorted(r.dependencies),
                "ignore_changes": sorted(r.ignore_changes),
                "delete_before_replace": r.delete_before_replace,
                "custom_timeouts": r.custom_timeouts,
                "inputs": r.inputs,
            }
            for r in stack_run.resources
        }
        result[variant] = {
            "resources": dict(sorted(resources.items())),
            "exports": stack_run.exports,
            "secret_exports": sorted(stack_run.secret_exports),
        }
    return result


def _decoded(value: Any) -> Any:
    """JSON text inputs (policies, container definitions) decoded, so a diff shows the field."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return _decoded(json.loads(value))
        except json.JSONDecodeError:
            return value
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_decoded(v) for v in value]
        names = [i.get("name") for i in items if isinstance(i, dict)]
        if len(names) == len(items) and None not in names and len(set(names)) == len(names):
            # Named items (containers, environment variables) by name: a diff names them too.
            return {str(i["name"]): i for i in items}
        return items
    return value


def _differences(before: Any, after: Any, path: str) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        lines: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}/{key}"
            if key not in after:
                lines.append(f"- {where}: {json.dumps(before[key], sort_keys=True)}")
            elif key not in before:
                lines.append(f"+ {where}: {json.dumps(after[key], sort_keys=True)}")
            else:
                lines += _differences(before[key], after[key], where)
        return lines
    if before != after:
        return [
            f"~ {path}: {json.dumps(before, sort_keys=True)} -> {json.dumps(after, sort_keys=True)}"
        ]
    return []


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per added (+), removed (-) or changed (~) value, JSON text inputs decoded."""
    return _differences(_decoded(before), _decoded(after), "")


def main(argv: Sequence[str]) -> int:
    if len(argv) == 3 and argv[0] == "--diff":
        with open(argv[1]) as before, open(argv[2]) as after:
            lines = differences(json.load(before), json.load(after))
        print("\n".join(lines) if lines else "no differences")
        return 1 if lines else 0
    if argv:
        print("usage: python -m tests.infra.dump_resources [--diff BEFORE.json AFTER.json]")
        return 2
    json.dump(dump(), sys.stdout, indent=1, sort_keys=True, default=repr)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
