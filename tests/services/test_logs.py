"""Structured access logs: one JSON record per request, never the key."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from common import ProseSettings, RakeSettings, create_service_app
from common.logs import ACCESS_LOGGER, CLIENT_CLOSED_REQUEST, JsonFormatter
from local_stack import SERVICES_DIR
from prose_app.app import create_app as create_prose_app
from prose_app.nlp import Prose
from rake_app.app import create_app as create_rake_app
from tests.services.served_apps import echo_router
from tests.support.access_logs import access_record, served_log_lines, wait_for_access_records
from tests.support.http import TEST_API_KEY, call
from tests.support.raw_http import post_and_leave


def _access_records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    """The access records written to stdout since the test began (the servers run in threads)."""
    lines = wait_for_access_records(capsys)
    return [json.loads(line) for line in lines if f'"logger": "{ACCESS_LOGGER}"' in line]


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


def test_access_log_client_gone_mid_body_on_rake_app_is_one_499_record_and_no_error(
    rake_settings: RakeSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_log_lines(create_rake_app(rake_settings), rake_settings, capsys) as (url, lines):
        post_and_leave(url, "/keywords")
    assert lines == [access_record("POST", "/keywords", CLIENT_CLOSED_REQUEST)]


def test_access_log_client_gone_mid_body_on_prose_app_is_one_499_record_and_no_error(
    prose_settings: ProseSettings, prose: Prose, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_prose_app(prose_settings, prose=prose)
    with served_log_lines(app, prose_settings, capsys) as (url, lines):
        post_and_leave(url, "/tokens")
    assert lines == [access_record("POST", "/tokens", CLIENT_CLOSED_REQUEST)]


def test_access_log_app_that_raises_is_one_500_record_and_one_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = RakeSettings(api_key=TEST_API_KEY)
    app = create_service_app(title="echo", settings=settings, routers=[echo_router])
    with served_log_lines(app, settings, capsys) as (url, lines):
        call("GET", f"{url}/boom")
    record, error = lines
    traceback_tail = error.pop("exception").splitlines()[-1]
    assert (record, error, traceback_tail) == (
        access_record("GET", "/boom", 500),
        {"level": "ERROR", "logger": "uvicorn.error", "message": "Exception in ASGI application\n"},
        "RuntimeError: secret internal detail at 10.0.0.7",
    )
