"""Benchmark 3: ``POST /keywords`` direct to rake-app vs through the edge (nlp-client).

Bars (issue 7): the hop adds at most 0.6 ms to the median latency at concurrency 1, and keeps at
least 50% of the direct throughput at concurrency 16 and 64. Both services run as real processes
on loopback; the load generator is `benchmarks.loadgen` (closed loop, one aiohttp session). The
two targets take turns, `ROUNDS` times, and each keeps its best round.
Run: ``.venv/bin/python -m benchmarks.bench_edge``.
"""

from __future__ import annotations

import asyncio

from benchmarks.harness import BENCH_KEY, Figure, report
from benchmarks.loadgen import Call, LoadResult, run_load
from common import API_KEY_HEADER
from local_stack import EXAMPLE_TEXT, NLP_CLIENT, RAKE_APP, SERVICES
from tests.utils.processes import free_port, started_service

NAME = "edge"
CONCURRENCIES = (1, 16, 64)
SECONDS = 3.0
ROUNDS = 2
MAX_HOP_P50_MS = 0.6
MIN_THROUGHPUT_SHARE = 0.5
CALLS = [Call(method="POST", path="/keywords", json={"text": EXAMPLE_TEXT})]


def _load(url: str, concurrency: int, seconds: float) -> LoadResult:
    result = asyncio.run(
        run_load(
            url,
            CALLS,
            concurrency=concurrency,
            seconds=seconds,
            headers={API_KEY_HEADER: BENCH_KEY},
        )
    )
    if result.failures or set(result.statuses) != {200}:
        raise RuntimeError(f"unexpected answers from {url}: {result.statuses} {result.failures}")
    return result


def _best(results: list[LoadResult]) -> LoadResult:
    return max(results, key=lambda result: result.per_second)


def main() -> bool:
    ports = {service: free_port() for service in SERVICES}
    figures: list[Figure] = []
    with (
        started_service(RAKE_APP, api_key=BENCH_KEY, ports=ports) as rake,
        started_service(NLP_CLIENT, api_key=BENCH_KEY, ports=ports) as edge,
    ):
        for url in (rake.url, edge.url):
            _load(url, 16, 1.0)  # warm-up: connections, thread pool, code paths
        for concurrency in CONCURRENCIES:
            runs: dict[str, list[LoadResult]] = {"direct": [], "edge": []}
            for _ in range(ROUNDS):
                runs["direct"].append(_load(rake.url, concurrency, SECONDS))
                runs["edge"].append(_load(edge.url, concurrency, SECONDS))
            direct, hop = _best(runs["direct"]), _best(runs["edge"])
            for label, result in (("direct", direct), ("edge", hop)):
                figures += [
                    Figure(
                        name=f"c={concurrency} {label} req/s", value=result.per_second, unit="req/s"
                    ),
                    Figure(
                        name=f"c={concurrency} {label} p50",
                        value=result.percentile_ms(50),
                        unit="ms",
                    ),
                    Figure(
                        name=f"c={concurrency} {label} p99",
                        value=result.percentile_ms(99),
                        unit="ms",
                    ),
                ]
            if concurrency == 1:
                added = hop.percentile_ms(50) - direct.percentile_ms(50)
                figures.append(
                    Figure(name="c=1 hop adds p50", value=added, unit="ms", maximum=MAX_HOP_P50_MS)
                )
            else:
                figures.append(
                    Figure(
                        name=f"c={concurrency} edge / direct req/s",
                        value=hop.per_second / direct.per_second,
                        unit="ratio",
                        minimum=MIN_THROUGHPUT_SHARE,
                    )
                )
    notes = [
        f"POST /keywords with the seed sentence; {SECONDS:g} s per run, best of {ROUNDS} runs",
        "load generator: benchmarks/loadgen.py in this process (it shares the 2 cores)",
    ]
    return report(NAME, figures, notes=notes)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
