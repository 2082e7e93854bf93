"""The edge keeps its API key to itself when an upstream misbehaves: never in a log record, never
sent where an upstream's redirect points."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from common import NlpClientSettings
from common.errors import UPSTREAM_BAD_RESPONSE
from common.logs import JsonFormatter
from nlp_client.app import create_app as create_edge_app
from tests.robustness.faults import Fault, faulty_upstream
from tests.services.helpers import TEST_API_KEY, call, serve_in_thread

TIMEOUT_SECONDS = 5.0


@contextmanager
def _edge_to(upstream: str) -> Iterator[str]:
    settings = NlpClientSettings(
        api_key=TEST_API_KEY,
        rake_endpoint=upstream,
        prose_endpoint=upstream,
        upstream_timeout=TIMEOUT_SECONDS,
    )
    with serve_in_thread(create_edge_app(settings), settings) as url:
        yield url


@pytest.mark.parametrize("fault", ["garbage", "bad-json"])
def test_edge_failure_log_names_the_cause_never_the_key(
    fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp's errors for a malformed answer hold the request, headers (the key) included.
    with faulty_upstream(fault) as upstream, _edge_to(upstream) as url:
        reply = call("POST", f"{url}/keywords", json_body={"text": "x"})

    failures = [r for r in caplog.records if r.getMessage() == "upstream call failed"]
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert (reply.status, reply.body) == (502, {"message": UPSTREAM_BAD_RESPONSE})
    assert [(r.upstream, r.status) for r in failures] == [("rake", 502)]  # type: ignore[attr-defined]
    assert TEST_API_KEY not in logged


def test_edge_does_not_follow_an_upstream_redirect(caplog: pytest.LogCaptureFixture) -> None:
    # Followed, the redirect would take the key to a server that never answers: a 504, later.
    with (
        faulty_upstream("hang") as elsewhere,
        faulty_upstream("redirect", location=f"{elsewhere}/keywords") as upstream,
        _edge_to(upstream) as url,
    ):
        reply = call("POST", f"{url}/keywords", json_body={"text": "x"})

    assert (reply.status, reply.body) == (502, {"message": UPSTREAM_BAD_RESPONSE})
