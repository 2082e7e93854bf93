"""Bounds on what one connection can make a service hold: the size of a request's head, and the
number of pipelined requests waiting for their turn.

uvicorn's httptools protocol has neither. It hands the parser whatever the socket delivered, and
httptools buffers a header's value until it ends, so one 64 MB header is held whole before any
check could see it. The parser also runs through every request in a read, and uvicorn queues
each one behind the answer in progress, so a client that pipelines without reading the answers
makes the service hold a request object per ~40 bytes it sends.

``BoundedProtocol`` feeds the parser at most `FEED_BYTES` at a time and checks between feeds:
- the request line over `MAX_REQUEST_LINE_BYTES` gets 414, one header over `MAX_HEADER_BYTES`
  or all of them over `MAX_HEADERS_BYTES` get 431 (the ALB's limits: a request that passes the
  load balancer passes here too), as the one JSON error shape, and the connection is closed;
- a chunked body's trailer fields count as headers: httptools holds them as it holds a head.
  Over the limits, that request (its app already has it) keeps the answer its app gives, and the
  connection is read no more and closed after it (an app still waiting for the body answers
  408 at the body deadline);
- each refusal gets one access record (`common.logs.write_access_record`), as every answered
  request does, instead of uvicorn's "Invalid HTTP request received." warning;
- with `MAX_PIPELINED` requests queued, or a queued request's body at uvicorn's 64 KB
  high-water mark, the rest of the read waits unparsed and the connection is not read until
  an answer completes (the client's own socket buffers fill, and its sends block).

https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from typing import ClassVar

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

from common.connections import HeaderDeadlineProtocol, closing_error
from common.errors import HEADERS_TOO_LARGE, REQUEST_LINE_TOO_LONG
from common.logs import write_access_record

MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_HEADER_BYTES = 16 * 1024  # name, ": ", value and CRLF
MAX_HEADERS_BYTES = 64 * 1024  # every header, as above
# Requests parsed and queued behind the one being answered, per connection. A browser or the
# load balancer never pipelines; curl and most clients do not either.
MAX_PIPELINED = 16
# The parser gets a read in slices of this size: the checks run between slices, so a head or a
# queue overshoots its bound by at most one slice (4 KB of requests: ~100 minimal GETs).
FEED_BYTES = 4096
# Raw bytes fed while the parser hands nothing on (a request's start, its complete head, a piece
# of its body), past which the connection is refused (431) whatever the parser has reported. All
# httptools holds lies within such a run (a head's line and headers, a trailer, each held until
# it ends), and so does what it skips (chunk extensions, blank lines): the line and every header
# at their limits, the CRLFs that end the line and the headers, and the slice where the run began.
_MAX_FED_WITHOUT_PROGRESS = MAX_REQUEST_LINE_BYTES + MAX_HEADERS_BYTES + 4 + FEED_BYTES
# Seconds a refused connection is still read (and the bytes dropped) after its answer; a client
# closing its side ends it sooner.
LINGER_SECONDS = 2.0
# Bytes of the request line beyond its target: the method's are added, then SP SP HTTP/1.1.
_LINE_OVERHEAD = len(b"  HTTP/1.1")
# What uvicorn logs through while a refusal of ours is answered (see `BoundedProtocol.logger`).
_SILENCED = logging.Logger("uvicorn.error")
_SILENCED.disabled = True


class _HeadTooLarge(Exception):
    """Raised in a parser callback: the parser stops at once, and uvicorn reports a parser
    error through `send_400_response`, where the refusal is answered instead."""


class BoundedProtocol(HeaderDeadlineProtocol):
    """`HeaderDeadlineProtocol` with the head limits and the pipelining bound above.

    A refusal while an earlier request of the connection is still being answered waits for that
    answer (and those queued before it), then goes out and the connection closes.
    ``bounded_protocol(seconds)`` makes the class uvicorn builds (``http=``).
    """

    max_pipelined: ClassVar[int] = MAX_PIPELINED
    _unparsed = b""  # the rest of a read, waiting for the queue to shorten
    _fed_without_progress = 0  # raw bytes fed since the parser last handed something on
    _headers_bytes = 0  # bytes of the request's complete headers (and trailer fields)
    _head_error: tuple[int, str] | None = None  # set by a callback just before it raises
    _refused = False  # a refusal was answered or is waiting: nothing more is parsed
    _refusal: bytes | None = None  # the refusal waiting for an earlier answer
    _head_began = 0.0  # `time.perf_counter()` at the head's first byte
    _refused_record: tuple[str, str | None, int] = ("", None, 0)  # method, path, status
    _logger: logging.Logger

    # uvicorn logs "Invalid HTTP request received." for every parser error, ours included (a
    # callback's exception is one), just before `send_400_response`: a refusal of ours is
    # recorded by its access record instead, like every other answer.
    @property
    def logger(self) -> logging.Logger:
        return _SILENCED if self._head_error is not None else self._logger

    @logger.setter
    def logger(self, logger: logging.Logger) -> None:
        self._logger = logger

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # dropped: the rest of a refused request, read only to close cleanly
        if self._unparsed:  # reading was resumed (an app reading its body) before the queue moved
            data, self._unparsed = self._unparsed + data, b""
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        start = 0
        while start < len(data) and not self._refused and not self.transport.is_closing():
            if self._must_wait():
                self._unparsed = data[start:]
                self.flow.pause_reading()
                return
            piece = data[start : start + FEED_BYTES]  # `data` itself when it is short
            start += FEED_BYTES
            super().data_received(piece)
            self._fed_without_progress += len(piece)
            if self._fed_without_progress > _MAX_FED_WITHOUT_PROGRESS and not self._refused:
                self._refuse(431, HEADERS_TOO_LARGE)

    def _must_wait(self) -> bool:
        # `self.cycle` is the newest request: the one whose body a slice would add to.
        return len(self.pipeline) >= self.max_pipelined or (
            bool(self.pipeline) and len(self.cycle.body) > HIGH_WATER_LIMIT
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_began = time.perf_counter()
        self._fed_without_progress = 0
        self._headers_bytes = 0

    def on_headers_complete(self) -> None:
        self._fed_without_progress = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._fed_without_progress = 0
        super().on_body(body)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        line = len(self.parser.get_method()) + len(self.url) + _LINE_OVERHEAD
        if line > MAX_REQUEST_LINE_BYTES:
            self._head_error = (414, REQUEST_LINE_TOO_LONG)
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + 4
        self._headers_bytes += size
        if size > MAX_HEADER_BYTES or self._headers_bytes > MAX_HEADERS_BYTES:
            self._head_error = (431, HEADERS_TOO_LARGE)
            raise _HeadTooLarge
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to a parser error (it has logged "Invalid HTTP request received.").
        if self._head_error is None:
            super().send_400_response(msg)
        else:
            self._refuse(*self._head_error)

    def _refuse(self, status: int, message: str) -> None:
        if self._request_started:  # a head: refused with its own answer and access record
            # The path of a request line too long to read whole is not logged: it is not known
            # yet, and 16 KB of it per record would let one client flood the log.
            path = None if status == 414 else _path(self.url)
            self._refused_record = (self.parser.get_method().decode("ascii"), path, status)
            self._refusal = closing_error(status, message, self.server_state.default_headers)
        # Else past a head (a trailer, framing): its request has an app that answers it, once.
        self._refused = True
        self._unparsed = b""
        self._cancel_header_deadline()
        self.flow.pause_reading()
        if self._between_requests():
            self._close_refused()

    def _close_refused(self) -> None:
        # A lingering close, as nginx's: the answer and a FIN, then what the client still sends is
        # read and dropped for a moment. Closed at once with unread bytes, the socket would send
        # a reset, and a client still writing its head could lose the answer before reading it.
        if self._refusal is not None:
            self.transport.write(self._refusal)
            write_access_record(*self._refused_record, self._head_began)
        self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts the next queued request, or arms keep-alive
        if self.transport.is_closing():
            return
        if self._refused and self._between_requests():
            self._close_refused()
        elif self._unparsed:
            data, self._unparsed = self._unparsed, b""
            self._feed(data)


def _path(url: bytes) -> str | None:
    """The path of a request target as uvicorn puts it in the scope (no query, %-decoded), or
    None when it is no valid target."""
    try:
        path: str = httptools.parse_url(url).path.decode("ascii")
    except (httptools.HttpParserError, ValueError):
        return None
    return urllib.parse.unquote(path) if "%" in path else path


def bounded_protocol(seconds: float) -> type[BoundedProtocol]:
    """``BoundedProtocol`` with ``header_timeout = seconds``: uvicorn builds the protocol
    itself with a fixed signature, so the timeout travels on the class."""

    class Configured(BoundedProtocol):
        header_timeout = seconds

    return Configured
