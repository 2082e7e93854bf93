"""The policy tests' fixtures: `analyzer`, the real policy pack process started once per session
from outside the repository (as the CLI may) with a client of it (tests/policy/analyzer.py), and
`aws`, a fake AWS API per module (tests/policy/aws_api.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator

import grpc
import pytest

from tests.policy.analyzer import PACK_DIR, Analyzer
from tests.policy.aws_api import FakeAws, fake_aws

STARTUP_SECONDS = 60


@pytest.fixture(scope="session")
def analyzer() -> Iterator[Analyzer]:
    """The policy pack process, started once; stopped (and its stderr shown on failure) after."""
    with (
        tempfile.TemporaryDirectory() as workdir,
        tempfile.TemporaryFile("w+") as stderr,
    ):
        process = subprocess.Popen(
            [sys.executable, str(PACK_DIR)],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = process.stdout.readline().strip()
            if not port.isdigit():
                stderr.seek(0)
                pytest.fail(f"policy pack did not start: {port!r}\n{stderr.read()}")
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                grpc.channel_ready_future(channel).result(timeout=STARTUP_SECONDS)
                yield Analyzer(channel)
        finally:
            process.terminate()
            process.wait(timeout=STARTUP_SECONDS)
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture(scope="module")
def aws() -> Iterator[FakeAws]:
    with fake_aws() as fake:
        yield fake
