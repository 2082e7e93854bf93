"""End to end: the three services as real processes on loopback, called through the edge.

Uses the launcher of ``python -m services`` (services/local_stack.py). Slow-ish: prose-app loads
its spaCy pipeline at start, so each stack takes a few seconds (more on a busy machine).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import errors
from common.healthcheck import check
from local_stack import NLP_CLIENT, PROSE_APP, RAKE_APP, SERVICES, LocalStack
from tests.support.http import TEST_API_KEY, call
from tests.support.lines import pumped, read_until
from tests.support.ports import free_port
from tests.support.samples import PROSE_TEXT, PROSE_TOKENS, SEED_KEYWORDS, SEED_TEXT

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log = tmp_path_factory.mktemp("e2e") / "services.log"
    with (
        log.open("wb") as output,
        LocalStack(
            api_key=TEST_API_KEY,
            ports={service: free_port() for service in SERVICES},
            output=output,
        ) as running,
    ):
        yield running


def _edge(stack: LocalStack, path: str, text: str) -> tuple[int, object]:
    reply = call("POST", f"{stack.url(NLP_CLIENT)}{path}", json_body={"text": text})
    return reply.status, reply.body


def test_stack_keywords_returns_the_seed_example_exactly(stack: LocalStack) -> None:
    expected = [{"candidate": phrase, "score": score} for phrase, score in SEED_KEYWORDS]
    assert _edge(stack, "/keywords", SEED_TEXT) == (200, expected)


def test_stack_prose_operations_through_the_edge(stack: LocalStack) -> None:
    assert _edge(stack, "/entities", PROSE_TEXT) == (
        200,
        [{"text": "Barack Obama", "label": "PERSON"}, {"text": "Paris", "label": "GPE"}],
    )
    assert _edge(stack, "/sentences", PROSE_TEXT) == (
        200,
        [{"text": "Barack Obama visited Paris."}, {"text": "It rained."}],
    )
    assert _edge(stack, "/tokens", PROSE_TEXT) == (200, PROSE_TOKENS)


def test_stack_edge_without_key_returns_400(stack: LocalStack) -> None:
    reply = call("POST", f"{stack.url(NLP_CLIENT)}/keywords", json_body={"text": "x"}, key=None)
    assert (reply.status, reply.body) == (400, {"message": errors.MISSING_KEY})


def test_stack_deep_health_reports_both_upstreams_up(stack: LocalStack) -> None:
    replies = [call("GET", f"{stack.url(NLP_CLIENT)}/health/{name}") for name in ("rake", "prose")]
    assert [(r.status, r.body) for r in replies] == [(200, {"status": "UP"})] * 2


# Last in this module: it stops prose-app in the shared stack.
def test_stack_without_prose_app_tokens_is_502_and_keywords_still_work(stack: LocalStack) -> None:
    prose = stack.processes[PROSE_APP]
    prose.terminate()
    prose.wait(timeout=30)
    assert _edge(stack, "/tokens", PROSE_TEXT) == (
        502,
        {"message": errors.UPSTREAM_UNREACHABLE},
    )
    assert _edge(stack, "/keywords", "global system")[0] == 200
    assert stack.first_exited() == PROSE_APP


def test_python_m_services_starts_prints_curl_and_stops_on_sigterm() -> None:
    # given: `python -m services` as `make run` starts it, on free ports
    ports = {service.port_env: str(free_port()) for service in SERVICES}
    env = {**os.environ, **ports, "API_KEY": TEST_API_KEY}
    with subprocess.Popen(
        [sys.executable, "-m", "services"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        lines = pumped(process.stdout)
        try:
            # when: it says it is up, then gets SIGTERM
            printed = read_until(lines, "Ctrl-C stops it.", timeout=120)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
            rest = read_until(lines, None, timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    # then: the banner and the curl example were printed, it exited 0, and nothing listens
    edge = f"http://127.0.0.1:{ports[NLP_CLIENT.port_env]}"
    assert "API key: from the API_KEY environment variable" in printed
    assert f"The NLP API is up at {edge}. Try:" in printed
    # The key came from API_KEY: the example names the variable and never prints the key.
    assert (
        "  curl -s -H \"X-API-Key: $API_KEY\" -H 'Content-Type: application/json' -d "
        f'\'{{"text": "{SEED_TEXT}"}}\' {edge}/keywords'
    ) in printed
    assert not any(TEST_API_KEY in line for line in printed)
    assert (code, "SIGTERM: stopped the services" in rest) == (0, True)
    assert [check(int(ports[s.port_env])) is None for s in (NLP_CLIENT, RAKE_APP, PROSE_APP)] == [
        False
    ] * 3


class _Child:
    """What `LocalStack.stop` uses of a Popen; `wait` can run something first (a Ctrl-C)."""

    def __init__(self, on_wait: object = None) -> None:
        self.on_wait = on_wait
        self.calls: list[str] = []

    def poll(self) -> int | None:
        return None if "wait" not in self.calls else 0

    def terminate(self) -> None:
        self.calls.append("terminate")

    def kill(self) -> None:
        self.calls.append("kill")

    def wait(self, timeout: float | None = None) -> int:
        if callable(self.on_wait):
            self.on_wait()
        self.calls.append("wait")
        return 0


class _Interrupted(Exception):
    pass


def _ctrl_c() -> None:
    # To the main thread, where the stack runs: a process-directed kill would go to any thread
    # not blocking SIGINT, and the imported native libraries start threads of their own.
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def test_stack_stop_finishes_every_child_before_a_ctrl_c_takes_effect() -> None:
    # A Ctrl-C while the first child is being waited for must not leave the others running.
    def interrupt(signum: int, _: object) -> None:
        raise _Interrupted(signal.Signals(signum).name)

    children = {
        NLP_CLIENT: _Child(on_wait=_ctrl_c),
        RAKE_APP: _Child(),
        PROSE_APP: _Child(),
    }
    stack = LocalStack(api_key=TEST_API_KEY, ports=dict.fromkeys(SERVICES, 1))
    stack.processes = children  # type: ignore[assignment]
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        with pytest.raises(_Interrupted, match="SIGINT"):
            stack.stop()
    finally:
        signal.signal(signal.SIGINT, previous)

    assert {service.name: child.calls for service, child in children.items()} == {
        service.name: ["terminate", "wait"] for service in children
    }
