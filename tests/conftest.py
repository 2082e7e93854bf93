"""Suite-wide fixtures: a hermetic environment for every test (session fixtures included), and
prose-app's spaCy pipeline, loaded once for the whole session."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from pydantic import AliasChoices

from common import NlpClientSettings, ProseSettings, RakeSettings

if TYPE_CHECKING:
    from prose_app.nlp import Prose


def _service_variables() -> frozenset[str]:
    """Every environment variable a service's settings read (their fields' aliases)."""
    names: set[str] = set()
    for settings in (RakeSettings, ProseSettings, NlpClientSettings):
        for field in settings.model_fields.values():
            alias = field.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            names.update(choice for choice in choices if isinstance(choice, str))
    return frozenset(names)


_SERVICE_VARIABLES = _service_variables()
# What the Pulumi program and CLI read.
_PULUMI_VARIABLE = re.compile(r"^PULUMI_.*$")


@contextmanager
def _hermetic_environ() -> Iterator[None]:
    """Without the variables that configure a service or Pulumi (a developer's shell must not
    change what a test sees), and as it was again afterwards."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n in _SERVICE_VARIABLES or _PULUMI_VARIABLE.match(n)]:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def clean_session_environ() -> Iterator[None]:
    """Before any session fixture: the in-thread services read their settings once."""
    with _hermetic_environ():
        yield


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Each test starts clean and leaves nothing behind for the next."""
    with _hermetic_environ():
        yield


@pytest.fixture(scope="session")
def prose() -> Prose:
    """prose-app's spaCy pipeline (the settings' default model), loaded once per session (~2 s)
    and shared by every test that serves prose-app."""
    from prose_app.nlp import load_pipeline  # imports spaCy: only for the tests that need it

    return load_pipeline(ProseSettings.model_fields["spacy_model"].default)
