"""``python -m services`` (``make run``) off its happy path: bad input, signals, a dying child.

Each test runs the launcher as a real process on free ports of 127.0.0.1 and asserts its exit code
and every line it prints itself (the services' JSON log lines on stdout are left out). The launcher
runs in its own session and cleanup kills every process of that session: the services each have
their own process group (``LocalStack.start_service``), so killing the launcher's group would miss
them, and they keep the session even when orphaned.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.healthcheck import check
from common.settings import API_KEY_ENV, BIND_HOST_ENV, SPACY_MODEL_ENV
from local_stack import (
    NLP_CLIENT,
    RAKE_APP,
    SERVICES,
    LocalStack,
    Service,
    StackError,
    curl_example,
)
from prose_app.nlp import ModelNotInstalledError, load_pipeline
from tests.support.http import TEST_API_KEY
from tests.support.lines import Lines, pumped, read_until
from tests.support.ports import free_port
from tests.support.samples import SEED_KEYWORDS

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
    # Each test takes a few seconds; this bounds a hung launcher well below the suite's 300 s.
    pytest.mark.timeout(90),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
UP_LINE = "Ctrl-C stops it."
GENERATED_KEY_PREFIX = f"API key (generated; set {API_KEY_ENV} to choose one): "
# Generous: prose-app loads spaCy (~1.5 s alone, more while the other tests run).
UP_TIMEOUT_SECONDS = 45.0
EXIT_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True, kw_only=True)
class Launched:
    """A running ``python -m services`` and its output, line by line (None ends a stream)."""

    process: subprocess.Popen[str]
    ports: dict[Service, int]
    stdout: Lines
    stderr: Lines

    @property
    def edge(self) -> str:
        return f"http://127.0.0.1:{self.ports[NLP_CLIENT]}"

    def read_until_up(self) -> list[str]:
        """The launcher's stdout lines through ``UP_LINE``."""
        printed: list[str] = []
        while UP_LINE not in printed:
            line = self.stdout.get(timeout=UP_TIMEOUT_SECONDS)
            if line is None:
                stderr = read_until(self.stderr, None, timeout=EXIT_TIMEOUT_SECONDS)
                pytest.fail(f"the launcher stopped before {UP_LINE!r}: {printed}, {stderr}")
            printed += _own([line])
        return printed

    def wait(self) -> tuple[int, list[str], list[str]]:
        """Exit code, then the rest of the launcher's stdout lines, then all of its stderr."""
        code = self.process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        return (
            code,
            _own(read_until(self.stdout, None, timeout=EXIT_TIMEOUT_SECONDS)),
            read_until(self.stderr, None, timeout=EXIT_TIMEOUT_SECONDS),
        )

    def child(self, service: Service) -> int:
        """The pid of the launcher's child running `service` (``python -m <module>``)."""
        (pid,) = [
            pid
            for pid, parent, _ in _processes()
            if parent == self.process.pid and _cmdline(pid)[1:] == ["-m", service.module]
        ]
        return pid

    def leftovers(self) -> list[int]:
        """Every process still in the launcher's session (the launcher included, until reaped)."""
        return [pid for pid, _, session in _processes() if session == self.process.pid]

    def listening(self) -> list[str]:
        """The services that still answer ``GET /health``."""
        return [s.name for s in SERVICES if check(self.ports[s]) is None]


@contextmanager
def launched(env: Mapping[str, str]) -> Iterator[Launched]:
    """``python -m services`` on free ports with `env` added; afterwards none of it runs."""
    ports = {service: free_port() for service in SERVICES}
    port_env = {service.port_env: str(port) for service, port in ports.items()}
    with subprocess.Popen(
        [sys.executable, "-m", "services"],
        cwd=REPO_ROOT,
        # Unbuffered, as in the images: print then writes a text and its newline apart
        # (see local_stack.say).
        env={**os.environ, "PYTHONUNBUFFERED": "1", **port_env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        run = Launched(
            process=process,
            ports=ports,
            stdout=pumped(process.stdout),
            stderr=pumped(process.stderr),
        )
        try:
            yield run
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=EXIT_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
            for pid in run.leftovers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="word"),
        pytest.param("²", id="digit-int-refuses"),  # str.isdigit() is true, int() raises
    ],
)
def test_launcher_bad_port_variable_exits_2_before_starting_anything(value: str) -> None:
    with launched({"PROSE_PORT": value}) as run:
        assert run.wait() == (
            2,
            [],
            [f"error: PROSE_PORT: expected a port number 1-65535, got {value!r}"],
        )
        assert (run.leftovers(), run.listening()) == ([], [])


