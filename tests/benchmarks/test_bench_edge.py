"""benchmarks.bench_edge's figures from rounds, and the bare forwarder it measures as a floor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

from aiohttp import web

from benchmarks.bare_forwarder import Forwarder
from benchmarks.bench_edge import Run, _figures, _pick
from benchmarks.harness import Figure


def _run(*, per_second: float, p50_ms: float, cpu: float = 0.25) -> Run:
    return Run(
        requests=1000,
        per_second=per_second,
        p50_ms=p50_ms,
        p99_ms=2 * p50_ms,
        cpu={"server": cpu},
    )


def test_pick_concurrency_1_takes_lowest_p50_else_highest_rate() -> None:
    fast_latency = _run(per_second=900.0, p50_ms=0.5)
    fast_rate = _run(per_second=1000.0, p50_ms=0.75)

    assert _pick([fast_rate, fast_latency], 1) is fast_latency
    assert _pick([fast_latency, fast_rate], 16) is fast_rate


def test_figures_concurrency_1_hop_from_best_rounds_cpu_median_of_rounds() -> None:
    runs = {
        "direct": [
            _run(per_second=1000.0, p50_ms=1.0, cpu=0.25),
            _run(per_second=900.0, p50_ms=0.5, cpu=1.0),
            _run(per_second=950.0, p50_ms=0.75, cpu=0.5),
        ],
        "edge": [_run(per_second=800.0, p50_ms=0.75, cpu=0.5)],
        "floor": [_run(per_second=850.0, p50_ms=0.625)],
    }

    figures = {figure.name: figure for figure in _figures(1, runs)}

    assert figures["c=1 direct p50"].value == 0.5
    assert figures["c=1 direct req/s"].value == 900.0  # from the lowest-p50 round
    assert figures["c=1 direct: server CPU"].value == 500.0  # median of 250, 1000, 500
    assert figures["c=1 edge: server CPU"].value == 500.0
    assert figures["c=1 edge hop adds p50"] == Figure(
        name="c=1 edge hop adds p50", value=0.25, unit="ms", maximum=0.6
    )
    assert figures["c=1 floor hop adds p50"] == Figure(
        name="c=1 floor hop adds p50", value=0.125, unit="ms"
    )


def test_figures_concurrency_16_rate_ratio_has_the_bar_only_for_the_edge() -> None:
    runs = {
        "direct": [_run(per_second=1000.0, p50_ms=1.0), _run(per_second=2000.0, p50_ms=2.0)],
        "edge": [_run(per_second=1000.0, p50_ms=4.0)],
        "floor": [_run(per_second=1500.0, p50_ms=3.0)],
    }

    figures = {figure.name: figure for figure in _figures(16, runs)}

    assert figures["c=16 edge / direct req/s"] == Figure(
        name="c=16 edge / direct req/s", value=0.5, unit="ratio", minimum=0.5
    )
    assert figures["c=16 floor / direct req/s"] == Figure(
        name="c=16 floor / direct req/s", value=0.75, unit="ratio"
    )


async def _forward_once(upstream_url: str) -> list[MutableMapping[str, Any]]:
    """The forwarder's lifespan around one request with a two-part body: all it sent."""
    forwarder = Forwarder(upstream_url)
    lifespan: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    body: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": b'{"text": ', "more_body": True},
        {"type": "http.request", "body": b'"hi"}', "more_body": False},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return body.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await lifespan.put({"type": "lifespan.startup"})
    running = asyncio.create_task(forwarder({"type": "lifespan"}, lifespan.get, send))
    while not sent:  # lifespan.startup.complete
        await asyncio.sleep(0)
    headers = [
        (b"content-type", b"application/json"),
        (b"x-api-key", b"the-key"),
        (b"x-other", b"not relayed"),
    ]
    scope = {"type": "http", "method": "POST", "path": "/keywords", "headers": headers}
    await forwarder(scope, receive, send)
    await lifespan.put({"type": "lifespan.shutdown"})
    await running
    return sent


def test_forwarder_relays_body_and_key_then_status_and_body_back() -> None:
    async def echo(request: web.Request) -> web.Response:
        seen = {
            "method": request.method,
            "path": request.path,
            "body": await request.text(),
            "key": request.headers.get("X-API-Key"),
            "other": request.headers.get("X-Other"),
        }
        return web.json_response(seen, status=201)

    async def scenario() -> list[MutableMapping[str, Any]]:
        app = web.Application()
        app.router.add_post("/keywords", echo)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            return await _forward_once(f"http://127.0.0.1:{port}/")
        finally:
            await runner.cleanup()

    messages = asyncio.run(scenario())

    expected_body = {
        "method": "POST",
        "path": "/keywords",
        "body": '{"text": "hi"}',
        "key": "the-key",
        "other": None,
    }
    payload = json.dumps(expected_body).encode()
    assert messages == [
        {"type": "lifespan.startup.complete"},
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [
                (b"content-type", b"application/json"),  # as the edge answers
                (b"content-length", str(len(payload)).encode()),
            ],
        },
        {"type": "http.response.body", "body": payload},
        {"type": "lifespan.shutdown.complete"},
    ]
