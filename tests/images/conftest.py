"""The three images, built once per session on a Docker engine (tools/container_engine.py).

The engine, the base and the builds are session fixtures: a test that needs them skips with the
reason when the engine cannot run here (no client, no dockerd, not root, or dockerd refused to
start), and fails when an image does not build.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack import SERVICES, Service
from tools.container_engine import EngineUnavailable, base_image, build_image, docker_engine


@pytest.fixture(scope="session")
def docker() -> Iterator[str]:
    """The docker client; an engine answers it for the whole session."""
    try:
        with docker_engine() as client:
            yield client
    except EngineUnavailable as missing:
        pytest.skip(f"no Docker engine: {missing}")


@pytest.fixture(scope="session")
def base(docker: str) -> str:
    try:
        return base_image(docker)
    except EngineUnavailable as missing:
        pytest.skip(f"no base image: {missing}")


@pytest.fixture(scope="session")
def images(docker: str, base: str) -> dict[Service, str]:
    """Each service's local image tag, built from the context `pulumi up` builds from.

    One after the other: the first build's layers (the builder's apt step) are then the parent of
    every later build's, so compose's builds of the same files find them all in the cache.
    """
    return {
        service: build_image(docker, service.name, f"services/{service.module}", base)
        for service in SERVICES
    }
