"""One service as a real process on 127.0.0.1, started by the launcher of ``python -m services``.

``local_stack.LocalStack`` starts all three services; the benchmarks and the fault tests need one
at a time (a cold start timed alone, an upstream killed and restarted on its port), so this runs
a single service through the same class: same command, environment and stop sequence.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from common.healthcheck import check
from local_stack import SERVICES, LocalStack, Service, StackError
from tests.support.ports import free_port

START_TIMEOUT_SECONDS = 60.0
_POLL_SECONDS = 0.005


@dataclass(frozen=True, kw_only=True)
class StartedService:
    """A running service: its launcher, and seconds from spawn to the first ``/health`` 200."""

    stack: LocalStack
    service: Service
    startup_seconds: float

    @property
    def url(self) -> str:
        return self.stack.url(self.service)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.stack.processes[self.service]


@contextmanager
def started_service(
    service: Service,
    *,
    api_key: str,
    ports: Mapping[Service, int] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[StartedService]:
    """Run `service` alone until the block ends; `ports` and `env` override the defaults.

    Usage::

        with started_service(RAKE_APP, api_key=key) as rake:
            urllib.request.urlopen(rake.url + "/health")   # rake.startup_seconds: 0.9
    """
    all_ports = {other: free_port() for other in SERVICES} | dict(ports or {})
    with tempfile.TemporaryFile() as log:
        stack = LocalStack(api_key=api_key, ports=all_ports, output=log)
        started = time.perf_counter()
        stack.start_service(service, {**os.environ, **stack.environment(), **(env or {})})
        try:
            while check(all_ports[service]) is not None:
                try:
                    stack.raise_if_exited(service, "before it became healthy")
                    if time.perf_counter() - started > START_TIMEOUT_SECONDS:
                        raise StackError(
                            f"{service.name}: not healthy after {START_TIMEOUT_SECONDS} s"
                        )
                except StackError as exc:
                    log.seek(0)
                    raise StackError(f"{exc}\n{log.read().decode(errors='replace')}") from None
                time.sleep(_POLL_SECONDS)
            yield StartedService(
                stack=stack, service=service, startup_seconds=time.perf_counter() - started
            )
        finally:
            stack.stop()
