"""Structured access logs: one JSON record per request, never the key."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest

from common.logs import ACCESS_LOGGER, JsonFormatter
from local_stack import SERVICES_DIR
from tests.services.helpers import TEST_API_KEY, call

# The record is written just after the answer is sent, so it may trail the client by a moment.
RECORD_WAIT_SECONDS = 5.0


def _access_records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    """The access records written to stdout since the test began (the servers run in threads)."""
    deadline = time.monotonic() + RECORD_WAIT_SECONDS
    lines: list[str] = []
    while True:
        lines += capsys.readouterr().out.splitlines()
        records = [json.loads(line) for line in lines if f'"logger": "{ACCESS_LOGGER}"' in line]
        if records or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def test_access_log_records_method_path_status_only(
    echo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call("POST", f"{echo_url}/echo?token={TEST_API_KEY}", json_body={"text": TEST_API_KEY})
    (line,) = _access_records(capsys)
    duration = line.pop("duration_ms")
    line.pop("time")
    assert (line, type(duration)) == (
        {
            "level": "INFO",
            "logger": ACCESS_LOGGER,
            "message": "request",
            "method": "POST",
            "path": "/echo",
            "status": 200,
        },
        float,
    )


def test_access_log_records_rejected_requests_without_the_supplied_key(
    echo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call("POST", f"{echo_url}/echo", json_body={"text": "x"}, key="guess-" + TEST_API_KEY)
    (line,) = _access_records(capsys)
    assert (line["status"], TEST_API_KEY in json.dumps(line)) == (401, False)


def test_json_formatter_writes_exception_as_a_field() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("op",), None)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["exception"].splitlines()[-1]) == ("failed op", "ValueError: bad")


def test_log_config_writes_module_loggers_as_json_with_their_extras() -> None:
    # A fresh interpreter: dictConfig replaces the handlers pytest's own capture relies on.
    script = (
        "import logging, logging.config\n"
        "from common.logs import LOG_CONFIG\n"
        "logging.config.dictConfig(LOG_CONFIG)\n"
        "logging.getLogger('nlp_client.gateway').warning('upstream call failed', "
        "extra={'upstream': 'rake', 'status': 502})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SERVICES_DIR)},
    )
    line = json.loads(done.stdout)
    line.pop("time")
    assert (line, done.stderr) == (
        {
            "level": "WARNING",
            "logger": "nlp_client.gateway",
            "message": "upstream call failed",
            "upstream": "rake",
            "status": 502,
        },
        "",
    )
