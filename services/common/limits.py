"""Request-body cap and deadline, enforced while the body streams in (never after buffering it)."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.asgi import header
from common.errors import BODY_TIMEOUT, BODY_TOO_LARGE, ApiError, error_response


class BodySizeLimit:
    """ASGI middleware: 413 once Content-Length or the bytes received exceed ``max_bytes``, and
    408 when the body is still incomplete ``timeout`` seconds after the request's headers.

    uvicorn has no deadline of its own for a request body: a client trickling one byte at a time
    would hold its request open forever.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length") or b""
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
            return
        received = 0
        body_complete = False
        timed_out = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def limited_receive() -> Message:
            # A chunked body (no Content-Length) is counted as it arrives; a raised error
            # surfaces from the handler's `await request.body()` and becomes the 413/408 answer.
            nonlocal received, body_complete, timed_out
            if body_complete:  # e.g. waiting for `http.disconnect`: no deadline for that
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise ApiError(408, BODY_TIMEOUT) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ApiError(413, BODY_TOO_LARGE)
                body_complete = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            # A client too slow to send its body is dropped once told so (`Connection: close`
            # makes uvicorn close it). A 413 keeps the connection: a client that writes its whole
            # body before reading (urllib, requests) would otherwise get a reset, not the 413.
            if timed_out and message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"connection", b"close")]}
            await send(message)

        await self.app(scope, limited_receive, closing_send)
