"""Plain ASGI reads and writes, for the few paths that run without Starlette's Request/Response."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

JSON_CONTENT_TYPE = b"application/json"
# The bytes Starlette's JSONResponse writes (compact, UTF-8, no NaN), from an encoder built once
# (`json.dumps` with options builds one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def encode_json(value: Any) -> bytes:
    """`value` as JSONResponse would write it."""
    return _ENCODER.encode(value).encode()


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (lower case, as ASGI gives names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            value_bytes: bytes = value
            return value_bytes
    return None


async def read_body(receive: Receive) -> bytes:
    """The whole request body; ``ClientDisconnect`` (as in Starlette) if the client left."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, status: int, body: bytes) -> None:
    """Answer `status` with `body`, already-encoded JSON."""
    headers = [(b"content-type", JSON_CONTENT_TYPE), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
