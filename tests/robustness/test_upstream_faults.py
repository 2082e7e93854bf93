"""The edge when an upstream is killed, hangs, or answers garbage: a 502/504 within its timeout,
never a hang, and normal answers again once the real upstream is back on its port.

The upstream is a real process (killed with SIGKILL, then started again); the hung and garbage
upstreams are raw TCP servers on the same port (tests/robustness/faults.py). The edge runs
in-thread with a 1 s upstream timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from common import NlpClientSettings
from common.errors import UPSTREAM_BAD_RESPONSE, UPSTREAM_TIMEOUT, UPSTREAM_UNREACHABLE
from local_stack import PROSE_APP, RAKE_APP, Service
from nlp_client.app import create_app as create_edge_app
from tests.robustness.faults import Fault, faulty_upstream
from tests.support.http import TEST_API_KEY, Reply, call
from tests.support.ports import free_port
from tests.support.processes import started_service
from tests.support.servers import serve_in_thread

UPSTREAM_TIMEOUT_SECONDS = 1.0
# The edge's answer to a refused connection or garbage must not wait for the timeout.
PROMPT_SECONDS = 0.9
# Room above the timeout for a loaded 2-core machine; a hanging edge would blow through it.
SLACK_SECONDS = 2.0
# A route the edge forwards to each upstream, and that upstream's answer to TEXT.
TEXT = "Paris hosts global systems."
ROUTES = {
    RAKE_APP: ("/keywords", [{"candidate": "paris hosts global systems", "score": 16}]),
    PROSE_APP: ("/sentences", [{"text": TEXT}]),
}
FAULT_ANSWERS: dict[Fault, tuple[int, str]] = {
    "hang": (504, UPSTREAM_TIMEOUT),
    "garbage": (502, UPSTREAM_BAD_RESPONSE),
    "bad-json": (502, UPSTREAM_BAD_RESPONSE),
}


@pytest.fixture(scope="module")
def upstream_ports() -> dict[Service, int]:
    return {RAKE_APP: free_port(), PROSE_APP: free_port()}


@pytest.fixture(scope="module")
def edge_url(upstream_ports: dict[Service, int]) -> Iterator[str]:
    settings = NlpClientSettings(
        api_key=TEST_API_KEY,
        rake_endpoint=f"http://127.0.0.1:{upstream_ports[RAKE_APP]}",
        prose_endpoint=f"http://127.0.0.1:{upstream_ports[PROSE_APP]}",
        upstream_timeout=UPSTREAM_TIMEOUT_SECONDS,
        upstream_connect_timeout=UPSTREAM_TIMEOUT_SECONDS,
    )
    with serve_in_thread(create_edge_app(settings), settings) as url:
        yield url


def _timed(edge_url: str, upstream: Service) -> tuple[Reply, float]:
    path, _ = ROUTES[upstream]
    started = time.monotonic()
    reply = call("POST", edge_url + path, json_body={"text": TEXT}, timeout=10)
    return reply, time.monotonic() - started


def _assert_serves(edge_url: str, upstream: Service) -> None:
    reply, _ = _timed(edge_url, upstream)
    assert (reply.status, reply.body) == (200, ROUTES[upstream][1])


@pytest.mark.parametrize(
    "upstream", [pytest.param(RAKE_APP, id="rake"), pytest.param(PROSE_APP, id="prose")]
)
def test_edge_answers_502_or_504_through_upstream_faults_and_recovers(
    upstream: Service, edge_url: str, upstream_ports: dict[Service, int]
) -> None:
    port = upstream_ports[upstream]
    # given: the real upstream serves, then is killed mid-life
    with started_service(upstream, api_key=TEST_API_KEY, ports=upstream_ports) as running:
        _assert_serves(edge_url, upstream)
        running.process.kill()
        running.process.wait()
        reply, seconds = _timed(edge_url, upstream)
    # then: refused connections are a prompt 502
    assert (reply.status, reply.body) == (502, {"message": UPSTREAM_UNREACHABLE})
    assert seconds < PROMPT_SECONDS
    # when: the port is taken by an upstream that hangs or answers garbage
    for fault, (status, message) in FAULT_ANSWERS.items():
        with faulty_upstream(fault, port=port):
            reply, seconds = _timed(edge_url, upstream)
        assert (reply.status, reply.body) == (status, {"message": message}), fault
        if fault == "hang":
            assert UPSTREAM_TIMEOUT_SECONDS <= seconds < UPSTREAM_TIMEOUT_SECONDS + SLACK_SECONDS
        else:
            assert seconds < PROMPT_SECONDS, fault
    # then: once the real upstream is back on its port, the edge serves again
    with started_service(upstream, api_key=TEST_API_KEY, ports=upstream_ports):
        _assert_serves(edge_url, upstream)
        deep = call("GET", f"{edge_url}/health/{upstream.name.removesuffix('-app')}")
        assert (deep.status, deep.body) == (200, {"status": "UP"})
