"""Upstreams that misbehave on loopback: one that accepts and never answers, one that sends
garbage, one whose JSON is not JSON, one that redirects elsewhere.

Each is a plain TCP server in daemon threads, so the edge's client meets the fault at the socket
level, exactly as it would meet a wedged or broken process.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Fault = Literal["hang", "garbage", "bad-json", "redirect"]

# Not HTTP at all: what a process speaking another protocol (or a corrupted proxy) sends back.
GARBAGE = b"\x00\xff\xfeSSH-2.0-not-http\r\n\r\n"
# Well-formed HTTP whose JSON body is not JSON.
BAD_JSON = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n"
    b"Connection: close\r\n\r\nnot json!"
)
# A redirect to `faulty_upstream(..., location=...)`.
REDIRECT = (
    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)
_POLL_SECONDS = 0.1


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fault: Fault, port: int, location: str) -> None:
        self.fault = fault
        self.answer = {"garbage": GARBAGE, "bad-json": BAD_JSON}.get(
            fault, REDIRECT % location.encode()
        )
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(_POLL_SECONDS)
        if self.server.fault == "hang":
            self._hold(conn)
            return
        try:
            conn.recv(65536)
        except TimeoutError:
            pass
        conn.sendall(self.server.answer)

    def _hold(self, conn: socket.socket) -> None:
        # Read whatever comes and never answer, until the client gives up or the test ends.
        while not self.server.stopping.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue


@contextmanager
def faulty_upstream(fault: Fault, *, port: int = 0, location: str = "") -> Iterator[str]:
    """Serve `fault` on 127.0.0.1 at `port` (default: a free one), redirecting to `location`;
    yields its base URL."""
    server = _Server(fault, port, location)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _POLL_SECONDS})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
