"""Each service's fast path answers exactly as its FastAPI routes would (common.fast_path).

The same requests go to each service as it runs (`create_app`, fast path in front) and to its
FastAPI app alone (`create_api`), over real HTTP: every answer must match, and is pinned. The
edge relays to one fake upstream (tests/support/fake_upstream.py): rake's routes echo the
request, prose's answer garbage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from common import NlpClientSettings, ProseSettings, RakeSettings, errors
from common.logs import CLIENT_CLOSED_REQUEST
from nlp_client import app as nlp_client_app
from nlp_client.gateway import Gateway
from prose_app import app as prose_app
from prose_app.nlp import Prose
from rake_app import app as rake_app
from tests.services.served_apps import TEST_MAX_BODY_BYTES
from tests.support.access_logs import access_record, served_log_lines
from tests.support.fake_upstream import SLOW_SECONDS
from tests.support.http import TEST_API_KEY, Reply, call
from tests.support.raw_http import post_and_leave
from tests.support.servers import serve_in_thread

TEXT = {"text": "Tim Cook leads Apple."}
JSON = {"Content-Type": "application/json"}
# Each case: method, path, the keyword arguments of `call`, and the status both paths answer.
CASES: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "health": ("GET", "/health", {"key": None}, 200),
    "keywords": ("POST", "/keywords", {"json_body": TEXT}, 200),
    "tokens": ("POST", "/tokens", {"json_body": TEXT}, 200),
    "entities": ("POST", "/entities", {"json_body": TEXT}, 200),
    "sentences": ("POST", "/sentences", {"json_body": {"text": "One. Two."}}, 200),
    "no-key": ("POST", "/keywords", {"json_body": TEXT, "key": None}, 400),
    "wrong-key": ("POST", "/tokens", {"json_body": TEXT, "key": "guess"}, 401),
    "not-json-type": ("POST", "/keywords", {"data": b"a", "headers": {"Content-Type": "x/y"}}, 415),
    # A type that only ends in "json" is not JSON's.
    "json-lookalike-type": (
        "POST",
        "/entities",
        {"data": b"{", "headers": {"Content-Type": "a/json"}},
        415,
    ),
    "invalid-json": ("POST", "/keywords", {"data": b"{", "headers": JSON}, 400),
    "not-object": ("POST", "/keywords", {"json_body": ["a"]}, 422),
    "too-large": ("POST", "/keywords", {"json_body": {"text": "a" * TEST_MAX_BODY_BYTES}}, 413),
    "too-many-tokens": ("POST", "/tokens", {"json_body": {"text": "a " * 60}}, 413),
    "long-text-in-the-pool": ("POST", "/keywords", {"json_body": {"text": "word " * 1000}}, 200),
    "other-method": ("GET", "/keywords", {}, 405),
    "routes": ("GET", "/routes", {}, 200),
}
SERVICE_OF = {"/keywords": "rake", "/tokens": "prose", "/entities": "prose", "/sentences": "prose"}
EDGE_TEXT = {"text": "a b"}
# The edge's own cases, in the same shape: what it relays, and what it refuses before a hop.
EDGE_CASES: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "relayed": ("POST", "/keywords", {"json_body": EDGE_TEXT}, 200),
    "relayed-extra-fields": (
        "POST",
        "/keywords",
        {"json_body": {"text": "x", "ignored": [1]}},
        200,
    ),
    "no-key": ("POST", "/keywords", {"json_body": EDGE_TEXT, "key": None}, 400),
    "wrong-key": ("POST", "/tokens", {"json_body": EDGE_TEXT, "key": "guess"}, 401),
    "no-key-bad-body": ("POST", "/keywords", {"data": b"{", "key": None}, 400),
    "not-json-type": (
        "POST",
        "/tokens",
        {"data": b"a b", "headers": {"Content-Type": "text/plain"}},
        415,
    ),
    "invalid-json": ("POST", "/keywords", {"data": b"{", "headers": JSON}, 400),
    "not-object": ("POST", "/keywords", {"json_body": ["a"]}, 422),
    "no-text": ("POST", "/keywords", {"json_body": {"txt": "a"}}, 422),
    "text-not-string": ("POST", "/keywords", {"json_body": {"text": 1}}, 422),
    "too-large": ("POST", "/keywords", {"json_body": {"text": "a" * TEST_MAX_BODY_BYTES}}, 413),
    "upstream-garbage": ("POST", "/entities", {"json_body": EDGE_TEXT}, 502),
}
# Each case on each service that has its path (the common routes on both), then the edge's.
PARAMS = [
    *(
        pytest.param(service, case, id=f"{service}-{case}")
        for case, (_, path, _, _) in CASES.items()
        for service in ("rake", "prose")
        if SERVICE_OF.get(path, service) == service
    ),
    *(pytest.param("edge", case, id=f"edge-{case}") for case in EDGE_CASES),
]


def _edge_settings(fake_upstream_url: str, *, rake_prefix: str = "") -> NlpClientSettings:
    return NlpClientSettings(
        api_key=TEST_API_KEY,
        max_body_bytes=TEST_MAX_BODY_BYTES,
        rake_endpoint=fake_upstream_url + rake_prefix,
        prose_endpoint=f"{fake_upstream_url}/garbage",
    )


@pytest.fixture(scope="module")
def urls(prose: Prose, fake_upstream_url: str) -> Iterator[dict[tuple[str, str], str]]:
    """Base URL by (service, "fast" or "fastapi")."""
    rake = RakeSettings(api_key=TEST_API_KEY, max_body_bytes=TEST_MAX_BODY_BYTES)
    # A low token cap, so `too-many-tokens` needs only a short text.
    prose_settings = ProseSettings(api_key=TEST_API_KEY, max_tokens=50)
    edge = _edge_settings(fake_upstream_url)
    with (
        serve_in_thread(rake_app.create_app(rake), rake) as rake_fast,
        serve_in_thread(rake_app.create_api(rake), rake) as rake_api,
        serve_in_thread(prose_app.create_app(prose_settings, prose=prose), prose_settings) as fast,
        serve_in_thread(prose_app.create_api(prose_settings, prose=prose), prose_settings) as api,
        serve_in_thread(nlp_client_app.create_app(edge), edge) as edge_fast,
        serve_in_thread(nlp_client_app.create_api(edge), edge) as edge_api,
    ):
        yield {
            ("rake", "fast"): rake_fast,
            ("rake", "fastapi"): rake_api,
            ("prose", "fast"): fast,
            ("prose", "fastapi"): api,
            ("edge", "fast"): edge_fast,
            ("edge", "fastapi"): edge_api,
        }


def _answer(reply: Reply) -> tuple[int, str, object]:
    return reply.status, reply.headers.get("content-type", ""), reply.body


@pytest.mark.parametrize(("service", "case"), PARAMS)
def test_fast_path_answers_as_the_fastapi_route(
    service: str, case: str, urls: dict[tuple[str, str], str]
) -> None:
    method, path, kwargs, status = (EDGE_CASES if service == "edge" else CASES)[case]
    fast = call(method, urls[service, "fast"] + path, **kwargs)
    fastapi = call(method, urls[service, "fastapi"] + path, **kwargs)
    assert _answer(fast) == _answer(fastapi)
    assert fast.status == status


def test_fast_path_error_bodies_are_the_contract_messages(
    urls: dict[tuple[str, str], str],
) -> None:
    rake, prose = urls["rake", "fast"], urls["prose", "fast"]
    assert call("POST", rake + "/keywords", json_body=TEXT, key=None).body == {
        "message": errors.MISSING_KEY
    }
    assert call("POST", prose + "/tokens", json_body={"text": "a " * 60}).body == {
        "message": errors.TOO_MANY_TOKENS
    }


def test_edge_fast_path_sends_the_validated_text_to_the_upstream(
    urls: dict[tuple[str, str], str],
) -> None:
    echoed = call(
        "POST", urls["edge", "fast"] + "/keywords", json_body={"text": "x\ud800", "n": 1}
    ).body
    assert (echoed["path"], json.loads(echoed["body"])) == ("/keywords", {"text": "x\ufffd"})


def test_edge_fast_path_leaves_other_routes_to_fastapi(urls: dict[tuple[str, str], str]) -> None:
    wrong_method = call("GET", urls["edge", "fast"] + "/keywords")
    assert (wrong_method.status, wrong_method.body) == (405, {"message": errors.METHOD_NOT_ALLOWED})


def test_edge_fast_path_unexpected_error_is_a_fixed_500_as_in_fastapi(
    urls: dict[tuple[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_fetch(*_: object, **__: object) -> None:
        raise RuntimeError(f"internal detail {TEST_API_KEY}")

    monkeypatch.setattr(Gateway, "fetch", broken_fetch)
    expected = (500, "application/json", {"message": errors.INTERNAL_ERROR})
    for url in (urls["edge", "fast"], urls["edge", "fastapi"]):
        assert _answer(call("POST", url + "/keywords", json_body=EDGE_TEXT)) == expected


# How a client leaves before its answer: the prefix of the edge's rake endpoint on the fake
# upstream, and the keyword arguments of `post_and_leave`. Mid-body, the app sees the disconnect
# as it reads; with the whole body read, the client leaves during the upstream's slow second, and
# the edge's answer, when it comes, goes nowhere (uvicorn drops it), which ASGI alone never says.
LEAVINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "mid-body": ("", {}),
    "while-upstream-answers": ("/slow", {"whole_body": True, "stay_seconds": SLOW_SECONDS / 4}),
}


@pytest.mark.parametrize("leaving", LEAVINGS)
@pytest.mark.parametrize(
    "create",
    [
        pytest.param(nlp_client_app.create_app, id="fast-path"),
        pytest.param(nlp_client_app.create_api, id="fastapi"),
    ],
)
def test_edge_fast_path_client_gone_before_its_answer_is_one_499_record_as_in_fastapi(
    create: Any, leaving: str, fake_upstream_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rake_prefix, kwargs = LEAVINGS[leaving]
    settings = _edge_settings(fake_upstream_url, rake_prefix=rake_prefix)
    with served_log_lines(create(settings), settings, capsys) as (url, lines):
        post_and_leave(url, "/keywords", **kwargs)
    assert lines == [access_record("POST", "/keywords", CLIENT_CLOSED_REQUEST)]
