"""Structured JSON logs: one object per line, and one access record per request.

Access records hold method, path (no query string), status and duration only: never headers,
so never the API key.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.connections import client_gone

ACCESS_LOGGER = "nlp.access"

# Built once (`json.dumps` with options builds an encoder per call); values JSON cannot hold are
# written as their str().
_LOG_ENCODER = json.JSONEncoder(default=str)
# The status recorded for a client that left before its answer: nginx's non-standard 499
# "client closed request". Nothing was sent, so no real status applies; a 500 would read as a
# server fault, and such a request is neither an error of the app nor one of ours to fix.
CLIENT_CLOSED_REQUEST = 499

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured duplicate of the message
    "taskName",
}


def json_line(
    created: float, level: str, logger: str, message: str, fields: Iterable[tuple[str, Any]]
) -> str:
    """A log record as every service writes it: ``{"time", "level", "logger", "message",
    **fields}`` on one line."""
    entry: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created)),
        "level": level,
        "logger": logger,
        "message": message,
    }
    entry.update(fields)
    return _LOG_ENCODER.encode(entry)


class JsonFormatter(logging.Formatter):
    """`json_line` for the logging module; a record's ``extra=`` values are its fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = [
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        ]
        if record.exc_info:
            fields.append(("exception", self.formatException(record.exc_info)))
        return json_line(record.created, record.levelname, record.name, record.getMessage(), fields)


# For `uvicorn.run(log_config=...)`: uvicorn's own loggers and ours, all JSON on stdout.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        name: {"handlers": ["stdout"], "level": "INFO", "propagate": False}
        for name in ("uvicorn", "uvicorn.error")
    },
    # Module loggers (the edge's upstream failures, for one) propagate here; without this they
    # reached only logging's last-resort handler: plain text on stderr, their fields dropped.
    "root": {"handlers": ["stdout"], "level": "INFO"},
}


class AccessLog:
    """ASGI middleware writing one access record per HTTP request, a `json_line` on stdout.

    A client gone before its answer started, whether the app saw ``http.disconnect`` while
    reading the body or the server says so (`client_gone`) when the answer comes, is recorded as
    `CLIENT_CLOSED_REQUEST`. The ``ClientDisconnect`` Starlette raises for it (``await
    request.body()``) stops here: it is no application error, so neither Starlette's 500 handler
    nor uvicorn's "Exception in ASGI application" traceback sees it. Any other exception goes on
    to them, recorded as the 500 the client gets.

    Written to the stream directly, not through the logging module: its handler chain cost the
    edge ~80 us a request, a fifth of its CPU per relayed request (benchmarks/bench_edge.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None  # set when the app starts its answer
        saw_disconnect = False

        def gone() -> bool:
            return saw_disconnect or client_gone(scope)

        async def watching_receive() -> Message:
            nonlocal saw_disconnect
            message = await receive()
            saw_disconnect = saw_disconnect or message["type"] == "http.disconnect"
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = CLIENT_CLOSED_REQUEST if gone() else message["status"]
            await send(message)

        try:
            await self.app(scope, watching_receive, recording_send)
        except ClientDisconnect:
            pass  # Starlette's word for an `http.disconnect` seen above: nobody left to answer
        finally:
            # Once the answer is handed over: the client does not wait for its record.
            if status is None:  # no answer: the client left, or the app raised (the 500 it gets)
                status = CLIENT_CLOSED_REQUEST if gone() else 500
            write_access_record(scope["method"], scope["path"], status, started)


def write_access_record(method: str, path: str | None, status: int, started: float) -> None:
    """One access record on stdout: `started` is the request's `time.perf_counter()`; `path`
    is None only for a request refused before its path was read (`common.bounded`)."""
    fields = (
        ("method", method),
        ("path", path),
        ("status", status),
        ("duration_ms", round((time.perf_counter() - started) * 1000, 3)),
    )
    # sys.stdout as it is now (tests capture it); flushed per line, as StreamHandler does.
    sys.stdout.write(json_line(time.time(), "INFO", ACCESS_LOGGER, "request", fields) + "\n")
    sys.stdout.flush()
