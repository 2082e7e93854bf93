"""Request-body cap and deadline, enforced while the body streams in (never after buffering it)."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(413, BODY_TOO_LARGE)
            response.headers["connection"] = "close"  # rather than read the rest of it
            await response(scope, receive, send)
            return
        received = 0
        body_complete = False
        cut_off = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def limited_receive() -> Message:
            # A chunked body (no Content-Length) is counted as it arrives; a raised error
            # surfaces from the handler's `await request.body()` and becomes the 413/408 answer.
            nonlocal received, body_complete, cut_off
            if body_complete:  # e.g. waiting for `http.disconnect`: no deadline for that
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                cut_off = True
                raise ApiError(408, BODY_TIMEOUT) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    cut_off = True
                    raise ApiError(413, BODY_TOO_LARGE)
                body_complete = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            # After a body was refused half-read, the connection cannot carry another request:
            # `Connection: close` makes uvicorn drop it once the error is sent.
            if cut_off and message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"connection", b"close")]}
            await send(message)

        await self.app(scope, limited_receive, closing_send)
