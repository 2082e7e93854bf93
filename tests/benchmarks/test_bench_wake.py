"""benchmarks.bench_wake's figures from rounds, and its raw-socket exchange with a server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from benchmarks.bench_wake import Run, _exchange, _figures
from benchmarks.harness import Figure

REQUEST = b"POST /keywords HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


def test_figures_p50_from_the_best_round_cpu_median_and_the_gaps_cost() -> None:
    runs = {
        0.0: [Run(p50_ms=0.25, cpu_us=400.0), Run(p50_ms=0.5, cpu_us=300.0)],
        0.5: [
            Run(p50_ms=0.75, cpu_us=500.0),
            Run(p50_ms=0.5, cpu_us=700.0),
            Run(p50_ms=1.0, cpu_us=600.0),
        ],
    }

    figures = _figures(runs)

    assert figures == [
        Figure(name="back to back: rake-app p50", value=0.25, unit="ms"),
        Figure(name="back to back: rake-app CPU", value=350.0, unit="us/req"),
        Figure(name="0.5 ms idle: rake-app p50", value=0.5, unit="ms"),
        Figure(name="0.5 ms idle: rake-app CPU", value=600.0, unit="us/req"),
        Figure(name="0.5 ms idle adds p50", value=0.25, unit="ms"),
        Figure(name="0.5 ms idle adds CPU", value=250.0, unit="us/req"),
    ]


@contextmanager
def _server(answer: Callable[[socket.socket], None]) -> Iterator[socket.socket]:
    """A client socket connected to a one-connection server that runs `answer` on it."""
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:

        def serve() -> None:
            connection, _ = listener.accept()
            with connection:
                answer(connection)

        server = threading.Thread(target=serve)
        server.start()
        with socket.create_connection(listener.getsockname(), timeout=5) as client:
            yield client
        server.join(timeout=5)


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while len(data) < len(REQUEST):
        data += connection.recv(65536)
    return data


def test_exchange_reads_an_answer_sent_in_pieces_to_its_content_length() -> None:
    seen: list[bytes] = []

    def answer(connection: socket.socket) -> None:
        seen.append(_read_request(connection))
        connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n")
        connection.sendall(b"\r\n[1,")
        connection.sendall(b"2]")
        seen.append(connection.recv(1))  # b"" once the client closes, after its whole answer

    with _server(answer) as client:
        _exchange(client, REQUEST)

    assert seen == [REQUEST, b""]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        pytest.param(
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n",
            "unexpected answer from rake-app: b'HTTP/1.1 401 Unauthorized\\r\\ncontent-length: 0'",
            id="not-200",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n[1",
            "rake-app closed the connection mid-answer",
            id="closed-mid-body",
        ),
    ],
)
def test_exchange_bad_answer_raises_instead_of_waiting(reply: bytes, error: str) -> None:
    def answer(connection: socket.socket) -> None:
        _read_request(connection)
        connection.sendall(reply)

    with _server(answer) as client, pytest.raises(RuntimeError) as raised:
        _exchange(client, REQUEST)

    assert str(raised.value) == error
