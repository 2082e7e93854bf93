"""``python -m common.healthcheck <port>``: exit 0 if ``GET /health`` on loopback says UP.

For Docker HEALTHCHECK and ECS container health checks, where the slim images have no curl.
Standard library only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 3.0


def check(port: int) -> str | None:
    """None when healthy, else why not."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/health", timeout=TIMEOUT_SECONDS
        ) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:  # URLError/HTTPError/timeout are OSErrors
        return f"GET /health on port {port} failed: {exc}"
    if body != {"status": "UP"}:
        return f"GET /health on port {port} answered {body!r}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m common.healthcheck <port>", file=sys.stderr)
        return 2
    problem = check(int(argv[0]))
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
