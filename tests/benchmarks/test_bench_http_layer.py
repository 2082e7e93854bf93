"""benchmarks.bench_http_layer's figures from samples, the floor app it measures against, and
the script itself run live for a moment (so it cannot rot unnoticed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_http_layer, harness
from benchmarks.bare_app import BareApp
from benchmarks.bench_http_layer import CASES, FORWARDER, figures
from benchmarks.harness import BENCH_KEY
from common import API_KEY_HEADER
from tests.benchmarks.markers import needs_wrk


def test_figures_are_medians_and_their_ratio_with_a_2x_bar() -> None:
    found = {
        f.name: (f.value, f.passed)
        for f in figures({"r": ([40.0, 90.0, 50.0], [20.0, 30.0, 25.0]), "s": ([70.0], [30.0])})
    }
    assert found == {
        "r: service CPU": (50.0, None),
        "r: floor CPU": (25.0, None),
        "r: service / floor": (2.0, True),
        "s: service CPU": (70.0, None),
        "s: floor CPU": (30.0, None),
        "s: service / floor": (70.0 / 30.0, False),
    }


def _call(app: BareApp, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_bare_app_does_the_work_and_checks_key_and_type() -> None:
    app = BareApp(prose=None)  # type: ignore[arg-type]  # /tokens is not called here
    good = {API_KEY_HEADER: BENCH_KEY, "Content-Type": "application/json"}
    text = json.dumps({"text": "global system of interconnected networks"}).encode()
    assert _call(app, "GET", "/health", {}, b"") == (200, {"status": "UP"})
    assert _call(app, "POST", "/keywords", good, text) == (
        200,
        [
            {"candidate": "global system", "score": 4},
            {"candidate": "interconnected networks", "score": 4},
        ],
    )
    assert _call(app, "POST", "/keywords", {**good, API_KEY_HEADER: "x"}, text)[0] == 401
    assert _call(app, "POST", "/keywords", {**good, "Content-Type": "text/plain"}, text)[0] == 415


@needs_wrk
def test_live_run_of_one_case_per_floor_writes_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real script on real processes, for 1 s per target: rake-app against the bare app, the
    # edge's relay against the forwarder (both floors, every process kind it starts).
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    cases = [CASES[1], next(case for case in CASES if case.floor == FORWARDER)]

    bench_http_layer.main(cases, seconds=1, rounds=1, warm_up=False)

    record = json.loads((tmp_path / "http_layer.json").read_text())
    values = {figure["name"]: figure["value"] for figure in record["figures"]}
    expected = [
        f"{case.name}: {what}"
        for case in cases
        for what in ("service CPU", "floor CPU", "service / floor")
    ]
    assert (record["benchmark"], list(values)) == ("http_layer", expected)
    assert all(value > 0 for value in values.values())
