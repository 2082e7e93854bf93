"""Suite-wide fixtures: a hermetic environment for every test."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

# Variables that change what a service or the Pulumi program does; a developer's shell must not
# leak them into tests (or a test's into the next one).
_HERMETIC = re.compile(r"^(API_KEY|SPACY_MODEL|PULUMI_.*|.*_PORT|.*_ENDPOINT)$")


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    saved = dict(os.environ)
    for name in [n for n in os.environ if _HERMETIC.match(n)]:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
