"""The three services as local processes on 127.0.0.1: what ``python -m services`` runs.

Each service runs as its image does (``python -m <package>``), with ``services/`` on
PYTHONPATH, one shared API key, and the edge pointed at the other two. The end-to-end tests
use this same class.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TextIO

from common.auth import API_KEY_HEADER
from common.healthcheck import check
from common.settings import (
    API_KEY_ENV,
    BIND_HOST_ENV,
    NLP_CLIENT_PORT,
    NLP_CLIENT_PORT_ENV,
    PROSE_ENDPOINT_ENV,
    PROSE_PORT,
    PROSE_PORT_ENV,
    RAKE_ENDPOINT_ENV,
    RAKE_PORT,
    RAKE_PORT_ENV,
)

SERVICES_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# prose-app loads its spaCy pipeline before it listens (~2-5 s; more on a busy machine).
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.25


@dataclass(frozen=True, kw_only=True)
class Service:
    name: str  # as in compose.yaml and the task definition
    module: str  # `python -m <module>`
    port_env: str
    default_port: int


RAKE_APP = Service(
    name="rake-app", module="rake_app", port_env=RAKE_PORT_ENV, default_port=RAKE_PORT
)
PROSE_APP = Service(
    name="prose-app", module="prose_app", port_env=PROSE_PORT_ENV, default_port=PROSE_PORT
)
NLP_CLIENT = Service(
    name="nlp-client",
    module="nlp_client",
    port_env=NLP_CLIENT_PORT_ENV,
    default_port=NLP_CLIENT_PORT,
)
# Start order: the edge last, after what it forwards to.
SERVICES = (RAKE_APP, PROSE_APP, NLP_CLIENT)
# Where nlp-client finds each upstream.
_ENDPOINTS = {RAKE_ENDPOINT_ENV: RAKE_APP, PROSE_ENDPOINT_ENV: PROSE_APP}


class StackError(RuntimeError):
    """A service failed to start or stopped; the message names it."""


class StopRequested(BaseException):
    """SIGINT or SIGTERM: leave the ``with`` block (which stops the children) and exit 0."""


def ports_from_environment(environ: Mapping[str, str]) -> dict[Service, int]:
    """Each service's port from its env var (a bare number), else its default."""
    ports: dict[Service, int] = {}
    for service in SERVICES:
        value = environ.get(service.port_env, "")
        if not value:
            ports[service] = service.default_port
        # isascii: str.isdigit also accepts digits int() refuses ("²") or reads oddly ("٣").
        elif value.isascii() and value.isdigit() and 1 <= int(value) <= 65535:
            ports[service] = int(value)
        else:
            raise StackError(f"{service.port_env}: expected a port number 1-65535, got {value!r}")
    return ports


