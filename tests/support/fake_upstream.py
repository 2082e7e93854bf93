"""A fake upstream for the edge's failure paths; the edge appends its own path to each prefix.

``/slow/...`` answers after a second, ``/status/<code>/...`` answers ``code`` with a JSON
message, ``/garbage/...`` answers 200 with a body that is not JSON, and anything else echoes
the request (method, path, headers, body) as JSON.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import Receive, Scope, Send

SLOW_SECONDS = 1.0


async def fake_upstream(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    body, path = (await receive()).get("body", b""), scope["path"]
    status, payload = 200, b""
    if path.startswith("/slow"):
        await asyncio.sleep(SLOW_SECONDS)
    elif path.startswith("/status/"):
        status = int(path.split("/")[2])
        payload = json.dumps({"message": f"upstream said {status}"}).encode()
    elif path.startswith("/garbage"):
        payload = b"<html>502 Bad Gateway</html>"
    if not payload:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        payload = json.dumps(
            {"method": scope["method"], "path": path, "headers": headers, "body": body.decode()}
        ).encode()
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": payload})
