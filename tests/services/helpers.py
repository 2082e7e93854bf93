"""HTTP plumbing for service tests: uvicorn on loopback in a thread, and a tiny stdlib client."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from common import API_KEY_HEADER, ServiceSettings
from common.factory import server_options

TEST_API_KEY = "test-key-0123456789"
# What `GET /routes` lists first on every service (common.health), before its own routes.
COMMON_ROUTES = [
    {"method": "GET", "path": "/health", "name": "health"},
    {"method": "GET", "path": "/routes", "name": "routes"},
    {"method": "GET", "path": "/openapi.json", "name": "openapi"},
]
STARTUP_TIMEOUT_SECONDS = 10.0


@contextmanager
def serve_in_thread(app: ASGIApp, settings: ServiceSettings) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) and yield its base URL; stop it on exit.

    uvicorn runs as ``run_service`` runs it for `settings` (its protocol and timeouts).
    """
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", **server_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@dataclass(frozen=True, kw_only=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or the raw text when the body is not JSON
    text: str  # the raw body
    headers: dict[str, str]


def call(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    key: str | None = TEST_API_KEY,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One HTTP request; never raises for an HTTP error status (it is part of the answer)."""
    all_headers = dict(headers or {})
    if key is not None:
        all_headers[API_KEY_HEADER] = key
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _reply(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        with error:
            return _reply(error.code, error.read(), dict(error.headers))


def _reply(status: int, raw: bytes, headers: dict[str, str]) -> Reply:
    text = raw.decode()
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return Reply(status=status, body=body, text=text, headers=headers)
