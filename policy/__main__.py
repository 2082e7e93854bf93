"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

The CLI runs this directory as a script (`python policy/`), so `sys.path[0]` is `policy/` itself:
put the project root first, so the pack imports as the `policy` package (and reads the action
lists of `components.iam`) exactly as the tests import it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import PACK_NAME, policies  # noqa: E402

if __name__ == "__main__":
    # Serves the policies to the CLI over gRPC until the CLI stops it.
    PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
    )
