"""Benchmark 4: cold start (process spawn to ``/health`` 200) and memory of each service.

Bars: rake-app and the edge start in under 1.5 s and prose-app in under 3 s; RSS under
100 MB for rake-app and the edge, under 400 MB for prose-app (measured after one real request, so
lazily built state is counted). Run: ``.venv/bin/python -m benchmarks.bench_cold_start``.
"""

from __future__ import annotations

import json
import statistics
import urllib.request
from dataclasses import dataclass

from benchmarks.harness import BENCH_KEY, Figure, report, rss_mb
from common import API_KEY_HEADER
from local_stack import NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES, Service
from tests.support.processes import started_service

NAME = "cold_start"
STARTS = 3
SAMPLE_TEXT = "Tim Cook runs Apple from Cupertino. The Internet is a global system of networks."


@dataclass(frozen=True, kw_only=True)
class Bars:
    # A route that makes the service do its real work once before RSS is read (the edge alone
    # has none: its work is forwarding).
    warm_path: str | None
    max_start_seconds: float
    max_rss_mb: float


BARS = {
    RAKE_APP: Bars(warm_path="/keywords", max_start_seconds=1.5, max_rss_mb=100),
    PROSE_APP: Bars(warm_path="/tokens", max_start_seconds=3.0, max_rss_mb=400),
    NLP_CLIENT: Bars(warm_path=None, max_start_seconds=1.5, max_rss_mb=100),
}


def _post(url: str) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": SAMPLE_TEXT}).encode(),
        headers={API_KEY_HEADER: BENCH_KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def measure(service: Service) -> list[Figure]:
    """Median start time over `STARTS` spawns, and the largest RSS seen after warm-up."""
    bars = BARS[service]
    starts: list[float] = []
    rss: list[float] = []
    for _ in range(STARTS):
        with started_service(service, api_key=BENCH_KEY) as running:
            starts.append(running.startup_seconds)
            if bars.warm_path is not None:
                _post(running.url + bars.warm_path)
            rss.append(rss_mb(running.process.pid))
    return [
        Figure(
            name=f"{service.name} start to /health 200 (median)",
            value=statistics.median(starts),
            unit="s",
            maximum=bars.max_start_seconds,
        ),
        Figure(name=f"{service.name} RSS", value=max(rss), unit="MB", maximum=bars.max_rss_mb),
    ]


def main() -> bool:
    figures = [figure for service in SERVICES for figure in measure(service)]
    return report(NAME, figures, notes=[f"median of {STARTS} starts; page cache warm"])


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
