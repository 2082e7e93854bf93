"""A deadline for request headers, which uvicorn does not have, and the client's departure told
to the app, which ASGI does not tell it.

uvicorn's only idle timer is keep-alive: armed once a response is sent, cancelled by the first
byte of the next request. A connection that opens and sends nothing, or sends half its headers
and stalls (slowloris on headers), is held forever. ``HeaderDeadlineProtocol`` closes it.

The hooks are uvicorn's httptools protocol and its parser callbacks: see
CHECKED_UVICORN_VERSION.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any, ClassVar, cast

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from common.errors import HEADERS_TIMEOUT

# The uvicorn whose httptools protocol this subclass was read against (its hooks and state).
# tests/robustness/test_connections.py fails on any other version until someone re-checks.
CHECKED_UVICORN_VERSION = "0.54.0"


# The scope key of a request's "has the client gone?" check (see `client_gone`).
_CLIENT_GONE_KEY = "nlp.client_gone"


def closing_error(status: int, message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The raw answer to a request refused before any app sees it: the one error shape, bytes
    as JSONResponse would write them, and ``connection: close`` (the caller closes)."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    head = [STATUS_LINE[status]]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head.append(b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body))
    head.append(b"connection: close\r\n\r\n")
    return b"".join([*head, body])


def client_gone(scope: Scope) -> bool:
    """Whether the connection of the request in `scope` closed before its answer was complete.

    ASGI tells an app that its client left only through ``receive``, and only if the app calls
    it; an app busy with a request whose body it has read learns nothing, and uvicorn drops its
    answer silently. `HeaderDeadlineProtocol` puts a weak reference to the request's uvicorn
    cycle in each request's scope; served by anything else, the answer is False. (The app's task
    runs a method of that cycle, so the cycle lives as long as anyone can ask.)
    """
    ref: weakref.ref[RequestResponseCycle] | None = scope.get(_CLIENT_GONE_KEY)
    cycle = None if ref is None else ref()
    return cycle is not None and cycle.disconnected


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request headers are not complete
    ``header_timeout`` seconds after it opened or after the request's first byte.

    A stalled request gets ``408 {"message": HEADERS_TIMEOUT}`` before the close; a connection
    that sent nothing is closed silently (an unasked-for 408 could be read by a client as the
    answer to the request it is about to send). If an earlier pipelined request is still being
    answered, that answer is finished first and the connection closes after it.

    Time the server spends not reading the connection (pipelined requests queued, see
    `common.bounded`) is not the client's: a deadline that passes then starts over once an answer
    completes and reading resumes, so a pipelining client whose next head the server left unread
    is never cut off for it.

    Each request's scope also gets the check `client_gone` reads.
    """

    header_timeout: ClassVar[float] = 10.0
    _header_deadline: asyncio.TimerHandle | None = None
    _request_started = False
    _deadline_deferred = False  # it passed while the server was not reading

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Bytes that start no request (blank lines) still cancel uvicorn's keep-alive timer; the
        # connection would then have no deadline at all, so it gets this one.
        if self._between_requests() and self.timeout_keep_alive_task is None:
            self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_started = True
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        self._request_started = False
        super().on_headers_complete()
        cycle = self.cycle  # the request's own, even when queued behind a pipelined one
        if cycle is not None and cycle.scope is self.scope:  # (else an upgrade took the request)
            # The app's task has not run yet: it sees the key from the start. Weak: the cycle holds
            # the scope, and a strong reference back made each request a reference cycle, left
            # for the garbage collector (~11 objects and 2-3 µs of CPU per request).
            cast(dict[str, Any], self.scope)[_CLIENT_GONE_KEY] = weakref.ref(cycle)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # resumes reading
        if self._deadline_deferred and self._request_started and not self.transport.is_closing():
            self._deadline_deferred = False
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        # No request in progress: none yet, or the last one answered and none queued behind it.
        # (A queued pipelined request is `self.cycle`, so it counts as in progress.)
        return not self.transport.is_closing() and (
            self.cycle is None or self.cycle.response_complete
        )

    def _arm_header_deadline(self) -> None:
        # Armed once per request: a deadline already running (from the connection opening) is
        # not pushed back by the request's first byte.
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout, self._on_header_deadline
            )

    def _cancel_header_deadline(self) -> None:
        self._deadline_deferred = False
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _on_header_deadline(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:
            # The head is incomplete because the server stopped reading (pipelined requests wait
            # for their turn), not because the client is slow: armed again in on_response_complete.
            self._deadline_deferred = True
            return
        if not self._between_requests():
            # An earlier request is still being answered: finish it, then close (as uvicorn's
            # own graceful shutdown does).
            self.cycle.keep_alive = False
            return
        if self._request_started:
            default_headers = self.server_state.default_headers
            self.transport.write(closing_error(408, HEADERS_TIMEOUT, default_headers))
        self.transport.close()
