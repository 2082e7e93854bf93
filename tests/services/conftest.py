"""Service fixtures: each app served once per session over real HTTP on 127.0.0.1.

The suite's `clean_session_environ` removes every service variable before these are built, so a
developer's environment cannot change them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from common import NlpClientSettings, ProseSettings, RakeSettings, create_service_app
from nlp_client.app import create_app as create_nlp_client_app
from prose_app.app import create_app as create_prose_app
from prose_app.nlp import Prose
from rake_app.app import create_app as create_rake_app
from tests.services.served_apps import TEST_MAX_BODY_BYTES, EdgeFactory, echo_router
from tests.support.fake_upstream import fake_upstream
from tests.support.http import TEST_API_KEY
from tests.support.servers import serve_in_thread


@pytest.fixture(scope="session")
def rake_settings() -> RakeSettings:
    return RakeSettings(api_key=TEST_API_KEY, max_body_bytes=TEST_MAX_BODY_BYTES)


@pytest.fixture(scope="session")
def rake_url(rake_settings: RakeSettings) -> Iterator[str]:
    with serve_in_thread(create_rake_app(rake_settings), rake_settings) as url:
        yield url


@pytest.fixture(scope="session")
def prose_settings() -> ProseSettings:
    # prose-app's own body cap (not TEST_MAX_BODY_BYTES): its tests check the shipped default.
    return ProseSettings(api_key=TEST_API_KEY)


@pytest.fixture(scope="session")
def prose_url(prose_settings: ProseSettings, prose: Prose) -> Iterator[str]:
    with serve_in_thread(create_prose_app(prose_settings, prose=prose), prose_settings) as url:
        yield url


@pytest.fixture(scope="session")
def echo_url() -> Iterator[str]:
    settings = RakeSettings(api_key=TEST_API_KEY, max_body_bytes=TEST_MAX_BODY_BYTES)
    app = create_service_app(title="echo", settings=settings, routers=[echo_router])
    with serve_in_thread(app, settings) as url:
        yield url


@pytest.fixture(scope="session")
def fake_upstream_url() -> Iterator[str]:
    # Served as an upstream is: the shipped connection settings.
    with serve_in_thread(fake_upstream, RakeSettings(api_key=TEST_API_KEY)) as url:
        yield url


@pytest.fixture
def edge() -> EdgeFactory:
    """``with edge(rake=url, prose=url, timeout=s) as edge_url:`` an nlp-client on loopback."""

    @contextmanager
    def start(*, rake: str, prose: str, timeout: float = 5.0) -> Iterator[str]:
        settings = NlpClientSettings(
            api_key=TEST_API_KEY,
            max_body_bytes=TEST_MAX_BODY_BYTES,
            rake_endpoint=rake,
            prose_endpoint=prose,
            upstream_timeout=timeout,
            upstream_connect_timeout=timeout,
        )
        with serve_in_thread(create_nlp_client_app(settings), settings) as url:
            yield url

    return start
