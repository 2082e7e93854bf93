"""Benchmark 6: each service's CPU per request next to a bare uvicorn app doing the same work.

Bar: every route within 2x of its floor, in server CPU µs per answered request (utime + stime of
the answering process, from /proc), measured in the same run. The floors:
``benchmarks.bare_app`` (raw ASGI, the same RAKE and spaCy engine, the key and Content-Type
checked, JSON in and out) for ``GET /health``, ``POST /keywords`` and ``POST /tokens``, and
``benchmarks.bare_forwarder`` for the edge's relayed ``POST /keywords`` (the edge's process
against the forwarder's). Load: `wrk` at concurrency 16 (2 threads), the targets in turn over
`ROUNDS` rounds of `SECONDS`; the median of the rounds. Run:
``.venv/bin/python -m benchmarks.bench_http_layer`` (about 1.5 minutes).
"""

from __future__ import annotations

import json
import shutil
import statistics
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from benchmarks.harness import BENCH_KEY, Figure, cpu_seconds, report, started_module
from benchmarks.wrk import WRK, Request, run_wrk
from common import API_KEY_HEADER
from local_stack import EXAMPLE_TEXT, NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES
from tests.utils.processes import free_port, started_service

NAME = "http_layer"
CONCURRENCY = 16
SECONDS = 2
ROUNDS = 3
MAX_RATIO = 2.0
POST_HEADERS = {API_KEY_HEADER: BENCH_KEY, "Content-Type": "application/json"}
BODY = json.dumps({"text": EXAMPLE_TEXT})
HEALTH = Request(method="GET")
TEXT_POST = Request(method="POST", body=BODY, headers=POST_HEADERS)


@dataclass(frozen=True, kw_only=True)
class Case:
    """A route of a service and the floor that does the same work: base URLs and the pids
    whose CPU counts."""

    name: str
    path: str
    request: Request
    service: tuple[str, int]
    floor: tuple[str, int]


def cpu_per_request(url: str, request: Request, pid: int) -> float:
    """µs of `pid`'s CPU per answer over one wrk run of `request` to `url`."""
    before = cpu_seconds(pid)
    result = run_wrk(url, request, connections=CONCURRENCY, threads=2, seconds=SECONDS)
    return (cpu_seconds(pid) - before) / result.requests * 1e6


def _same_answer(case: Case) -> None:
    answers = []
    for base, _ in (case.service, case.floor):
        data = case.request.body.encode() if case.request.body else None
        sent = urllib.request.Request(
            base + case.path,
            data=data,
            headers=dict(case.request.headers),
            method=case.request.method,
        )
        with urllib.request.urlopen(sent, timeout=30) as response:
            answers.append(json.loads(response.read()))
    if answers[0] != answers[1]:
        raise RuntimeError(f"{case.name}: the floor answers differently: {answers}")


def figures(samples: Mapping[str, tuple[list[float], list[float]]]) -> list[Figure]:
    """Per case: the service's and the floor's median µs per request, and their ratio (bar)."""
    result = []
    for name, (service, floor) in samples.items():
        service_us, floor_us = statistics.median(service), statistics.median(floor)
        result += [
            Figure(name=f"{name}: service CPU", value=service_us, unit="us/req"),
            Figure(name=f"{name}: floor CPU", value=floor_us, unit="us/req"),
            Figure(
                name=f"{name}: service / floor",
                value=service_us / floor_us,
                unit="ratio",
                maximum=MAX_RATIO,
            ),
        ]
    return result


def main() -> bool:
    if shutil.which(WRK) is None:
        raise SystemExit(f"this benchmark needs `{WRK}` on PATH: apt-get install wrk")
    ports = {service: free_port() for service in SERVICES}
    with (
        started_service(RAKE_APP, api_key=BENCH_KEY, ports=ports) as rake,
        started_service(PROSE_APP, api_key=BENCH_KEY, ports=ports) as prose,
        started_service(NLP_CLIENT, api_key=BENCH_KEY, ports=ports) as edge,
        started_module("benchmarks.bare_app") as bare,
        started_module("benchmarks.bare_forwarder", rake.url) as forwarder,
    ):
        rake_s, prose_s = (rake.url, rake.process.pid), (prose.url, prose.process.pid)
        edge_s = (edge.url, edge.process.pid)
        cases = [
            Case(
                name="rake-app GET /health",
                path="/health",
                request=HEALTH,
                service=rake_s,
                floor=bare,
            ),
            Case(
                name="rake-app POST /keywords",
                path="/keywords",
                request=TEXT_POST,
                service=rake_s,
                floor=bare,
            ),
            Case(
                name="prose-app GET /health",
                path="/health",
                request=HEALTH,
                service=prose_s,
                floor=bare,
            ),
            Case(
                name="prose-app POST /tokens",
                path="/tokens",
                request=TEXT_POST,
                service=prose_s,
                floor=bare,
            ),
            Case(
                name="nlp-client GET /health",
                path="/health",
                request=HEALTH,
                service=edge_s,
                floor=bare,
            ),
            Case(
                name="nlp-client POST /keywords (relayed)",
                path="/keywords",
                request=TEXT_POST,
                service=edge_s,
                floor=forwarder,
            ),
        ]
        samples: dict[str, tuple[list[float], list[float]]] = {}
        for case in cases:
            _same_answer(case)
            samples[case.name] = ([], [])
            for base, pid in (case.service, case.floor):  # warm-up: connections, code paths
                cpu_per_request(base + case.path, case.request, pid)
        for _ in range(ROUNDS):
            for case in cases:
                for sample, (base, pid) in zip(
                    samples[case.name], (case.service, case.floor), strict=True
                ):
                    sample.append(cpu_per_request(base + case.path, case.request, pid))
    notes = [
        f"wrk, c={CONCURRENCY}, 2 threads; {ROUNDS} rounds of {SECONDS} s, targets in turn; "
        "median server CPU (utime+stime) per answered request",
        "floors: benchmarks/bare_app.py (same work, raw ASGI), benchmarks/bare_forwarder.py "
        "(the relay; the edge's process against the forwarder's)",
        f"POST body: the seed sentence ({len(EXAMPLE_TEXT)} characters)",
    ]
    return report(NAME, figures(samples), notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
