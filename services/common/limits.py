"""Request-body cap, enforced while the body streams in (never after buffering all of it)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import BODY_TOO_LARGE, ApiError, error_response


class BodySizeLimit:
    """ASGI middleware: 413 once Content-Length or the bytes received exceed ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            # A chunked body (no Content-Length) is counted as it arrives; the raised error
            # surfaces from the handler's `await request.body()` and becomes the 413 response.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ApiError(413, BODY_TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)
