"""A bounded async HTTP load generator on one aiohttp session: N workers, a duration or a count.

Used by the edge benchmark and by the load test in tests/robustness. Each worker sends its next
request as soon as the previous answer's body is read (a closed loop), so `concurrency` is exactly
the number of requests in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request the workers send, in turn with the others."""

    method: str
    path: str
    # Default: no body.
    json: object = None
    # Default: no headers beyond the run's own.
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    """What a run saw: answers by status, failures by kind, and each answer's latency."""

    elapsed: float
    statuses: Counter[int]
    failures: Counter[str]
    latencies: tuple[float, ...]

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def per_second(self) -> float:
        return self.answered / self.elapsed

    def percentile_ms(self, percent: int) -> float:
        """The latency below which `percent`% of answers came, in milliseconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[percent - 1] * 1000


async def run_load(
    base_url: str,
    calls: Sequence[Call],
    *,
    concurrency: int,
    seconds: float | None = None,
    requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> LoadResult:
    """Send `calls` in turn from `concurrency` workers for `seconds`, or `requests` in all.

    Usage::

        result = asyncio.run(run_load("http://127.0.0.1:8080", [Call(method="GET", path="/health")],
                                      concurrency=16, seconds=5))
        result.per_second, result.percentile_ms(99), result.statuses  # Counter({200: 41873})
    """
    if (seconds is None) == (requests is None):
        raise ValueError("give exactly one of `seconds` or `requests`")
    order = itertools.cycle(calls)
    budget = itertools.count() if requests is None else iter(range(requests))
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else float("inf")

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline and next(budget, None) is not None:
            call = next(order)
            sent = time.perf_counter()
            try:
                async with session.request(
                    call.method, base_url + call.path, json=call.json, headers=call.headers
                ) as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - sent)
            statuses[response.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, headers=headers
    ) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return LoadResult(
        elapsed=time.perf_counter() - started,
        statuses=statuses,
        failures=failures,
        latencies=tuple(latencies),
    )
