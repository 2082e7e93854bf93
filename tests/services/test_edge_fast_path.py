"""The edge's fast path answers exactly as FastAPI's declared routes would (nlp_client.fast_path).

The same requests go to the edge as it runs (`create_app`, fast path in front) and to its FastAPI
app alone (`create_api`), both over real HTTP against one fake upstream: every answer must match.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from common import NlpClientSettings, errors
from common.logs import CLIENT_CLOSED_REQUEST
from nlp_client.app import create_api, create_app
from nlp_client.gateway import Gateway
from tests.services.served_apps import TEST_MAX_BODY_BYTES
from tests.support.access_logs import access_record, served_log_lines
from tests.support.fake_upstream import SLOW_SECONDS
from tests.support.http import TEST_API_KEY, Reply, call
from tests.support.raw_http import post_and_leave
from tests.support.servers import serve_in_thread

TEXT = {"text": "a b"}
# Each case: path, and the keyword arguments of `call`.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "relayed": ("/keywords", {"json_body": TEXT}),
    "relayed-extra-fields": ("/keywords", {"json_body": {"text": "x", "ignored": [1]}}),
    "no-key": ("/keywords", {"json_body": TEXT, "key": None}),
    "wrong-key": ("/tokens", {"json_body": TEXT, "key": "guess"}),
    "no-key-bad-body": ("/keywords", {"data": b"{", "key": None}),
    "not-json-type": ("/tokens", {"data": b"a b", "headers": {"Content-Type": "text/plain"}}),
    "invalid-json": ("/keywords", {"data": b"{", "headers": {"Content-Type": "application/json"}}),
    "not-object": ("/keywords", {"json_body": ["a"]}),
    "no-text": ("/keywords", {"json_body": {"txt": "a"}}),
    "text-not-string": ("/keywords", {"json_body": {"text": 1}}),
    "too-large": ("/keywords", {"json_body": {"text": "a" * TEST_MAX_BODY_BYTES}}),
    "upstream-garbage": ("/entities", {"json_body": TEXT}),
}


def _settings(fake_upstream_url: str, *, rake_prefix: str = "") -> NlpClientSettings:
    # rake echoes the request; prose answers garbage (tests.support.fake_upstream).
    return NlpClientSettings(
        api_key=TEST_API_KEY,
        max_body_bytes=TEST_MAX_BODY_BYTES,
        rake_endpoint=fake_upstream_url + rake_prefix,
        prose_endpoint=f"{fake_upstream_url}/garbage",
    )


def _served(fake_upstream_url: str, create: Any) -> Iterator[str]:
    settings = _settings(fake_upstream_url)
    with serve_in_thread(create(settings), settings) as url:
        yield url


@pytest.fixture(scope="module")
def fast_url(fake_upstream_url: str) -> Iterator[str]:
    yield from _served(fake_upstream_url, create_app)


@pytest.fixture(scope="module")
def fastapi_url(fake_upstream_url: str) -> Iterator[str]:
    yield from _served(fake_upstream_url, create_api)


def _answer(reply: Reply) -> tuple[int, str, object]:
    return reply.status, reply.headers.get("content-type", ""), reply.body


@pytest.mark.parametrize("case", CASES)
def test_edge_fast_path_answers_as_the_fastapi_route(
    case: str, fast_url: str, fastapi_url: str
) -> None:
    path, kwargs = CASES[case]
    assert _answer(call("POST", fast_url + path, **kwargs)) == _answer(
        call("POST", fastapi_url + path, **kwargs)
    )


def test_edge_fast_path_relays_and_refuses_with_the_contract_statuses(fast_url: str) -> None:
    # The comparison above could pass with both paths wrong; pin what the fast path answers.
    statuses = {
        case: call("POST", fast_url + path, **kw).status for case, (path, kw) in CASES.items()
    }
    assert statuses == {
        "relayed": 200,
        "relayed-extra-fields": 200,
        "no-key": 400,
        "wrong-key": 401,
        "no-key-bad-body": 400,
        "not-json-type": 415,
        "invalid-json": 400,
        "not-object": 422,
        "no-text": 422,
        "text-not-string": 422,
        "too-large": 413,
        "upstream-garbage": 502,
    }


def test_edge_fast_path_sends_the_validated_text_to_the_upstream(fast_url: str) -> None:
    echoed = call("POST", f"{fast_url}/keywords", json_body={"text": "x\ud800", "n": 1}).body
    assert (echoed["path"], json.loads(echoed["body"])) == ("/keywords", {"text": "x\ufffd"})


def test_edge_fast_path_leaves_other_routes_to_fastapi(fast_url: str) -> None:
    wrong_method = call("GET", f"{fast_url}/keywords")
    assert (wrong_method.status, wrong_method.body) == (405, {"message": errors.METHOD_NOT_ALLOWED})


def test_edge_fast_path_unexpected_error_is_a_fixed_500_as_in_fastapi(
    fast_url: str, fastapi_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_fetch(*_: object, **__: object) -> None:
        raise RuntimeError(f"internal detail {TEST_API_KEY}")

    monkeypatch.setattr(Gateway, "fetch", broken_fetch)
    expected = (500, "application/json", {"message": errors.INTERNAL_ERROR})
    for url in (fast_url, fastapi_url):
        assert _answer(call("POST", url + "/keywords", json_body=TEXT)) == expected


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
    [pytest.param(create_app, id="fast-path"), pytest.param(create_api, id="fastapi")],
)
def test_edge_fast_path_client_gone_before_its_answer_is_one_499_record_as_in_fastapi(
    create: Any, leaving: str, fake_upstream_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rake_prefix, kwargs = LEAVINGS[leaving]
    settings = _settings(fake_upstream_url, rake_prefix=rake_prefix)
    with served_log_lines(create(settings), settings, capsys) as (url, lines):
        post_and_leave(url, "/keywords", **kwargs)
    assert lines == [access_record("POST", "/keywords", CLIENT_CLOSED_REQUEST)]
