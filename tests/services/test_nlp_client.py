"""The edge: forwarding with the key, relayed statuses, and 502/504 that leak no address."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI

from common import NlpClientSettings, errors
from common.logs import JsonFormatter
from nlp_client.gateway import gateway_lifespan
from tests.robustness.faults import Fault, faulty_upstream
from tests.services.served_apps import COMMON_ROUTES, EdgeFactory
from tests.support.http import TEST_API_KEY, call
from tests.support.ports import free_port
from tests.support.samples import SEED_KEYWORDS, SEED_TEXT

OPERATIONS = [
    pytest.param("/keywords", "rake", id="keywords"),
    pytest.param("/tokens", "prose", id="tokens"),
    pytest.param("/entities", "prose", id="entities"),
    pytest.param("/sentences", "prose", id="sentences"),
]


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.mark.parametrize(("path", "upstream"), OPERATIONS)
def test_edge_forwards_operation_to_its_upstream_with_key_and_text(
    edge: EdgeFactory, fake_upstream_url: str, path: str, upstream: str
) -> None:
    # Each upstream echoes under its own prefix, so the echo shows which one was called.
    with edge(rake=f"{fake_upstream_url}/rake", prose=f"{fake_upstream_url}/prose") as url:
        reply = call("POST", f"{url}{path}", json_body={"text": "héllo", "ignored": 1})
    echoed = reply.body
    assert (reply.status, echoed["method"], echoed["path"], echoed["body"]) == (
        200,
        "POST",
        f"/{upstream}{path}",
        '{"text": "héllo"}',  # UTF-8 as the client sent it, not \u escapes
    )
    assert (echoed["headers"]["x-api-key"], echoed["headers"]["content-type"]) == (
        TEST_API_KEY,
        "application/json",
    )


def test_edge_relays_a_non_ascii_text_as_large_as_its_own_cap_allows(
    edge: EdgeFactory, rake_url: str
) -> None:
    # 60 kB of UTF-8 under both caps (64 KiB); as \u escapes it would be 180 kB: a 413 upstream.
    body = json.dumps({"text": "é" * 30_000}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    direct = call("POST", f"{rake_url}/keywords", data=body, headers=headers)
    with edge(rake=rake_url, prose=_closed_port_url()) as url:
        relayed = call("POST", f"{url}/keywords", data=body, headers=headers)
    assert (relayed.status, relayed.body) == (direct.status, direct.body)
    assert (direct.status, len(direct.body)) == (200, 1)


def test_edge_keywords_through_real_rake_app_returns_seed_candidates(
    edge: EdgeFactory, rake_url: str
) -> None:
    with edge(rake=rake_url, prose=_closed_port_url()) as url:
        reply = call("POST", f"{url}/keywords", json_body={"text": SEED_TEXT})
    expected = [{"candidate": phrase, "score": score} for phrase, score in SEED_KEYWORDS]
    assert (reply.status, reply.body) == (200, expected)


@pytest.mark.parametrize(
    "status",
    [pytest.param(400, id="400"), pytest.param(413, id="413"), pytest.param(503, id="503")],
)
def test_edge_relays_upstream_status_and_json_body(
    edge: EdgeFactory, fake_upstream_url: str, status: int
) -> None:
    upstream = f"{fake_upstream_url}/status/{status}"
    with edge(rake=upstream, prose=upstream) as url:
        reply = call("POST", f"{url}/tokens", json_body={"text": "x"})
    assert (reply.status, reply.body) == (status, {"message": f"upstream said {status}"})


def test_edge_upstream_unreachable_returns_502_without_address(edge: EdgeFactory) -> None:
    upstream = _closed_port_url()
    with edge(rake=upstream, prose=upstream) as url:
        reply = call("POST", f"{url}/keywords", json_body={"text": "x"})
    assert (reply.status, reply.body) == (502, {"message": errors.UPSTREAM_UNREACHABLE})


def test_edge_upstream_timeout_returns_504(edge: EdgeFactory, fake_upstream_url: str) -> None:
    upstream = f"{fake_upstream_url}/slow"
    with edge(rake=upstream, prose=upstream, timeout=0.1) as url:
        reply = call("POST", f"{url}/entities", json_body={"text": "x"})
    assert (reply.status, reply.body) == (504, {"message": errors.UPSTREAM_TIMEOUT})


def test_edge_upstream_non_json_answer_returns_502(
    edge: EdgeFactory, fake_upstream_url: str
) -> None:
    upstream = f"{fake_upstream_url}/garbage"
    with edge(rake=upstream, prose=upstream) as url:
        reply = call("POST", f"{url}/sentences", json_body={"text": "x"})
    assert (reply.status, reply.body) == (502, {"message": errors.UPSTREAM_BAD_RESPONSE})


def test_edge_bad_body_is_refused_without_calling_upstream(edge: EdgeFactory) -> None:
    upstream = _closed_port_url()  # a call would be a 502
    with edge(rake=upstream, prose=upstream) as url:
        reply = call("POST", f"{url}/keywords", json_body={"txt": "x"})
    assert (reply.status, reply.body) == (422, {"message": errors.MISSING_TEXT})


def test_edge_health_is_shallow_and_open(edge: EdgeFactory) -> None:
    upstream = _closed_port_url()
    with edge(rake=upstream, prose=upstream) as url:
        reply = call("GET", f"{url}/health", key=None)
    assert (reply.status, reply.body) == (200, {"status": "UP"})


def test_edge_deep_health_relays_upstream_health(edge: EdgeFactory, rake_url: str) -> None:
    with edge(rake=rake_url, prose=_closed_port_url()) as url:
        rake = call("GET", f"{url}/health/rake")
        prose = call("GET", f"{url}/health/prose")
    assert ((rake.status, rake.body), (prose.status, prose.body)) == (
        (200, {"status": "UP"}),
        (502, {"message": errors.UPSTREAM_UNREACHABLE}),
    )


def test_edge_deep_health_needs_the_key(edge: EdgeFactory, rake_url: str) -> None:
    with edge(rake=rake_url, prose=rake_url) as url:
        reply = call("GET", f"{url}/health/rake", key=None)
    assert (reply.status, reply.body) == (400, {"message": errors.MISSING_KEY})


def test_edge_deep_health_unknown_app_returns_404(edge: EdgeFactory, rake_url: str) -> None:
    with edge(rake=rake_url, prose=rake_url) as url:
        reply = call("GET", f"{url}/health/nlp")
    assert (reply.status, reply.body) == (404, {"message": errors.UNKNOWN_APP})


def test_edge_routes_lists_all_routes_in_order(edge: EdgeFactory, rake_url: str) -> None:
    with edge(rake=rake_url, prose=rake_url) as url:
        reply = call("GET", f"{url}/routes")
    assert (reply.status, reply.body) == (
        200,
        [
            *COMMON_ROUTES,
            {"method": "GET", "path": "/health/{app_name}", "name": "upstream_health"},
            {"method": "POST", "path": "/keywords", "name": "keywords"},
            {"method": "POST", "path": "/tokens", "name": "tokens"},
            {"method": "POST", "path": "/entities", "name": "entities"},
            {"method": "POST", "path": "/sentences", "name": "sentences"},
        ],
    )


def test_edge_pool_keeps_idle_upstream_connections_for_the_settings_keep_alive() -> None:
    app = FastAPI()
    app.state.settings = NlpClientSettings(api_key=TEST_API_KEY)

    async def pool_keep_alive() -> object:
        async with gateway_lifespan(app):
            # aiohttp has no public reader; this is what it checks before reusing a connection.
            return app.state.gateway.session.connector._keepalive_timeout

    keep_alive = asyncio.run(pool_keep_alive())
    assert keep_alive == NlpClientSettings.upstream_keep_alive_timeout == 30.0


def test_edge_pool_caps_connections_per_upstream_and_times_only_the_connect() -> None:
    # A cap shared by both upstreams would let 100 slow prose-app calls hold up every rake-app
    # call; a `connect` timeout would also count the wait for a free connection.
    app = FastAPI()
    app.state.settings = NlpClientSettings(api_key=TEST_API_KEY, upstream_connect_timeout=1.5)

    async def pool() -> tuple[object, ...]:
        async with gateway_lifespan(app):
            session = app.state.gateway.session
            timeout = session.timeout
            return (
                session.connector.limit,
                session.connector.limit_per_host,
                timeout.sock_connect,
                timeout.connect,
            )

    assert asyncio.run(pool()) == (0, NlpClientSettings.upstream_connections, 1.5, None)
    assert NlpClientSettings.upstream_connections == 100


def test_edge_gateway_repr_never_shows_the_key() -> None:
    app = FastAPI()
    app.state.settings = NlpClientSettings(api_key=TEST_API_KEY)

    async def gateway_repr() -> str:
        async with gateway_lifespan(app):
            return repr(app.state.gateway)

    assert TEST_API_KEY not in asyncio.run(gateway_repr())


@pytest.mark.parametrize("fault", ["garbage", "bad-json"])
def test_edge_failure_log_names_the_cause_never_the_key(
    edge: EdgeFactory, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp's errors for a malformed answer hold the request, headers (the key) included.
    with faulty_upstream(fault) as upstream, edge(rake=upstream, prose=upstream) as url:
        reply = call("POST", f"{url}/keywords", json_body={"text": "x"})

    failures = [r for r in caplog.records if r.getMessage() == "upstream call failed"]
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert (reply.status, reply.body) == (502, {"message": errors.UPSTREAM_BAD_RESPONSE})
    assert [(r.upstream, r.status) for r in failures] == [("rake", 502)]  # type: ignore[attr-defined]
    assert TEST_API_KEY not in logged


def test_edge_does_not_follow_an_upstream_redirect(edge: EdgeFactory) -> None:
    # Followed, the redirect would take the key to a server that never answers: a 504, later.
    with (
        faulty_upstream("hang") as elsewhere,
        faulty_upstream("redirect", location=f"{elsewhere}/keywords") as upstream,
        edge(rake=upstream, prose=upstream) as url,
    ):
        reply = call("POST", f"{url}/keywords", json_body={"text": "x"})

    assert (reply.status, reply.body) == (502, {"message": errors.UPSTREAM_BAD_RESPONSE})
