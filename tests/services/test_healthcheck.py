"""`python -m common.healthcheck <port>`, the probe of the images' HEALTHCHECK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from common.healthcheck import main
from tests.support.ports import free_port

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def test_healthcheck_healthy_service_exits_0(rake_url: str) -> None:
    assert main([str(_port(rake_url))]) == 0


def test_healthcheck_nothing_listening_exits_1_saying_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()  # nothing listens there
    assert main([str(port)]) == 1
    assert capsys.readouterr().err.startswith(f"GET /health on port {port} failed: ")


def test_healthcheck_without_port_exits_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err == "usage: python -m common.healthcheck <port>\n"


def test_healthcheck_module_runs_as_a_command(rake_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(SERVICES_DIR)}
    result = subprocess.run(
        [sys.executable, "-m", "common.healthcheck", str(_port(rake_url))],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_service_module_with_bad_setting_exits_naming_the_env_var() -> None:
    env = {**os.environ, "PYTHONPATH": str(SERVICES_DIR), "API_KEY": "k", "RAKE_PORT": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "rake_app"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        1,
        "invalid configuration:\nRAKE_PORT: Input should be a valid integer, "
        "unable to parse string as an integer\n",
    )
