"""rake-app's and prose-app's fast path answers exactly as their FastAPI routes would
(common.fast_path); the edge's relayed routes are held to the same in test_edge_fast_path.py.

The same requests go to each service as it runs (`create_app`, fast path in front) and to its
FastAPI app alone (`create_api`), over real HTTP: every answer must match, and is pinned.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from common import ProseSettings, RakeSettings, errors
from prose_app import app as prose_app
from prose_app.nlp import Prose
from rake_app import app as rake_app
from tests.services.served_apps import TEST_MAX_BODY_BYTES
from tests.support.http import TEST_API_KEY, Reply, call
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
    "invalid-json": (
        "POST",
        "/entities",
        {"data": b"{", "headers": {"Content-Type": "a/json"}},
        415,
    ),
    "not-object": ("POST", "/keywords", {"json_body": ["a"]}, 422),
    "too-large": ("POST", "/keywords", {"json_body": {"text": "a" * TEST_MAX_BODY_BYTES}}, 413),
    "too-many-tokens": ("POST", "/tokens", {"json_body": {"text": "a " * 60}}, 413),
    "long-text-in-the-pool": ("POST", "/keywords", {"json_body": {"text": "word " * 1000}}, 200),
    "other-method": ("GET", "/keywords", {}, 405),
    "routes": ("GET", "/routes", {}, 200),
}
SERVICE_OF = {"/keywords": "rake", "/tokens": "prose", "/entities": "prose", "/sentences": "prose"}
# Each case on each service that has its path (the common routes on both).
PARAMS = [
    pytest.param(service, case, id=f"{service}-{case}")
    for case, (_, path, _, _) in CASES.items()
    for service in ("rake", "prose")
    if SERVICE_OF.get(path, service) == service
]


@pytest.fixture(scope="module")
def urls(prose: Prose) -> Iterator[dict[tuple[str, str], str]]:
    """Base URL by (service, "fast" or "fastapi")."""
    rake = RakeSettings(api_key=TEST_API_KEY, max_body_bytes=TEST_MAX_BODY_BYTES)
    # A low token cap, so `too-many-tokens` needs only a short text.
    prose_settings = ProseSettings(api_key=TEST_API_KEY, max_tokens=50)
    with (
        serve_in_thread(rake_app.create_app(rake), rake) as rake_fast,
        serve_in_thread(rake_app.create_api(rake), rake) as rake_api,
        serve_in_thread(prose_app.create_app(prose_settings, prose=prose), prose_settings) as fast,
        serve_in_thread(prose_app.create_api(prose_settings, prose=prose), prose_settings) as api,
    ):
        yield {
            ("rake", "fast"): rake_fast,
            ("rake", "fastapi"): rake_api,
            ("prose", "fast"): fast,
            ("prose", "fastapi"): api,
        }


def _answer(reply: Reply) -> tuple[int, str, object]:
    return reply.status, reply.headers.get("content-type", ""), reply.body


@pytest.mark.parametrize(("service", "case"), PARAMS)
def test_fast_path_answers_as_the_fastapi_route(
    service: str, case: str, urls: dict[tuple[str, str], str]
) -> None:
    method, path, kwargs, status = CASES[case]
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
