"""Hostile requests to each service: each gets a clear 4xx (or is cut off), fast, and the service
keeps serving everyone else. Services run in-thread with their shipped body caps (1 MiB; 100 kB
for prose-app) and 1 s body and header deadlines.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from common.errors import BODY_TIMEOUT, BODY_TOO_LARGE, INVALID_JSON
from tests.robustness.served import BODY_TIMEOUT_SECONDS, HEADER_TIMEOUT_SECONDS, Served
from tests.support.http import call
from tests.support.raw_http import closed_or_answered, connect, read_status, request_head

TEN_MB = 10 * 1024 * 1024
CHUNK = 64 * 1024
# Generous for a loaded 2-core machine; a service that buffered 10 MB first would still pass
# on time, which is why the tests also check when the answer came (before the body was sent).
FAST_SECONDS = 2.0
# Every service answers POST on one of its paths; the edge is checked on the RAKE route.
POST_PATHS = {"rake": "/keywords", "prose": "/tokens", "edge": "/keywords"}
SERVICES = [pytest.param(name, id=name) for name in POST_PATHS]
JSON_HEAD = {"Content-Type": "application/json"}
TIMEOUT_STATUS = b"HTTP/1.1 408 "


@pytest.fixture(params=SERVICES)
def target(request: pytest.FixtureRequest) -> tuple[Served, str]:
    """One service and a POST path it serves."""
    name: str = request.param
    served: Served = request.getfixturevalue(f"{name}_served")
    return served, POST_PATHS[name]


def _post_raw(served: Served, path: str, body: bytes) -> tuple[int, object]:
    reply = call("POST", served.url + path, data=body, headers=JSON_HEAD)
    return reply.status, reply.body


def test_service_10mb_body_with_length_gets_413_before_the_body_is_sent(
    target: tuple[Served, str],
) -> None:
    served, path = target
    with connect(served.url, timeout=FAST_SECONDS) as sock:
        started = time.monotonic()
        sock.sendall(request_head(path, {**JSON_HEAD, "Content-Length": str(TEN_MB)}))
        sock.sendall(b'{"text": "' + b"a" * CHUNK)  # a start, then no more
        assert read_status(sock) == 413
        assert time.monotonic() - started < FAST_SECONDS


def test_service_10mb_chunked_body_gets_413_while_it_streams(target: tuple[Served, str]) -> None:
    served, path = target
    chunk = f"{CHUNK:x}\r\n".encode() + b"a" * CHUNK + b"\r\n"
    sent = 0
    with connect(served.url, timeout=FAST_SECONDS) as sock:
        started = time.monotonic()
        sock.sendall(request_head(path, {**JSON_HEAD, "Transfer-Encoding": "chunked"}))
        while sent < TEN_MB and not select.select([sock], [], [], 0)[0]:
            sock.sendall(chunk)
            sent += CHUNK
        assert read_status(sock) == 413
    assert sent < TEN_MB  # the answer came while the body was still streaming
    assert time.monotonic() - started < FAST_SECONDS


def test_service_deeply_nested_json_gets_400(target: tuple[Served, str]) -> None:
    served, path = target
    depth = 40_000  # 80 kB: under every service's cap, far over Python's recursion limit
    body = b'{"text": ' + b"[" * depth + b"]" * depth + b"}"
    assert _post_raw(served, path, body) == (400, {"message": INVALID_JSON})


def test_service_invalid_utf8_gets_400(target: tuple[Served, str]) -> None:
    served, path = target
    assert _post_raw(served, path, b'{"text": "caf\xc3\x28 \xff\xfe"}') == (
        400,
        {"message": INVALID_JSON},
    )


def test_service_raw_nul_byte_in_json_string_gets_400(target: tuple[Served, str]) -> None:
    served, path = target
    assert _post_raw(served, path, b'{"text": "alpha\x00beta"}') == (400, {"message": INVALID_JSON})


@pytest.mark.parametrize("service", ["rake", "edge"])
def test_keywords_escaped_nul_is_part_of_a_phrase(
    service: str, request: pytest.FixtureRequest
) -> None:
    served: Served = request.getfixturevalue(f"{service}_served")
    reply = call("POST", served.url + "/keywords", json_body={"text": "alpha\u0000beta gamma"})
    assert (reply.status, reply.body) == (200, [{"candidate": "alpha\u0000beta gamma", "score": 9}])


@pytest.mark.parametrize("service", ["rake", "edge"])
def test_keywords_100k_stop_words_answer_empty_fast(
    service: str, request: pytest.FixtureRequest
) -> None:
    served: Served = request.getfixturevalue(f"{service}_served")
    started = time.monotonic()
    reply = call("POST", served.url + "/keywords", json_body={"text": "the " * 100_000})
    assert (reply.status, reply.body) == (200, [])
    assert time.monotonic() - started < FAST_SECONDS


def test_tokens_100k_stop_words_get_413_from_prose_and_through_the_edge(
    prose_served: Served, edge_served: Served
) -> None:
    # 400 kB: over prose-app's 100 kB cap, which the edge relays (its own cap is 1 MiB).
    for served in (prose_served, edge_served):
        reply = call("POST", served.url + "/tokens", json_body={"text": "the " * 100_000})
        assert (reply.status, reply.body) == (413, {"message": BODY_TOO_LARGE})


def test_service_slowloris_body_gets_408_and_is_cut_off(target: tuple[Served, str]) -> None:
    served, path = target
    with connect(served.url, timeout=5 * BODY_TIMEOUT_SECONDS) as sock:
        started = time.monotonic()  # before the headers: the server's deadline starts later
        sock.sendall(request_head(path, {**JSON_HEAD, "Content-Length": "1000"}))
        try:
            while not select.select([sock], [], [], BODY_TIMEOUT_SECONDS / 10)[0]:
                sock.sendall(b" ")  # one byte every 0.1 s: the body would take 100 s
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, _ = closed_or_answered(sock)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"\r\nconnection: close\r\n" in answer
    assert answer.endswith(json.dumps({"message": BODY_TIMEOUT}, separators=(",", ":")).encode())
    assert BODY_TIMEOUT_SECONDS <= elapsed < BODY_TIMEOUT_SECONDS + FAST_SECONDS


@pytest.fixture
def idle_connections(target: tuple[Served, str]) -> Iterator[list[socket.socket]]:
    """200 connections held open: half silent, half stuck in the middle of their headers."""
    served, path = target
    sockets = [connect(served.url, timeout=FAST_SECONDS) for _ in range(200)]
    try:
        for sock in sockets[::2]:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_service_keeps_serving_while_connections_are_held_open(
    target: tuple[Served, str], idle_connections: list[socket.socket]
) -> None:
    served, path = target
    started = time.monotonic()
    health = call("GET", served.url + "/health", key=None)
    work = call("POST", served.url + path, json_body={"text": "Held connections."})
    assert (health.status, health.body) == (200, {"status": "UP"})
    assert work.status == 200
    assert time.monotonic() - started < FAST_SECONDS
    # and the held connections are cut off at their header deadline: a 408 for a started request
    answers = [closed_or_answered(sock)[0][: len(TIMEOUT_STATUS)] for sock in idle_connections]
    assert answers == [TIMEOUT_STATUS, b""] * 100
    assert time.monotonic() - started < HEADER_TIMEOUT_SECONDS + FAST_SECONDS
