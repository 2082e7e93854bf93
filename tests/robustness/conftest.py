"""The three services for the robustness tests, each served once per session on 127.0.0.1.

In-thread apps (for the fuzzer and hostile input) are built here with explicit settings, like the
service tests' own fixtures, and served as ``run_service`` serves them; the load and
upstream-fault tests start real processes instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common import NlpClientSettings, ProseSettings, RakeSettings
from nlp_client.app import create_app as create_edge_app
from prose_app.app import create_app as create_prose_app
from prose_app.nlp import Prose
from rake_app.app import create_app as create_rake_app
from tests.robustness.served import BODY_TIMEOUT_SECONDS, HEADER_TIMEOUT_SECONDS, Served
from tests.support.http import TEST_API_KEY
from tests.support.servers import serve_in_thread


@pytest.fixture(scope="session")
def rake_served() -> Iterator[Served]:
    settings = RakeSettings(
        api_key=TEST_API_KEY,
        body_timeout=BODY_TIMEOUT_SECONDS,
        header_timeout=HEADER_TIMEOUT_SECONDS,
    )
    with serve_in_thread(create_rake_app(settings), settings) as url:
        yield Served(url=url)


@pytest.fixture(scope="session")
def prose_served(prose: Prose) -> Iterator[Served]:
    settings = ProseSettings(
        api_key=TEST_API_KEY,
        body_timeout=BODY_TIMEOUT_SECONDS,
        header_timeout=HEADER_TIMEOUT_SECONDS,
    )
    with serve_in_thread(create_prose_app(settings, prose=prose), settings) as url:
        yield Served(url=url)


@pytest.fixture(scope="session")
def edge_served(rake_served: Served, prose_served: Served) -> Iterator[Served]:
    settings = NlpClientSettings(
        api_key=TEST_API_KEY,
        rake_endpoint=rake_served.url,
        prose_endpoint=prose_served.url,
        body_timeout=BODY_TIMEOUT_SECONDS,
        header_timeout=HEADER_TIMEOUT_SECONDS,
    )
    with serve_in_thread(create_edge_app(settings), settings) as url:
        yield Served(url=url)
