"""A small stdlib HTTP client for tests: one request, the answer whatever its status."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from common import API_KEY_HEADER

# The API key every service a test serves or starts is given (never a real key).
TEST_API_KEY = "test-key-0123456789"


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
