"""Check a deployed service from outside: `GET /health`, then the edge's deep checks with the key.

    $ API_KEY=... .venv/bin/python -m tools.live_check http://app-alb-123.us-west-2.elb.amazonaws.com
    GET /health: 200
    GET /health/rake (with the key): 200
    GET /health/prose (with the key): 200

Each path gets up to `--wait` seconds (default 300) to answer 200: the load balancer may still be
registering the new tasks. Exit 1 names every path that never did; the key is never printed.
deploy.yml runs it after `pulumi up` on the customer; the acceptance test uses the same helpers.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

API_KEY_ENV: Final = "API_KEY"
API_KEY_HEADER: Final = "X-API-Key"
# (path, whether it needs the key): the edge's own health, then each upstream's through it.
CHECKS: Final = (("/health", False), ("/health/rake", True), ("/health/prose", True))
DEFAULT_WAIT_S: Final = 300.0
INTERVAL_S: Final = 10.0
USAGE: Final = f"usage: {API_KEY_ENV}=<key> python -m tools.live_check [--wait SECONDS] URL"


def http_json(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One HTTP call: `(status, body)`, error statuses included (no exception). The body is
    decoded JSON, or the text itself when it is not JSON (a load balancer's own error page)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _decoded(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _decoded(error.read())


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def wait_for_200(
    url: str,
    *,
    timeout: float,
    interval: float,
    headers: Mapping[str, str] | None = None,
    request_timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll `GET <url>` until it answers 200 (returns the number of attempts); raise TimeoutError
    naming the URL and the last answer (never the headers) when `timeout` seconds pass first."""
    deadline = clock() + timeout
    attempts = 0
    while True:
        attempts += 1
        try:
            status, _ = http_json("GET", url, headers=headers, timeout=request_timeout)
            last = f"HTTP {status}"
        except OSError as error:  # refused, reset, DNS name not there yet, timed out
            status, last = 0, f"{type(error).__name__}: {error}"
        if status == 200:
            return attempts
        if clock() >= deadline:
            raise TimeoutError(
                f"{url} did not answer 200 within {timeout:g} s "
                f"({attempts} attempts; last: {last})."
            )
        sleep(interval)


def check_service(
    url: str,
    api_key: str,
    *,
    wait: float = DEFAULT_WAIT_S,
    interval: float = INTERVAL_S,
    report: Callable[[str], None] = print,
) -> list[str]:
    """Run every check of CHECKS on `url`; report one line each; return the failures."""
    failures: list[str] = []
    for path, with_key in CHECKS:
        label = f"GET {path}" + (" (with the key)" if with_key else "")
        try:
            wait_for_200(
                url.rstrip("/") + path,
                timeout=wait,
                interval=interval,
                headers={API_KEY_HEADER: api_key} if with_key else None,
            )
            report(f"{label}: 200")
        except TimeoutError as error:
            report(f"{label}: {error}")
            failures.append(label)
    return failures


def main(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> int:
    """Exit 0 when every check answered 200, 1 when one did not, 2 on bad usage."""
    args = list(argv)
    wait = DEFAULT_WAIT_S
    if len(args) == 3 and args[0] == "--wait" and args[1].isdigit():
        wait, args = float(args[1]), args[2:]
    api_key = environ.get(API_KEY_ENV, "")
    if len(args) != 1 or not args[0].startswith(("http://", "https://")) or not api_key:
        print(USAGE, file=sys.stderr)
        return 2
    failures = check_service(args[0], api_key, wait=wait)
    if failures:
        print(f"not healthy: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
