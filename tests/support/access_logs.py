"""What a served app logs, line by line, as a service writes it to stdout (common.logs)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.types import ASGIApp

from common import ServiceSettings
from common.logs import ACCESS_LOGGER, JsonFormatter
from tests.support.servers import serve_in_thread

# The access record is written just after the answer is sent, so it may trail the client a moment.
RECORD_WAIT_SECONDS = 5.0


def wait_for_access_records(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The stdout lines written since the last read, once they hold an access record (servers
    run in threads) or `RECORD_WAIT_SECONDS` have passed."""
    deadline = time.monotonic() + RECORD_WAIT_SECONDS
    lines: list[str] = []
    while True:
        lines += capsys.readouterr().out.splitlines()
        has_record = any(f'"logger": "{ACCESS_LOGGER}"' in line for line in lines)
        if has_record or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


@contextmanager
def served_log_lines(
    app: ASGIApp, settings: ServiceSettings, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """``with served_log_lines(app, settings, capsys) as (url, lines):`` serve `app`, and once
    the block's requests are done, fill `lines` with every line it logged, in order.

    As in a service (`common.logs.LOG_CONFIG`): access records, uvicorn's and module loggers' JSON
    lines on one stdout. Each line is parsed, its ``time`` and ``duration_ms`` dropped. The block
    waits for an access record, then stops the server, which waits for its request tasks: a
    traceback logged after the record is in `lines` too.
    """
    lines: list[dict[str, Any]] = []
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    # `uvicorn` does not propagate to the root, where module loggers write.
    loggers = [logging.getLogger("uvicorn"), logging.getLogger()]
    try:
        with serve_in_thread(app, settings) as url:
            # Added once uvicorn's Config has reconfigured its loggers, removed once it stopped.
            for logger in loggers:
                logger.addHandler(handler)
            yield url, lines
            written = wait_for_access_records(capsys)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    for line in [*written, *capsys.readouterr().out.splitlines()]:
        record = json.loads(line)
        record.pop("time")
        record.pop("duration_ms", None)
        lines.append(record)


def access_record(method: str, path: str | None, status: int) -> dict[str, Any]:
    """An access record as `served_log_lines` gives it (no ``time``, no ``duration_ms``)."""
    return {
        "level": "INFO",
        "logger": ACCESS_LOGGER,
        "message": "request",
        "method": method,
        "path": path,
        "status": status,
    }
