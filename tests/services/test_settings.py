"""Service settings: env var names in every error, defaults, and the seed's key refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common import NlpClientSettings, ProseSettings, RakeSettings, ServiceSettings
from common.settings import describe_settings_error


def _error(settings_class: type[ServiceSettings]) -> str:
    with pytest.raises(ValidationError) as exc_info:
        settings_class()
    return describe_settings_error(exc_info.value)


@pytest.mark.parametrize(
    ("settings_class", "port"),
    [
        pytest.param(NlpClientSettings, 8080, id="nlp-client"),
        pytest.param(RakeSettings, 8081, id="rake-app"),
        pytest.param(ProseSettings, 8082, id="prose-app"),
    ],
)
def test_settings_without_port_env_use_default_port(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[ServiceSettings], port: int
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    assert settings_class().port == port


@pytest.mark.parametrize(
    ("settings_class", "env"),
    [
        pytest.param(NlpClientSettings, "NLP_CLIENT_PORT", id="nlp-client"),
        pytest.param(RakeSettings, "RAKE_PORT", id="rake-app"),
        pytest.param(ProseSettings, "PROSE_PORT", id="prose-app"),
    ],
)
def test_settings_port_env_sets_port(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[ServiceSettings], env: str
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv(env, "9000")
    assert settings_class().port == 9000


def test_settings_out_of_range_port_error_names_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("RAKE_PORT", "70000")
    assert _error(RakeSettings) == (
        "invalid configuration:\nRAKE_PORT: Input should be less than or equal to 65535"
    )


def test_settings_without_api_key_error_names_api_key() -> None:
    assert _error(RakeSettings) == "invalid configuration:\nAPI_KEY: Field required"


def test_settings_seed_placeholder_key_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "ChangeMe")
    assert _error(NlpClientSettings) == (
        "invalid configuration:\nAPI_KEY is the seed's placeholder 'ChangeMe'; set a random key "
        "(for example `python -c 'import secrets; print(secrets.token_urlsafe())'`), or "
        "APP_ENV=development for a local demo."
    )


def test_settings_seed_placeholder_key_allowed_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "ChangeMe")
    monkeypatch.setenv("APP_ENV", "development")
    assert RakeSettings().api_key.get_secret_value() == "ChangeMe"


def test_settings_error_never_echoes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "ChangeMe")
    monkeypatch.setenv("APP_ENV", "staging")
    assert _error(RakeSettings) == (
        "invalid configuration:\nAPP_ENV: Input should be 'development' or 'production'"
    )


def test_settings_repr_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "s3cret-value")
    assert "s3cret-value" not in repr(RakeSettings())


def test_settings_are_frozen() -> None:
    settings = RakeSettings(api_key="k")
    with pytest.raises(ValidationError, match="Instance is frozen"):
        settings.port = 1  # type: ignore[misc]


def test_nlp_client_settings_accept_the_seeds_rack_endpoint_spelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("RACK_ENDPOINT", "http://rake:8081")
    monkeypatch.setenv("PROSE_ENDPOINT", "http://prose:8082")
    settings = NlpClientSettings()
    assert (str(settings.rake_endpoint), str(settings.prose_endpoint)) == (
        "http://rake:8081/",
        "http://prose:8082/",
    )


def test_nlp_client_settings_prefer_rake_endpoint_over_rack_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("RAKE_ENDPOINT", "http://new:1")
    monkeypatch.setenv("RACK_ENDPOINT", "http://old:2")
    assert str(NlpClientSettings().rake_endpoint) == "http://new:1/"


def test_nlp_client_settings_reject_non_http_endpoint_naming_the_env_var(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("PROSE_ENDPOINT", "prose:8082")
    assert _error(NlpClientSettings) == (
        "invalid configuration:\nPROSE_ENDPOINT: URL scheme should be 'http' or 'https'"
    )


def test_nlp_client_settings_default_endpoints_are_the_task_local_ports() -> None:
    settings = NlpClientSettings(api_key="k")
    assert (str(settings.rake_endpoint), str(settings.prose_endpoint)) == (
        "http://localhost:8081/",
        "http://localhost:8082/",
    )