def test_launcher_without_api_key_prints_a_generated_key_the_curl_example_uses() -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not on PATH (the test runs the printed curl command)")
    with launched({}) as run:
        printed = run.read_until_up()
        key = printed[0].removeprefix(GENERATED_KEY_PREFIX)
        assert printed == _banner(GENERATED_KEY_PREFIX + key, run.edge, key)
        assert (len(key), key.isascii()) == (43, True)  # secrets.token_urlsafe(32)
        curl = subprocess.run(
            ["sh", "-c", printed[-3]], capture_output=True, text=True, timeout=10, check=True
        )
        assert json.loads(curl.stdout) == [
            {"candidate": phrase, "score": score} for phrase, score in SEED_KEYWORDS
        ]


def test_launcher_with_api_key_says_so_and_stops_all_three_on_sigint() -> None:
    with launched({API_KEY_ENV: TEST_API_KEY}) as run:
        printed = run.read_until_up()
        # A key the user chose is never printed: the curl example reads "$API_KEY".
        assert printed == _banner(
            f"API key: from the {API_KEY_ENV} environment variable", run.edge, None
        )
        assert TEST_API_KEY not in "\n".join(printed)
        if shutil.which("curl") is not None:  # the example works where the variable is set
            curl = subprocess.run(
                ["sh", "-c", printed[-3]],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
                env={**os.environ, API_KEY_ENV: TEST_API_KEY},
            )
            assert json.loads(curl.stdout)[0]["candidate"] == SEED_KEYWORDS[0][0]
        run.process.send_signal(signal.SIGINT)
        assert run.wait() == (0, ["SIGINT: stopped the services"], [])
        assert (run.leftovers(), run.listening()) == ([], [])


def test_launcher_child_killed_while_running_exits_1_and_stops_the_others() -> None:
    with launched({API_KEY_ENV: TEST_API_KEY}) as run:
        run.read_until_up()
        os.kill(run.child(RAKE_APP), signal.SIGKILL)
        assert run.wait() == (
            1,
            [],
            ["error: rake-app exited with code -9 while running (see its log); stopped the others"],
        )
        assert (run.leftovers(), run.listening()) == ([], [])


def test_launcher_child_failing_at_start_exits_1_with_its_error_and_stops_the_others() -> None:
    with pytest.raises(ModelNotInstalledError) as prose_error:
        load_pipeline("no_such_model")
    with launched({API_KEY_ENV: TEST_API_KEY, SPACY_MODEL_ENV: "no_such_model"}) as run:
        assert run.wait() == (
            1,
            [],
            [
                str(prose_error.value),  # prose-app's own line, before the launcher's
                "error: prose-app exited with code 1 before it became healthy (see its log); "
                "stopped the others",
            ],
        )
        assert (run.leftovers(), run.listening()) == ([], [])


class _BindsElsewhere(LocalStack):
    """Services listen on 127.0.0.2, so the launcher's check of 127.0.0.1 never sees them."""

    def environment(self) -> dict[str, str]:
        return {**super().environment(), BIND_HOST_ENV: "127.0.0.2"}


def test_local_stack_service_never_healthy_times_out_naming_it_and_stops_it(
    tmp_path: Path,
) -> None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here (Linux routes all of 127/8)")
    stack = _BindsElsewhere(api_key=TEST_API_KEY, ports={RAKE_APP: free_port()}, startup_timeout=2)
    with (tmp_path / "log").open("wb") as log, pytest.raises(StackError) as exc_info:
        stack.output = log
        with stack:
            pass
    assert str(exc_info.value) == "rake-app: GET /health not 200 after 2 s"
    assert stack.first_exited() == RAKE_APP  # stopped (SIGTERM), not left running


def _banner(key_line: str, edge: str, key: str | None) -> list[str]:
    return [
        key_line,
        "",
        f"The NLP API is up at {edge}. Try:",
        "",
        f"  {curl_example(edge, key)}",
        "",
        UP_LINE,
    ]


def _own(lines: list[str]) -> list[str]:
    """`lines` without the services' JSON log lines (common.logs), which share stdout."""
    return [line for line in lines if not line.startswith('{"time": ')]


def _processes() -> Iterator[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every process, from /proc/<pid>/stat."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited meanwhile
            continue
        # After "(command)": state, ppid, pgrp, session, ...; the command may contain ")".
        fields = text[text.rindex(")") + 2 :].split()
        yield int(stat.parent.name), int(fields[1]), int(fields[3])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]
    except OSError:
        return []
