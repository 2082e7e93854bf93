"""Connections that stall before their headers are complete are cut off; idle keep-alive ones
are closed after KEEP_ALIVE_TIMEOUT and reused before it.

The server is configured through the environment (HEADER_TIMEOUT=0.5, KEEP_ALIVE_TIMEOUT=2) and
served as ``run_service`` serves it; the app is the fake upstream (``/slow`` answers after 1 s).
"""

from __future__ import annotations

import gc
import json
import re
import select
import socket
import time
from collections.abc import Iterator

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from common import RakeSettings
from common.bounded import MAX_PIPELINED, BoundedProtocol
from common.connections import CHECKED_UVICORN_VERSION
from common.errors import HEADERS_TIMEOUT
from common.factory import server_options
from common.settings import API_KEY_ENV, HEADER_TIMEOUT_ENV, KEEP_ALIVE_TIMEOUT_ENV
from tests.support.fake_upstream import SLOW_SECONDS, fake_upstream
from tests.support.http import TEST_API_KEY
from tests.support.raw_http import closed_or_answered, connect
from tests.support.servers import serve_in_thread

HEADER_TIMEOUT = 0.5
# Whole seconds (uvicorn's unit); 1.5 s above HEADER_TIMEOUT, so a reuse after the header deadline
# stays inside it even when this thread runs late.
KEEP_ALIVE_TIMEOUT = 2
# Room above a deadline for a loaded 2-core machine; a connection held forever blows through it.
SLACK = 1.0
# uvloop (libuv) timers count whole milliseconds, so one may fire a little before its deadline.
TIMER_RESOLUTION = 0.01
HELD_OPEN = "the server still holds the connection open"
REQUEST = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HALF_REQUEST = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
LAST_CHUNK = b"\r\n0\r\n\r\n"
OK = b"HTTP/1.1 200 OK"
TIMEOUT_BODY = json.dumps({"message": HEADERS_TIMEOUT}, separators=(",", ":")).encode()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(API_KEY_ENV, TEST_API_KEY)
        env.setenv(HEADER_TIMEOUT_ENV, str(HEADER_TIMEOUT))
        env.setenv(KEEP_ALIVE_TIMEOUT_ENV, str(KEEP_ALIVE_TIMEOUT))
        settings = RakeSettings()
    with serve_in_thread(fake_upstream, settings) as served_url:
        yield served_url


@pytest.fixture
def sock(url: str) -> Iterator[socket.socket]:
    with _connect(url) as opened:
        yield opened


def _connect(url: str) -> socket.socket:
    return connect(url, timeout=HEADER_TIMEOUT + KEEP_ALIVE_TIMEOUT + 2 * SLACK)


def _read_answers(sock: socket.socket, count: int) -> bytes:
    """What the server sends until `count` responses are complete (the fake upstream's are all
    chunked)."""
    received = b""
    while received.count(LAST_CHUNK) < count:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    return received


