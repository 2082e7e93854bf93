"""Context for the edge's hop at concurrency 1: what an idle gap before each request costs a
service on this machine.

Straight to rake-app at concurrency 1, the next request arrives a few microseconds after the last
answer. Through the edge, rake-app sits idle while the edge and wrk work (about half a
millisecond a request), and the edge sits idle while rake-app works. On a small VM an idle vCPU
halts, and the next request finds it cold (the host ran something else; caches and branch
predictors lost their state): the same request then costs more CPU and more time. The edge's hop
pays this twice, and so does the bare forwarder (``bench_edge``'s floor).

This sends rake-app ``bench_edge``'s request one at a time over one keep-alive connection, the
client spinning through a fixed gap before each one (so only the server idles), and reports
rake-app's CPU per request and the median latency for each gap. No bar: it measures the machine,
not the code. Rounds take turns as in ``bench_edge``: CPU is the median of the rounds, latency
the least disturbed round.
Run: ``.venv/bin/python -m benchmarks.bench_wake`` (about 1 minute).
"""

from __future__ import annotations

import re
import socket
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from benchmarks.bench_edge import BODY, HEADERS, PATH
from benchmarks.harness import BENCH_KEY, Figure, cpu_seconds, report
from local_stack import RAKE_APP
from tests.support.processes import started_service

NAME = "wake"
GAPS_MS = (0.0, 0.5, 2.0)
ROUNDS = 5
SECONDS = 3


@dataclass(frozen=True, kw_only=True)
class Run:
    """One round at one gap: median latency, and the server's CPU per request."""

    p50_ms: float
    cpu_us: float


def _spin(seconds: float) -> None:
    # A busy wait, not a sleep: the client's core stays busy, so only the server's goes idle.
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _request(host: str, port: int) -> bytes:
    head = [f"POST {PATH} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(BODY)}"]
    head += [f"{name}: {value}" for name, value in HEADERS.items()]
    return "\r\n".join([*head, "", BODY]).encode()


def _exchange(connection: socket.socket, request: bytes) -> None:
    """One request and its whole answer (raises unless it is a 200).

    A raw socket, not http.client: the gap the server sees must be only the one asked for, and
    http.client spends about 0.15 ms parsing each answer's headers, itself a gap.
    """
    connection.sendall(request)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += _received(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    if not head.startswith(b"HTTP/1.1 200 ") or length is None:
        raise RuntimeError(f"unexpected answer from rake-app: {head!r}")
    while len(body) < int(length[1]):
        body += _received(connection)


def _received(connection: socket.socket) -> bytes:
    data = connection.recv(65536)
    if not data:
        raise RuntimeError("rake-app closed the connection mid-answer")
    return data


def _measure(connection: socket.socket, request: bytes, pid: int, gap_ms: float) -> Run:
    latencies = []
    cpu_before = cpu_seconds(pid)
    end = time.perf_counter() + SECONDS
    while time.perf_counter() < end:
        _spin(gap_ms / 1000)
        started = time.perf_counter()
        _exchange(connection, request)
        latencies.append(time.perf_counter() - started)
    return Run(
        p50_ms=statistics.median(latencies) * 1000,
        cpu_us=(cpu_seconds(pid) - cpu_before) / len(latencies) * 1e6,
    )


def _figures(runs: dict[float, list[Run]]) -> list[Figure]:
    p50 = {gap: min(run.p50_ms for run in gap_runs) for gap, gap_runs in runs.items()}
    cpu = {gap: statistics.median(run.cpu_us for run in gap_runs) for gap, gap_runs in runs.items()}
    figures = []
    for gap in runs:
        label = "back to back" if gap == 0 else f"{gap:g} ms idle"
        figures += [
            Figure(name=f"{label}: rake-app p50", value=p50[gap], unit="ms"),
            Figure(name=f"{label}: rake-app CPU", value=cpu[gap], unit="us/req"),
        ]
    for gap in runs:
        if gap:
            figures += [
                Figure(name=f"{gap:g} ms idle adds p50", value=p50[gap] - p50[0.0], unit="ms"),
                Figure(name=f"{gap:g} ms idle adds CPU", value=cpu[gap] - cpu[0.0], unit="us/req"),
            ]
    return figures


def main() -> bool:
    with started_service(RAKE_APP, api_key=BENCH_KEY) as rake:
        address = urlsplit(rake.url)
        host, port = address.hostname or "", address.port or 80
        request = _request(host, port)
        pid = rake.process.pid
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _measure(connection, request, pid, 0.0)  # warm up the code paths
            runs: dict[float, list[Run]] = {gap: [] for gap in GAPS_MS}
            for _ in range(ROUNDS):
                for gap in GAPS_MS:
                    runs[gap].append(_measure(connection, request, pid, gap))
    notes = [
        f"POST {PATH} with the seed sentence to rake-app, one at a time on one connection; "
        f"{ROUNDS} rounds of {SECONDS} s, gaps in turn; the client spins through each gap",
        "CPU: rake-app utime+stime per answered request, median of the rounds; "
        "p50: the round with the lowest",
        "latency: from sending the request to reading the whole answer, on a raw socket",
    ]
    return report(NAME, _figures(runs), notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
