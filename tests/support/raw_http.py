"""HTTP over a raw socket, for what urllib won't send: partial bodies, hostile heads, clients that
leave before their answer."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from common import API_KEY_HEADER
from tests.support.http import TEST_API_KEY


def connect(url: str, *, timeout: float) -> socket.socket:
    """A TCP connection to the host and port of `url`."""
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def request_head(path: str, headers: dict[str, str]) -> bytes:
    """``POST path`` with the test key and `headers`; the caller sends the body (or not)."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"{API_KEY_HEADER}: {TEST_API_KEY}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_status(sock: socket.socket) -> int:
    """The status code of the response on `sock` (reads up to the end of the status line)."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before a status line; got {received!r}")
        received += chunk
    return int(received.split(b" ", 2)[1])


def closed_or_answered(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def post_and_leave(
    url: str, path: str, *, whole_body: bool = False, stay_seconds: float = 0.0
) -> None:
    """A client that leaves before its answer: it sends a POST, by default only the first bytes of
    the body its Content-Length promises, and closes the connection `stay_seconds` later without
    reading anything."""
    body = b'{"text": "a b"}'
    head = request_head(
        path, {"Content-Type": "application/json", "Content-Length": str(len(body))}
    )
    with connect(url, timeout=stay_seconds + 10) as client:
        client.sendall(head + (body if whole_body else body[:5]))
        time.sleep(stay_seconds)
