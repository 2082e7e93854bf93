"""HTTP plumbing for service tests: uvicorn on loopback in a thread, and a tiny stdlib client."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from starlette.types import ASGIApp

from common import API_KEY_HEADER, ServiceSettings
from common.factory import server_options
from common.logs import ACCESS_LOGGER, JsonFormatter

TEST_API_KEY = "test-key-0123456789"
# What `GET /routes` lists first on every service (common.health), before its own routes.
COMMON_ROUTES = [
    {"method": "GET", "path": "/health", "name": "health"},
    {"method": "GET", "path": "/routes", "name": "routes"},
    {"method": "GET", "path": "/openapi.json", "name": "openapi"},
]
STARTUP_TIMEOUT_SECONDS = 10.0
# The access record is written just after the answer is sent, so it may trail the client a moment.
RECORD_WAIT_SECONDS = 5.0


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


def wait_for_access_records(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The stdout lines written since the last read, once they hold an access record (servers
    run in threads) or `RECORD_WAIT_SECONDS` have passed."""
    deadline = time.monotonic() + RECORD_WAIT_SECONDS
    lines: list[str] = []
    while True:
        lines += capsys.readouterr().out.splitlines()
        has_record = any(f'"logger": "{ACCESS_LOGGER}"' in line for line in lines)
        if has_record or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


@contextmanager
def served_log_lines(
    app: ASGIApp, settings: ServiceSettings, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """``with served_log_lines(app, settings, capsys) as (url, lines):`` serve `app`, and once
    the block's requests are done, fill `lines` with every line it logged, in order.

    As in a service (`common.logs.LOG_CONFIG`): access records, uvicorn's and module loggers' JSON
    lines on one stdout. Each line is parsed, its ``time`` and ``duration_ms`` dropped. The block
    waits for an access record, then stops the server, which waits for its request tasks: a
    traceback logged after the record is in `lines` too.
    """
    lines: list[dict[str, Any]] = []
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    # `uvicorn` does not propagate to the root, where module loggers write.
    loggers = [logging.getLogger("uvicorn"), logging.getLogger()]
    try:
        with serve_in_thread(app, settings) as url:
            # Added once uvicorn's Config has reconfigured its loggers, removed once it stopped.
            for logger in loggers:
                logger.addHandler(handler)
            yield url, lines
            written = wait_for_access_records(capsys)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    for line in [*written, *capsys.readouterr().out.splitlines()]:
        record = json.loads(line)
        record.pop("time")
        record.pop("duration_ms", None)
        lines.append(record)


def post_and_leave(
    url: str, path: str, *, whole_body: bool = False, stay_seconds: float = 0.0
) -> None:
    """A client that leaves before its answer: it sends a POST, by default only the first bytes of
    the body its Content-Length promises, and closes the connection `stay_seconds` later without
    reading anything."""
    body = b'{"text": "a b"}'
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n{API_KEY_HEADER}: {TEST_API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port)) as client:
        client.sendall(head.encode() + (body if whole_body else body[:5]))
        time.sleep(stay_seconds)


def access_record(method: str, path: str | None, status: int) -> dict[str, Any]:
    """An access record as `served_log_lines` gives it (no ``time``, no ``duration_ms``)."""
    return {
        "level": "INFO",
        "logger": ACCESS_LOGGER,
        "message": "request",
        "method": method,
        "path": path,
        "status": status,
    }