# What `LocalStack.stop` holds back until every child is gone.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class LocalStack:
    """Start with ``with LocalStack(api_key=..., ports=...) as stack:``; stopped on exit.

    Runs the services given a port in ``ports`` (normally all of ``SERVICES``), in start order.
    """

    def __init__(
        self,
        *,
        api_key: str,
        ports: Mapping[Service, int],
        output: IO[bytes] | None = None,  # children's stdout+stderr; default: inherited
        startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
    ) -> None:
        self.api_key = api_key
        self.ports = dict(ports)
        self.output = output
        self.startup_timeout = startup_timeout
        self.processes: dict[Service, subprocess.Popen[bytes]] = {}
        self.services = [service for service in SERVICES if service in self.ports]

    def url(self, service: Service) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    def environment(self) -> dict[str, str]:
        """What every child gets on top of this process's environment."""
        return {
            "PYTHONPATH": os.pathsep.join(
                [str(SERVICES_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
            API_KEY_ENV: self.api_key,
            BIND_HOST_ENV: HOST,
            **{env: self.url(s) for env, s in _ENDPOINTS.items() if s in self.ports},
            **{service.port_env: str(port) for service, port in self.ports.items()},
        }

    def start(self) -> None:
        """Spawn every service, then wait until each ``/health`` is 200 (or raise StackError)."""
        env = {**os.environ, **self.environment()}
        for service in self.services:
            self.start_service(service, env)
        deadline = time.monotonic() + self.startup_timeout
        waiting = list(self.services)
        while waiting:
            for service in list(waiting):
                self.raise_if_exited(service, "before it became healthy")
                if check(self.ports[service]) is None:
                    waiting.remove(service)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(service.name for service in waiting)
                raise StackError(f"{names}: GET /health not 200 after {self.startup_timeout:.0f} s")
            time.sleep(_POLL_SECONDS if waiting else 0)

    def start_service(self, service: Service, env: Mapping[str, str]) -> None:
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", service.module],
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT if self.output is not None else None,
            # Own process group: a terminal Ctrl-C reaches only this launcher, which stops
            # the children in order (edge first) instead of all at once.
            process_group=0,
        )

    def raise_if_exited(self, service: Service, when: str) -> None:
        code = self.processes[service].poll()
        if code is not None:
            raise StackError(f"{service.name} exited with code {code} {when} (see its log)")

    def first_exited(self) -> Service | None:
        return next((s for s, p in self.processes.items() if p.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM every child (edge first), then SIGKILL any still running after a grace period.

        SIGINT and SIGTERM wait until every child is gone: a Ctrl-C raised in the middle would
        leave the rest running (each child has its own process group, so it never got one).
        """
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            for process in reversed(self.processes.values()):
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for process in self.processes.values():
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


EXAMPLE_TEXT = (
    "The Internet is the global system of interconnected computer networks that use the "
    "Internet protocol suite to link devices worldwide."
)


def curl_example(url: str, api_key: str | None) -> str:
    """The example call; `api_key=None` (the key came from the environment) refers to the
    variable instead, so a key someone chose never lands in a terminal's scrollback or a log."""
    body = '{"text": "' + EXAMPLE_TEXT + '"}'
    header = (
        shlex.quote(f"{API_KEY_HEADER}: {api_key}")
        if api_key is not None
        else f'"{API_KEY_HEADER}: ${API_KEY_ENV}"'
    )
    return (
        f"curl -s -H {header} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)} {url}/keywords"
    )


def say(*lines: str, stream: TextIO | None = None) -> None:
    """Print `lines` to `stream` (stdout by default) in one write.

    The children share these streams and write each log line in one write; ``print`` writes a
    text and its newline separately when unbuffered (PYTHONUNBUFFERED), so a child's line could
    land between them and split a line of ours. A pipe write of up to PIPE_BUF (4096) bytes is
    atomic, so ours come out whole.
    """
    out = sys.stdout if stream is None else stream
    out.write("".join(line + "\n" for line in lines))
    out.flush()


def main() -> int:
    from_environment = bool(os.environ.get(API_KEY_ENV))
    api_key = os.environ.get(API_KEY_ENV) or secrets.token_urlsafe(32)
    try:
        ports = ports_from_environment(os.environ)
    except StackError as exc:
        say(f"error: {exc}", stream=sys.stderr)
        return 2

    def request_stop(signum: int, _: FrameType | None) -> None:
        # Once: a second Ctrl-C must not interrupt the orderly stop of the children.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        with LocalStack(api_key=api_key, ports=ports) as stack:
            key_line = (
                f"API key: from the {API_KEY_ENV} environment variable"
                if from_environment
                else f"API key (generated; set {API_KEY_ENV} to choose one): {api_key}"
            )
            edge = stack.url(NLP_CLIENT)
            example = curl_example(edge, None if from_environment else api_key)
            say(
                key_line,
                "",
                f"The NLP API is up at {edge}. Try:",
                "",
                f"  {example}",
                "",
                "Ctrl-C stops it.",
            )
            while True:
                time.sleep(_POLL_SECONDS)
                dead = stack.first_exited()
                if dead is not None:
                    stack.raise_if_exited(dead, "while running")
    except StackError as exc:
        say(f"error: {exc}; stopped the others", stream=sys.stderr)
        return 1
    except StopRequested as exc:
        say(f"{exc}: stopped the services")
        return 0
