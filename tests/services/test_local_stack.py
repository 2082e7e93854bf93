"""The launcher behind `python -m services` (the full run is in tests/e2e)."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

import pytest

from local_stack import (
    NLP_CLIENT,
    PROSE_APP,
    RAKE_APP,
    SERVICES_DIR,
    LocalStack,
    StackError,
    curl_example,
    ports_from_environment,
    say,
)


def test_ports_from_environment_without_env_are_the_defaults() -> None:
    assert ports_from_environment({}) == {RAKE_APP: 8081, PROSE_APP: 8082, NLP_CLIENT: 8080}


def test_ports_from_environment_reads_each_port_env() -> None:
    environ = {"RAKE_PORT": "9001", "PROSE_PORT": "9002", "NLP_CLIENT_PORT": "9000"}
    assert ports_from_environment(environ) == {RAKE_APP: 9001, PROSE_APP: 9002, NLP_CLIENT: 9000}


@pytest.mark.parametrize("value", [pytest.param("http", id="word"), pytest.param("0", id="zero")])
def test_ports_from_environment_bad_value_names_the_env_var(value: str) -> None:
    with pytest.raises(StackError) as exc_info:
        ports_from_environment({"PROSE_PORT": value})
    assert str(exc_info.value) == f"PROSE_PORT: expected a port number 1-65535, got {value!r}"


def test_local_stack_environment_points_the_edge_at_the_upstreams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    stack = LocalStack(api_key="k", ports={RAKE_APP: 1, PROSE_APP: 2, NLP_CLIENT: 3})
    assert stack.environment() == {
        "PYTHONPATH": str(SERVICES_DIR),
        "API_KEY": "k",
        "BIND_HOST": "127.0.0.1",
        "RAKE_ENDPOINT": "http://127.0.0.1:1",
        "PROSE_ENDPOINT": "http://127.0.0.1:2",
        "RAKE_PORT": "1",
        "PROSE_PORT": "2",
        "NLP_CLIENT_PORT": "3",
    }


def test_curl_example_calls_keywords_with_key_and_json() -> None:
    assert curl_example("http://127.0.0.1:8080", "k3y") == (
        "curl -s -H 'X-API-Key: k3y' -H 'Content-Type: application/json' -d "
        '\'{"text": "The Internet is the global system of interconnected computer networks '
        "that use the Internet protocol suite to link devices worldwide.\"}' "
        "http://127.0.0.1:8080/keywords"
    )


def test_curl_example_without_key_reads_it_from_the_environment_variable() -> None:
    # The key came from API_KEY: the example must not print it, and the shell expands it.
    example = curl_example("http://127.0.0.1:8080", None)
    assert example.startswith('curl -s -H "X-API-Key: $API_KEY" -H ')
    assert example.endswith(" http://127.0.0.1:8080/keywords")


def test_local_stack_service_that_cannot_bind_is_named_in_the_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = LocalStack(api_key="k", ports={RAKE_APP: port})
        with (tmp_path / "log").open("wb") as log, pytest.raises(StackError) as exc_info:
            stack.output = log
            with stack:
                pass
    # 3: uvicorn's exit code for a failed start.
    assert (
        str(exc_info.value) == "rake-app exited with code 3 before it became healthy (see its log)"
    )
    assert re.search(r"address already in use", (tmp_path / "log").read_text(), re.IGNORECASE)
    assert stack.first_exited() == RAKE_APP


class _Writes(io.StringIO):
    """A text stream that records each ``write`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_say_writes_all_its_lines_in_one_write() -> None:
    # The children share the launcher's stdout: a log line of theirs between two writes of a
    # banner line (print's text, then its newline, when unbuffered) split it in two.
    stream = _Writes()
    say("API key: k", "", "  curl", stream=stream)
    assert stream.writes == ["API key: k\n\n  curl\n"]
