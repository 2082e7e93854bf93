"""rake-app over HTTP."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn

import rake_app.app
from common import RakeSettings, factory
from common.fast_path import FastPath
from rake_app.app import INLINE_MAX_CHARS, LARGE_TEXT_SCORERS
from rake_app.app import create_app as create_rake_app
from rake_app.rake import extract_keywords
from tests.services.served_apps import COMMON_ROUTES
from tests.support.http import TEST_API_KEY, call
from tests.support.samples import SEED_KEYWORDS, SEED_TEXT


def test_keywords_seed_text_returns_seed_candidates_as_json(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": SEED_TEXT})
    expected = [{"candidate": phrase, "score": score} for phrase, score in SEED_KEYWORDS]
    assert (reply.status, reply.body) == (200, expected)


def test_keywords_integral_score_is_printed_without_decimal_point(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": "global system"})
    assert (reply.status, reply.text) == (200, '[{"candidate":"global system","score":4}]')


def test_keywords_fractional_score_keeps_full_precision(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": "deep learning. learning"})
    assert (reply.status, reply.body) == (
        200,
        [{"candidate": "deep learning", "score": 3.5}, {"candidate": "learning", "score": 1.5}],
    )


def test_keywords_empty_text_returns_empty_list_not_null(rake_url: str) -> None:
    reply = call("POST", f"{rake_url}/keywords", json_body={"text": ""})
    assert (reply.status, reply.body) == (200, [])


def test_routes_lists_health_routes_and_keywords_in_order(rake_url: str) -> None:
    reply = call("GET", f"{rake_url}/routes")
    assert (reply.status, reply.body) == (
        200,
        [
            *COMMON_ROUTES,
            {"method": "POST", "path": "/keywords", "name": "keywords"},
        ],
    )


def test_openapi_with_key_documents_keywords_route(rake_url: str) -> None:
    reply = call("GET", f"{rake_url}/openapi.json")
    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.")
    assert sorted(reply.body["paths"]) == ["/health", "/keywords", "/routes"]


LARGE_BURST = 8


class _GatedScorer:
    """Wraps ``extract_keywords``: counts calls running at once; each waits for ``opened``."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.most_at_once = 0
        self._running = 0
        self._counts = threading.Condition()

    def __call__(self, text: str) -> list[tuple[str, float]]:
        with self._counts:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
            self._counts.notify_all()
        try:
            self.opened.wait(timeout=30)
            return extract_keywords(text)
        finally:
            with self._counts:
                self._running -= 1

    def wait_for_running(self, count: int, *, timeout: float) -> bool:
        with self._counts:
            return self._counts.wait_for(lambda: self._running >= count, timeout=timeout)


def test_keywords_large_texts_are_scored_at_most_limit_at_once(
    rake_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: more texts over the inline size than may be scored at once, each held at a gate
    scorer = _GatedScorer()
    monkeypatch.setattr(rake_app.app, "extract_keywords", scorer)
    text = "global system. " * (INLINE_MAX_CHARS // 10)  # 6 kB
    with ThreadPoolExecutor(LARGE_BURST) as clients:
        pending = [
            clients.submit(call, "POST", f"{rake_url}/keywords", json_body={"text": text})
            for _ in range(LARGE_BURST)
        ]

        # when: the limit is reached, then more time than the rest need to reach the scorer
        # unlimited (a slow machine can only hide the defect, never fail the fixed code)
        assert scorer.wait_for_running(LARGE_TEXT_SCORERS, timeout=10)
        scorer.wait_for_running(LARGE_BURST, timeout=1)
        scorer.opened.set()
        replies = [future.result(timeout=30) for future in pending]

    # then
    assert scorer.most_at_once == LARGE_TEXT_SCORERS
    assert [(reply.status, reply.body) for reply in replies] == [
        (200, [{"candidate": "global system", "score": 4}])
    ] * LARGE_BURST


def test_run_service_freezes_what_startup_built_then_serves_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long-lived objects out of the collector's view: full collections no longer walk them.
    served: list[tuple[object, int, dict[str, object]]] = []

    def fake_run(app: object, **options: object) -> None:
        served.append((app, gc.get_freeze_count(), options))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("API_KEY", TEST_API_KEY)
    monkeypatch.setenv("RAKE_PORT", "18081")
    try:
        factory.run_service(create_rake_app, RakeSettings)
    finally:
        gc.unfreeze()

    [(app, frozen, options)] = served
    assert isinstance(app, FastPath) and app.api.title == "rake-app"
    assert frozen > 10_000  # modules, the app and its routes at least
    assert (options["host"], options["port"]) == ("127.0.0.1", 18081)
