"""The floor of a Python hop: the least a forwarder on the edge's stack can cost per request.

A raw ASGI app under uvicorn (httptools, uvloop) that reads the body, sends it with one pooled
aiohttp session to the upstream (same method and path, the client's Content-Type and API key
header) and relays the status and body. No key check, validation, limits or logs: what the edge
(nlp-client) does on top of this is what its figures beyond the floor pay for.
``benchmarks/bench_edge.py`` measures it next to the edge, as context.

Run: ``.venv/bin/python -m benchmarks.bare_forwarder <upstream base URL> <port>``.
"""

from __future__ import annotations

import sys

import aiohttp
from starlette.types import Receive, Scope, Send

from benchmarks.harness import serve_floor
from common import API_KEY_HEADER
from common.asgi import read_body, send_json
from nlp_client.gateway import relay_session

# Request headers passed on to the upstream, as the client sent them.
_RELAYED = frozenset({b"content-type", API_KEY_HEADER.lower().encode()})


class Forwarder:
    """ASGI app: every HTTP request goes to the same path on `upstream`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        assert self.session is not None, "the lifespan starts the session"
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _RELAYED
        }
        body = await read_body(receive)
        async with self.session.request(
            scope["method"], self.upstream + scope["path"], data=body, headers=headers
        ) as answer:
            payload = await answer.read()
        await send_json(send, answer.status, payload)  # the upstreams answer JSON only

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = relay_session()  # the edge's own session options
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m benchmarks.bare_forwarder <upstream base URL> <port>")
        return 2
    serve_floor(Forwarder(argv[0]), int(argv[1]), lifespan=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
