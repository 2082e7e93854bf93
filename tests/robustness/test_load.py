"""Load: 50 concurrent clients for 10 s through the edge of the local stack (three real
processes, as ``python -m services`` runs them), over every route: no failed request, no 5xx,
and every service still answers afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from benchmarks.loadgen import Call, run_load
from common import API_KEY_HEADER
from local_stack import NLP_CLIENT, SERVICES, LocalStack
from tests.support.http import TEST_API_KEY, call
from tests.support.ports import free_port

CLIENTS = 50
SECONDS = 10.0
# Queued behind 49 others, a prose request can wait ~1-2 s on a busy 2-core machine.
CLIENT_TIMEOUT_SECONDS = 30.0
TEXT = "Tim Cook leads Apple in Cupertino. The Internet links computer networks worldwide."
MIXED_CALLS = [
    Call(method="POST", path="/keywords", json={"text": TEXT}),
    Call(method="POST", path="/tokens", json={"text": TEXT}),
    Call(method="POST", path="/keywords", json={"text": TEXT}),
    Call(method="POST", path="/entities", json={"text": TEXT}),
    Call(method="GET", path="/health"),
    Call(method="POST", path="/sentences", json={"text": TEXT}),
    Call(method="GET", path="/health/rake"),
    Call(method="GET", path="/routes"),
    Call(method="GET", path="/health/prose"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log = tmp_path_factory.mktemp("load") / "services.log"
    ports = {service: free_port() for service in SERVICES}
    with (
        log.open("wb") as output,
        LocalStack(api_key=TEST_API_KEY, ports=ports, output=output) as running,
    ):
        yield running


def test_stack_50_clients_for_10_s_through_the_edge_get_no_failure_and_no_5xx(
    stack: LocalStack,
) -> None:
    result = asyncio.run(
        run_load(
            stack.url(NLP_CLIENT),
            MIXED_CALLS,
            concurrency=CLIENTS,
            seconds=SECONDS,
            headers={API_KEY_HEADER: TEST_API_KEY},
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
    )
    assert result.failures == {}
    assert set(result.statuses) == {200}
    assert result.answered >= len(MIXED_CALLS) * CLIENTS  # every route, many times over
    # then: every service still answers, with the right answer
    for service in SERVICES:
        health = call("GET", stack.url(service) + "/health", key=None)
        assert (health.status, health.body) == (200, {"status": "UP"}), service.name
    keywords = call(
        "POST", stack.url(NLP_CLIENT) + "/keywords", json_body={"text": "global system"}
    )
    assert (keywords.status, keywords.body) == (200, [{"candidate": "global system", "score": 4}])
