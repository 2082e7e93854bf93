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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from benchmarks.harness import BENCH_KEY, Figure, cpu_seconds, report, started_module
from benchmarks.wrk import WRK, Request, run_wrk
from common import API_KEY_HEADER
from local_stack import EXAMPLE_TEXT, NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES, Service
from tests.support.ports import free_port
from tests.support.processes import started_service

NAME = "http_layer"
CONCURRENCY = 16
SECONDS = 2
ROUNDS = 3
MAX_RATIO = 2.0
POST_HEADERS = {API_KEY_HEADER: BENCH_KEY, "Content-Type": "application/json"}
BODY = json.dumps({"text": EXAMPLE_TEXT})
HEALTH = Request(method="GET")
TEXT_POST = Request(method="POST", body=BODY, headers=POST_HEADERS)
# The floors, as modules `harness.started_module` runs.
BARE_APP, FORWARDER = "benchmarks.bare_app", "benchmarks.bare_forwarder"


@dataclass(frozen=True, kw_only=True)
class Case:
    """A route of a service, and the floor module that does the same work."""

    name: str
    path: str
    request: Request
    service: Service
    floor: str  # BARE_APP or FORWARDER (which relays to rake-app)


CASES = (
    Case(
        name="rake-app GET /health",
        path="/health",
        request=HEALTH,
        service=RAKE_APP,
        floor=BARE_APP,
    ),
    Case(
        name="rake-app POST /keywords",
        path="/keywords",
        request=TEXT_POST,
        service=RAKE_APP,
        floor=BARE_APP,
    ),
    Case(
        name="prose-app GET /health",
        path="/health",
        request=HEALTH,
        service=PROSE_APP,
        floor=BARE_APP,
    ),
    Case(
        name="prose-app POST /tokens",
        path="/tokens",
        request=TEXT_POST,
        service=PROSE_APP,
        floor=BARE_APP,
    ),
    Case(
        name="nlp-client GET /health",
        path="/health",
        request=HEALTH,
        service=NLP_CLIENT,
        floor=BARE_APP,
    ),
    Case(
        name="nlp-client POST /keywords (relayed)",
        path="/keywords",
        request=TEXT_POST,
        service=NLP_CLIENT,
        floor=FORWARDER,
    ),
)


def cpu_per_request(url: str, request: Request, pid: int, seconds: int) -> float:
    """µs of `pid`'s CPU per answer over one wrk run of `request` to `url` for `seconds`."""
    before = cpu_seconds(pid)
    result = run_wrk(url, request, connections=CONCURRENCY, threads=2, seconds=seconds)
    return (cpu_seconds(pid) - before) / result.requests * 1e6


def _same_answer(case: Case, bases: tuple[str, str]) -> None:
    answers = []
    for base in bases:
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


@contextmanager
def _targets(cases: Sequence[Case]) -> Iterator[dict[str, tuple[str, int]]]:
    """The processes `cases` need, started (the edge and the forwarder relay to rake-app): base
    URL and pid by service name or floor module, until the block ends."""
    ports = {service: free_port() for service in SERVICES}
    needed = {case.service for case in cases}
    if NLP_CLIENT in needed or any(case.floor == FORWARDER for case in cases):
        needed.add(RAKE_APP)
    with ExitStack() as stack:
        targets = {}
        for service in SERVICES:  # in their start order: the edge after its upstreams
            if service in needed:
                started = started_service(service, api_key=BENCH_KEY, ports=ports)
                running = stack.enter_context(started)
                targets[service.name] = (running.url, running.process.pid)
        for floor in sorted({case.floor for case in cases}):
            relay_to = [targets[RAKE_APP.name][0]] if floor == FORWARDER else []
            targets[floor] = stack.enter_context(started_module(floor, *relay_to))
        yield targets


def main(
    cases: Sequence[Case] = CASES,
    *,
    seconds: int = SECONDS,
    rounds: int = ROUNDS,
    warm_up: bool = True,
) -> bool:
    """Measure `cases` (`rounds` of `seconds` each, after a warm-up run of each target), print
    the figures and write them to results/; True if every bar is met."""
    if shutil.which(WRK) is None:
        raise SystemExit(f"this benchmark needs `{WRK}` on PATH: apt-get install wrk")
    samples: dict[str, tuple[list[float], list[float]]] = {}
    with _targets(cases) as targets:
        pairs = {case.name: (targets[case.service.name], targets[case.floor]) for case in cases}
        for case in cases:
            service, floor = pairs[case.name]
            _same_answer(case, (service[0], floor[0]))
            samples[case.name] = ([], [])
            if warm_up:  # connections, code paths
                for base, pid in pairs[case.name]:
                    cpu_per_request(base + case.path, case.request, pid, seconds)
        for _ in range(rounds):
            for case in cases:
                for sample, (base, pid) in zip(samples[case.name], pairs[case.name], strict=True):
                    sample.append(cpu_per_request(base + case.path, case.request, pid, seconds))
    notes = [
        f"wrk, c={CONCURRENCY}, 2 threads; {rounds} rounds of {seconds} s, targets in turn; "
        "median server CPU (utime+stime) per answered request",
        "floors: benchmarks/bare_app.py (same work, raw ASGI), benchmarks/bare_forwarder.py "
        "(the relay; the edge's process against the forwarder's)",
        f"POST body: the seed sentence ({len(EXAMPLE_TEXT)} characters)",
    ]
    return report(NAME, figures(samples), notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
