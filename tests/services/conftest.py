"""Service fixtures: each app served once per session over real HTTP on 127.0.0.1.

Settings are built from explicit values only, so a developer's environment cannot change them
(session fixtures are created before the per-test environment cleanup runs).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common import RakeSettings
from rake_app.app import create_app as create_rake_app
from tests.services.helpers import TEST_API_KEY, serve_in_thread

TEST_MAX_BODY_BYTES = 64 * 1024


@pytest.fixture(scope="session")
def rake_settings() -> RakeSettings:
    return RakeSettings(api_key=TEST_API_KEY, max_body_bytes=TEST_MAX_BODY_BYTES)


@pytest.fixture(scope="session")
def rake_url(rake_settings: RakeSettings) -> Iterator[str]:
    with serve_in_thread(create_rake_app(rake_settings)) as url:
        yield url
