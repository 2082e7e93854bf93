"""Run a service as a real process on 127.0.0.1 (its image's entrypoint, ``python -m <module>``).

For the end-to-end style tests and the benchmarks: each service gets a free port, its stdout (one
JSON access record per request) is discarded, its stderr is kept in a file for the error message
when it fails to start, and it is stopped on exit (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.health import HEALTH_PATH

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
_POLL_SECONDS = 0.005


@dataclass(frozen=True, kw_only=True)
class ServiceProcess:
    """A started service: its process, base URL, and seconds from spawn to ``/health`` 200."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    startup_seconds: float


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def is_healthy(url: str, *, timeout: float = 1.0) -> bool:
    """True when ``GET {url}/health`` answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=timeout) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_service(
    module: str, *, port_env: str, env: Mapping[str, str], port: int | None = None
) -> Iterator[ServiceProcess]:
    """Start ``python -m module`` with `env` on `port` (default: a free one); stop it on exit.

    Usage::

        with running_service("rake_app", port_env=RAKE_PORT_ENV, env={API_KEY_ENV: key}) as rake:
            urllib.request.urlopen(rake.url + "/health")
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "PYTHONPATH": str(SERVICES_DIR), **env, port_env: str(port)}
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            while not is_healthy(url):
                if (
                    process.poll() is not None
                    or time.perf_counter() - started > START_TIMEOUT_SECONDS
                ):
                    stderr.seek(0)
                    raise RuntimeError(
                        f"{module} did not become healthy on {url}:\n{stderr.read().decode()}"
                    )
                time.sleep(_POLL_SECONDS)
            yield ServiceProcess(
                process=process, url=url, port=port, startup_seconds=time.perf_counter() - started
            )
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process is still there after a few seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