def _statuses(sock: socket.socket, count: int = 1) -> list[bytes]:
    """The status lines of the next `count` responses."""
    received = _read_answers(sock, count)
    assert received.endswith(LAST_CHUNK)
    return [line for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def _assert_after(seconds: float, started: float) -> None:
    """The server acted `seconds` after `started`: not before, and not much later."""
    elapsed = time.monotonic() - started
    assert seconds - TIMER_RESOLUTION <= elapsed < seconds + SLACK


def _assert_408(answer: bytes) -> None:
    head, body = answer.split(b"\r\n\r\n", 1)
    status, *headers = head.split(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert sorted(h for h in headers if not h.startswith(b"date: ")) == [
        b"connection: close",
        f"content-length: {len(TIMEOUT_BODY)}".encode(),
        b"content-type: application/json",
    ]
    assert body == TIMEOUT_BODY


def test_header_deadline_protocol_was_checked_against_the_locked_uvicorn() -> None:
    # They override these hooks of uvicorn's httptools protocol and read its per-connection state
    # (`cycle` and its `body`, `pipeline`, `flow`, `transport`, `timeout_keep_alive_task`, and
    # the `logger` its parser-error warning goes through). An
    # upgrade may move them: re-read uvicorn/protocols/http/httptools_impl.py, run this file and
    # tests/robustness/test_bounds.py, then bump CHECKED_UVICORN_VERSION.
    assert uvicorn.__version__ == CHECKED_UVICORN_VERSION
    hooks = ["connection_made", "connection_lost", "data_received", "on_message_begin"]
    hooks += ["on_url", "on_header", "on_headers_complete", "on_body", "on_response_complete"]
    hooks.append("send_400_response")
    assert [name for name in hooks if name not in vars(HttpToolsProtocol)] == []


def test_server_options_run_the_bounded_protocol_and_no_websockets() -> None:
    settings = RakeSettings(api_key="k", header_timeout=2.5, keep_alive_timeout=90)
    config = uvicorn.Config(fake_upstream, **server_options(settings))
    config.load()
    protocol = config.http_protocol_class
    assert issubclass(protocol, BoundedProtocol)
    assert (
        protocol.header_timeout,
        config.timeout_keep_alive,
        config.ws_protocol_class,
        config.timeout_graceful_shutdown,
    ) == (2.5, 90, None, 25)


# The first request's deadline counts from the connection opening: these tests time from there.
def test_header_deadline_closes_a_silent_connection_without_an_answer(url: str) -> None:
    started = time.monotonic()
    with _connect(url) as sock:
        answer, _ = closed_or_answered(sock)
    assert answer == b""
    _assert_after(HEADER_TIMEOUT, started)


def test_header_deadline_answers_408_to_half_sent_headers_and_closes(url: str) -> None:
    started = time.monotonic()
    with _connect(url) as sock:
        sock.sendall(HALF_REQUEST)
        answer, _ = closed_or_answered(sock)
    _assert_408(answer)
    _assert_after(HEADER_TIMEOUT, started)


def test_header_deadline_cuts_off_headers_trickled_a_byte_at_a_time(url: str) -> None:
    started = time.monotonic()
    with _connect(url) as sock:
        sock.sendall(HALF_REQUEST)
        try:
            while not select.select([sock], [], [], HEADER_TIMEOUT / 10)[0]:
                sock.sendall(b"X")  # one more byte of an endless header name every 0.05 s
                assert time.monotonic() - started < HEADER_TIMEOUT + SLACK, HELD_OPEN
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, _ = closed_or_answered(sock)
    _assert_408(answer)
    _assert_after(HEADER_TIMEOUT, started)


def test_prompt_request_is_answered_and_its_idle_connection_reused_past_the_header_deadline(
    sock: socket.socket,
) -> None:
    sock.sendall(REQUEST)
    first = _statuses(sock)
    time.sleep(HEADER_TIMEOUT + 0.2)  # idle: past the header deadline, within the keep-alive
    sock.sendall(REQUEST)
    assert (first, _statuses(sock)) == ([OK], [OK])


def test_keep_alive_closes_a_connection_idle_longer_than_the_timeout(sock: socket.socket) -> None:
    # Timed from before the request: the server arms its timer as it answers, and this thread may
    # only read the answer later (a busy machine), which would shorten what it measures.
    started = time.monotonic()
    sock.sendall(REQUEST)
    assert _statuses(sock) == [OK]
    answer, _ = closed_or_answered(sock)
    assert answer == b""
    _assert_after(KEEP_ALIVE_TIMEOUT, started)


def test_header_deadline_of_a_second_request_counts_from_its_first_byte(
    sock: socket.socket,
) -> None:
    sock.sendall(REQUEST)
    assert _statuses(sock) == [OK]
    time.sleep(HEADER_TIMEOUT / 2)
    started = time.monotonic()
    sock.sendall(HALF_REQUEST)
    answer, _ = closed_or_answered(sock)
    _assert_408(answer)
    _assert_after(HEADER_TIMEOUT, started)


def test_blank_lines_after_a_response_do_not_hold_the_connection(sock: socket.socket) -> None:
    # Blank lines start no request, but they cancel uvicorn's keep-alive timer.
    sock.sendall(REQUEST)
    assert _statuses(sock) == [OK]
    started = time.monotonic()
    while not select.select([sock], [], [], HEADER_TIMEOUT / 5)[0]:
        sock.sendall(b"\r\n")
        assert time.monotonic() - started < HEADER_TIMEOUT + SLACK, HELD_OPEN
    answer, _ = closed_or_answered(sock)
    assert answer == b""
    _assert_after(HEADER_TIMEOUT, started)


def test_requests_leave_no_reference_cycles_for_the_garbage_collector() -> None:
    # The scope's client-gone check once held its cycle strongly, and the cycle holds the scope:
    # ~11 objects of cyclic garbage per request, 2-3 µs of CPU each in rake-app.
    requests = 200
    # Its own server with the default deadlines: a stall of this thread between two of the
    # requests (a loaded machine) must not let HEADER_TIMEOUT close the connection.
    settings = RakeSettings(api_key=TEST_API_KEY)
    with (
        serve_in_thread(fake_upstream, settings) as served_url,
        connect(served_url, timeout=settings.header_timeout) as sock,
    ):
        gc.collect()
        before = sum(generation["collected"] for generation in gc.get_stats())
        for _ in range(requests):
            sock.sendall(REQUEST)
            assert _statuses(sock) == [OK]
        gc.collect()
        collected = sum(generation["collected"] for generation in gc.get_stats()) - before
    assert collected < requests  # none here; other threads of the test process may add a few


def test_pipelined_requests_are_all_answered(sock: socket.socket) -> None:
    sock.sendall(REQUEST * 3)
    assert _statuses(sock, 3) == [OK] * 3


def test_stalled_request_behind_a_slow_one_lets_it_finish_then_closes(sock: socket.socket) -> None:
    # The header deadline of the second request passes while /slow is still being answered.
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + HALF_REQUEST)
    started = time.monotonic()
    answer, _ = closed_or_answered(sock)
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(OK + b"\r\n")
    assert b"\r\nconnection: close\r\n" in head + b"\r\n"
    assert json.loads(body.split(b"\r\n")[1])["path"] == "/slow"
    assert body.endswith(LAST_CHUNK)
    _assert_after(SLOW_SECONDS, started)


def test_pipelined_head_the_server_left_unread_is_not_cut_off_by_its_deadline(
    sock: socket.socket,
) -> None:
    # Behind /slow (1 s), MAX_PIPELINED requests fill the queue and the server stops reading: the
    # rest of the next head, sent at once, waits unread past that head's deadline (0.5 s). The
    # lateness is the server's, so the head is read when the queue moves, and answered in turn.
    paths = [f"/echo/{n}" for n in range(MAX_PIPELINED + 1)]
    heads = [f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for path in paths]
    last = heads.pop()
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + b"".join(heads) + last[:10])
    time.sleep(HEADER_TIMEOUT / 5)
    sock.sendall(last[10:])
    answers = _read_answers(sock, len(paths) + 1)
    assert re.findall(rb'"path": "([^"]*)"', answers) == [b"/slow", *(p.encode() for p in paths)]


def test_pipelined_head_stalled_behind_a_full_queue_gets_408_once_the_queue_is_answered(
    sock: socket.socket,
) -> None:
    # As above, but the client never finishes that head: its deadline starts over when /slow's
    # answer completes, then the 408 and the close follow the queued answers.
    queued = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * MAX_PIPELINED
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + queued + HALF_REQUEST[:10])
    started = time.monotonic()
    time.sleep(HEADER_TIMEOUT / 5)
    sock.sendall(HALF_REQUEST[10:])
    received = _read_answers(sock, MAX_PIPELINED + 1) + closed_or_answered(sock)[0]
    answers, last_chunk, rest = received.rpartition(LAST_CHUNK)
    assert (answers + last_chunk).count(OK) == MAX_PIPELINED + 1
    _assert_408(rest)
    _assert_after(SLOW_SECONDS + HEADER_TIMEOUT, started)
