"""What one connection can make a service hold is bounded (common.bounded): the ALB's head limits
(414, 431, then close) on every service, and a pipelining client that never reads its answers
leaves a real rake-app's memory flat while other clients are served.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from benchmarks.harness import rss_mb
from common import RakeSettings
from common.bounded import (
    MAX_HEADER_BYTES,
    MAX_HEADERS_BYTES,
    MAX_PIPELINED,
    MAX_REQUEST_LINE_BYTES,
)
from common.errors import HEADERS_TOO_LARGE, REQUEST_LINE_TOO_LONG
from local_stack import RAKE_APP
from rake_app.app import create_app as create_rake_app
from tests.robustness.served import Served
from tests.support.access_logs import access_record, served_log_lines
from tests.support.http import TEST_API_KEY, call
from tests.support.processes import StartedService, started_service
from tests.support.raw_http import closed_or_answered, connect

SERVICES = [pytest.param(name, id=name) for name in ("rake", "prose", "edge")]
# Generous for a loaded 2-core machine; a connection held forever blows through it.
FAST_SECONDS = 5.0
GET_HEALTH = b"GET /health HTTP/1.1\r\nHost: h\r\n"
# "GET " + target + " HTTP/1.1": the longest target the request-line limit lets through.
LONGEST_TARGET = MAX_REQUEST_LINE_BYTES - len(b"GET  HTTP/1.1")


@pytest.fixture(params=SERVICES)
def served(request: pytest.FixtureRequest) -> Served:
    name: str = request.param
    fixture: Served = request.getfixturevalue(f"{name}_served")
    return fixture


def _exchange(served: Served, request: bytes, *, half_close: bool = True) -> bytes:
    """Send `request` whole, then read everything the server sends until it closes."""
    with connect(served.url, timeout=FAST_SECONDS) as sock:
        sock.sendall(request)
        if half_close:  # the end of the client's bytes: a refused connection closes at once
            sock.shutdown(socket.SHUT_WR)
        answer, _ = closed_or_answered(sock)
    return answer


def _status_and_body(answer: bytes) -> tuple[bytes, list[bytes], object]:
    head, body = answer.split(b"\r\n\r\n", 1)
    status, *headers = head.split(b"\r\n")
    return status, headers, json.loads(body)


def _assert_refused(answer: bytes, status: bytes, message: str) -> None:
    line, headers, body = _status_and_body(answer)
    assert line == status
    assert body == {"message": message}
    assert sorted(h for h in headers if not h.startswith(b"date: ")) == [
        b"connection: close",
        f"content-length: {len(json.dumps(body, separators=(',', ':')))}".encode(),
        b"content-type: application/json",
    ]


def _header(name: str, size: int) -> bytes:
    """A header line of `size` bytes as the limit counts them: name, ": ", value and CRLF."""
    return name.encode() + b": " + b"v" * (size - len(name) - 4) + b"\r\n"


def test_request_line_at_the_limit_is_served(served: Served) -> None:
    target = b"/health?" + b"q" * (LONGEST_TARGET - len(b"/health?"))
    answer = _exchange(served, b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


def test_request_line_one_byte_over_the_limit_gets_414_and_close(served: Served) -> None:
    target = b"/health?" + b"q" * (LONGEST_TARGET + 1 - len(b"/health?"))
    answer = _exchange(served, b"GET " + target + b" HTTP/1.1\r\nHost: h\r\n\r\n")
    _assert_refused(answer, b"HTTP/1.1 414 Request-URI Too Long", REQUEST_LINE_TOO_LONG)


def test_header_at_the_limit_is_served_one_byte_over_gets_431(served: Served) -> None:
    fits = _exchange(served, GET_HEALTH + _header("x-big", MAX_HEADER_BYTES) + b"\r\n")
    over = _exchange(served, GET_HEALTH + _header("x-big", MAX_HEADER_BYTES + 1) + b"\r\n")
    assert fits.startswith(b"HTTP/1.1 200 OK\r\n")
    _assert_refused(over, b"HTTP/1.1 431 Request Header Fields Too Large", HEADERS_TOO_LARGE)


def test_many_headers_over_the_total_get_431(served: Served) -> None:
    # 4 KB headers, each under the one-header limit: 15 fit with Host, 16 do not.
    size = 4096
    host = len(b"Host: h\r\n")
    count = (MAX_HEADERS_BYTES - host) // size
    fits = b"".join(_header(f"x-h{i:02d}", size) for i in range(count))
    over = fits + _header("x-one-more", size)
    assert _exchange(served, GET_HEALTH + fits + b"\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
    _assert_refused(
        _exchange(served, GET_HEALTH + over + b"\r\n"),
        b"HTTP/1.1 431 Request Header Fields Too Large",
        HEADERS_TOO_LARGE,
    )


def _send_endless_header(url: str) -> tuple[bytes, int]:
    """A header value sent 4 KB at a time until the server answers: the answer, bytes sent."""
    sent = 0
    with connect(url, timeout=FAST_SECONDS) as sock:
        sock.sendall(GET_HEALTH + b"x-endless: ")
        started = time.monotonic()
        try:
            while not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"v" * 4096)
                sent += 4096
                assert time.monotonic() - started < FAST_SECONDS, "still reading the header"
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, _ = closed_or_answered(sock)
    return answer, sent


def test_endless_header_gets_431_after_a_bounded_read(served: Served) -> None:
    # httptools holds a header's value until it ends: without a bound, 64 MB were held whole.
    answer, sent = _send_endless_header(served.url)
    _assert_refused(answer, b"HTTP/1.1 431 Request Header Fields Too Large", HEADERS_TOO_LARGE)
    # What the socket buffers took besides what the server read: far below a megabyte here.
    assert sent < 16 * 1024 * 1024


def test_each_refusal_logs_one_access_record_and_garbage_keeps_uvicorns_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = RakeSettings(api_key=TEST_API_KEY)
    with served_log_lines(create_rake_app(settings), settings, capsys) as (url, lines):
        served = Served(url=url)
        _exchange(served, b"GET /" + b"q" * MAX_REQUEST_LINE_BYTES + b" HTTP/1.1\r\n\r\n")
        _exchange(served, GET_HEALTH + _header("x-big", MAX_HEADER_BYTES + 1) + b"\r\n")
        _send_endless_header(url)  # refused between two reads, not by a parser callback
        assert _exchange(served, b"NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    uvicorns_warning = "Invalid HTTP request received."
    assert lines == [
        access_record("GET", None, 414),  # the path of a line too long to read is not logged
        access_record("GET", "/health", 431),
        access_record("GET", "/health", 431),
        {"level": "WARNING", "logger": "uvicorn.error", "message": uvicorns_warning},
    ]


def test_pipelined_requests_are_answered_in_order_past_the_queue_bound(served: Served) -> None:
    count = 4 * MAX_PIPELINED
    requests = b"".join(
        b"GET /health?n=%d HTTP/1.1\r\nHost: h\r\n\r\n" % n for n in range(count - 1)
    )
    last = b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"  # the server closes after it
    # Not half-closed: uvicorn closes on the client's EOF, and drops what it has not answered.
    answer = _exchange(served, requests + last, half_close=False)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == count
    assert answer.count(b'{"status":"UP"}') == count


@pytest.fixture(scope="module")
def rake_process() -> Iterator[StartedService]:
    with started_service(RAKE_APP, api_key=TEST_API_KEY) as rake:
        yield rake


def test_client_pipelining_without_reading_leaves_memory_flat_and_others_served(
    rake_process: StartedService,
) -> None:
    # Before the bound, 9 MB of these grew rake-app from 50 to 362 MB and it never came back.
    pid = rake_process.process.pid
    url = rake_process.url
    request = GET_HEALTH + b"\r\n"
    burst = request * (64 * 1024 // len(request))
    call("GET", url + "/health", key=None)
    before = rss_mb(pid)
    sent = 0
    with connect(url, timeout=FAST_SECONDS) as sock:
        sock.setblocking(False)
        started = time.monotonic()
        # Until 9 MB are sent, or the server has stopped reading for half a second.
        while sent < 9_000_000 and time.monotonic() - started < FAST_SECONDS:
            if not select.select([], [sock], [], 0.5)[1]:
                break
            try:
                sent += sock.send(burst)
            except BlockingIOError:
                continue
        grown = rss_mb(pid) - before
        health = call("GET", url + "/health", key=None, timeout=FAST_SECONDS)
        keywords = call("POST", url + "/keywords", json_body={"text": "memory stays flat"})
    assert (health.status, keywords.status) == (200, 200)
    assert grown < 20, f"RSS grew {grown:.1f} MB while {sent} bytes were pipelined"
    assert sent < 9_000_000  # it stopped reading: the socket buffers filled


# A chunked body's trailer fields, which httptools holds as it holds a head's: GET /health
# answers at once without reading its body, so the trailer arrives after the answer.
CHUNKED_HEALTH = (
    b"GET /health HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
)


def test_trailer_within_the_limit_keeps_the_connection_one_over_closes_it_after_the_answer(
    served: Served,
) -> None:
    last = b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"  # the server closes after it
    fits = CHUNKED_HEALTH + _header("x-trailer", MAX_HEADER_BYTES) + b"\r\n" + last
    over = CHUNKED_HEALTH + _header("x-trailer", MAX_HEADER_BYTES + 1) + b"\r\n" + GET_HEALTH
    # Over: nothing after the trailer is read, and the request keeps its one answer (no 431).
    answers = [_exchange(served, request, half_close=False) for request in (fits, over + b"\r\n")]
    assert [answer.count(b"HTTP/1.1 ") for answer in answers] == [2, 1]
    assert [answer.count(b"HTTP/1.1 200 OK\r\n") for answer in answers] == [2, 1]


def test_trailer_over_the_limit_logs_only_its_requests_access_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = RakeSettings(api_key=TEST_API_KEY)
    with served_log_lines(create_rake_app(settings), settings, capsys) as (url, lines):
        trailer = _header("x-trailer", MAX_HEADER_BYTES + 1) + b"\r\n"
        _exchange(Served(url=url), CHUNKED_HEALTH + trailer, half_close=False)
    assert lines == [access_record("GET", "/health", 200)]


def test_endless_trailers_leave_memory_flat(rake_process: StartedService) -> None:
    # httptools holds a trailer's value until it ends, and the answer (sent before the body was
    # read) leaves no deadline: 25 connections sending 1 MB of one each grew rake-app by ~25 MB,
    # and more as they sent more.
    pid = rake_process.process.pid
    share = 1_000_000
    block = b"v" * 65536
    call("GET", rake_process.url + "/health", key=None)
    before = rss_mb(pid)
    sent: dict[socket.socket, int] = {}
    try:
        for _ in range(25):
            sock = connect(rake_process.url, timeout=FAST_SECONDS)
            sock.sendall(CHUNKED_HEALTH + b"x-endless: ")
            sock.setblocking(False)
            sent[sock] = 0
        started = time.monotonic()
        # Until each has sent its share, or the server has stopped reading them for half a second.
        while time.monotonic() - started < FAST_SECONDS:
            sending = [sock for sock, count in sent.items() if count < share]
            writable = select.select([], sending, [], 0.5)[1] if sending else []
            if not writable:
                break
            for sock in writable:
                try:
                    sent[sock] += sock.send(block)
                except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                    pass
        time.sleep(1.0)  # for the server to read what the sockets' buffers still hold
        grown = rss_mb(pid) - before
    finally:
        for sock in sent:
            sock.close()
    assert grown < 10, f"RSS grew {grown:.1f} MB while {sum(sent.values())} bytes were sent"


def test_head_at_every_limit_is_served_though_its_first_slice_began_with_another_request(
    served: Served,
) -> None:
    # The raw bytes the parser may take for one head count from the slice where it began: here
    # 4095 bytes of the request before it, then the head, at the line and header limits both,
    # all but its last byte.
    filler = GET_HEALTH + _header("x-pad", 4095 - len(GET_HEALTH + b"\r\n")) + b"\r\n"
    line = b"GET " + b"/health?" + b"q" * (LONGEST_TARGET - len(b"/health?")) + b" HTTP/1.1\r\n"
    headers = b"Host: h\r\nConnection: close\r\n"
    while len(headers) < MAX_HEADERS_BYTES:
        size = min(MAX_HEADER_BYTES, MAX_HEADERS_BYTES - len(headers))
        headers += _header(f"x-h{len(headers)}", size)
    head = line + headers + b"\r\n"
    assert (len(filler), len(line) - 2, len(headers)) == (4095, 16384, MAX_HEADERS_BYTES)
    with connect(served.url, timeout=FAST_SECONDS) as sock:
        for part in (filler + head[:1], head[1:-1], head[-1:]):
            sock.sendall(part)
            time.sleep(0.05)  # each part its own read
        answer, _ = closed_or_answered(sock)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2
