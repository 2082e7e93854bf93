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


@pytest.mark.parametrize(
    ("settings_class", "env", "message"),
    [
        pytest.param(
            RakeSettings,
            {"API_KEY": "k", "RAKE_PORT": "70000"},
            "RAKE_PORT: Input should be less than or equal to 65535",
            id="port-out-of-range",
        ),
        pytest.param(RakeSettings, {}, "API_KEY: Field required", id="no-api-key"),
        pytest.param(
            NlpClientSettings,
            {"API_KEY": "ChangeMe"},
            "API_KEY is the seed's placeholder 'ChangeMe'; set a random key (for example "
            "`python -c 'import secrets; print(secrets.token_urlsafe())'`), or "
            "APP_ENV=development for a local demo.",
            id="seed-placeholder-key-outside-development",
        ),
        pytest.param(
            RakeSettings,
            {"API_KEY": "ChangeMe", "APP_ENV": "staging"},
            "APP_ENV: Input should be 'development' or 'production'",
            id="unknown-app-env-never-echoes-the-key",
        ),
        pytest.param(
            NlpClientSettings,
            {"API_KEY": "k", "PROSE_ENDPOINT": "prose:8082"},
            "PROSE_ENDPOINT: URL scheme should be 'http' or 'https'",
            id="non-http-endpoint",
        ),
        pytest.param(
            NlpClientSettings,
            {"API_KEY": "k", "HEADER_TIMEOUT": "0", "KEEP_ALIVE_TIMEOUT": "0"},
            "HEADER_TIMEOUT: Input should be greater than 0\n"
            "KEEP_ALIVE_TIMEOUT: Input should be greater than or equal to 1",
            id="zero-connection-timeouts",
        ),
        pytest.param(
            NlpClientSettings,
            {"API_KEY": "k", "HEADER_TIMEOUT": "0", "KEEP_ALIVE_TIMEOUT": "1.5"},
            "HEADER_TIMEOUT: Input should be greater than 0\n"
            "KEEP_ALIVE_TIMEOUT: Input should be a valid integer, unable to parse string as an "
            "integer",
            id="fractional-keep-alive",
        ),
    ],
)
def test_settings_error_names_the_env_vars(
    monkeypatch: pytest.MonkeyPatch,
    settings_class: type[ServiceSettings],
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _error(settings_class) == f"invalid configuration:\n{message}"


def test_settings_seed_placeholder_key_allowed_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", "ChangeMe")
    monkeypatch.setenv("APP_ENV", "development")
    assert RakeSettings().api_key.get_secret_value() == "ChangeMe"


def test_settings_repr_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "s3cret-value")
    assert "s3cret-value" not in repr(RakeSettings())


def test_settings_are_frozen() -> None:
    settings = RakeSettings(api_key="k")
    with pytest.raises(ValidationError, match="Instance is frozen"):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "rake", "prose"),
    [
        pytest.param({}, "http://localhost:8081/", "http://localhost:8082/", id="task-local-ports"),
        pytest.param(
            {"RACK_ENDPOINT": "http://rake:8081", "PROSE_ENDPOINT": "http://prose:8082"},
            "http://rake:8081/",
            "http://prose:8082/",
            id="seeds-rack-endpoint-spelling",
        ),
        pytest.param(
            {"RAKE_ENDPOINT": "http://new:1", "RACK_ENDPOINT": "http://old:2"},
            "http://new:1/",
            "http://localhost:8082/",
            id="rake-endpoint-over-rack-endpoint",
        ),
    ],
)
def test_nlp_client_settings_endpoints(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], rake: str, prose: str
) -> None:
    for name, value in {"API_KEY": "k", **env}.items():
        monkeypatch.setenv(name, value)
    settings = NlpClientSettings()
    assert (str(settings.rake_endpoint), str(settings.prose_endpoint)) == (rake, prose)


def test_settings_connection_timeouts_default_to_10_s_headers_and_75_s_keep_alive() -> None:
    settings = RakeSettings(api_key="k")
    assert (settings.header_timeout, settings.keep_alive_timeout) == (10.0, 75)


def test_settings_connection_timeout_envs_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "k")
    monkeypatch.setenv("HEADER_TIMEOUT", "2.5")
    monkeypatch.setenv("KEEP_ALIVE_TIMEOUT", "90")
    settings = ProseSettings()
    assert (settings.header_timeout, settings.keep_alive_timeout) == (2.5, 90)


def test_settings_upstreams_keep_alive_outlasts_the_edges_pool() -> None:
    # The edge must drop an idle upstream connection before the upstream closes it (or a request
    # sent on it as it closes fails: a 502). The ALB's side is checked in tests/infra.
    for upstream in (RakeSettings, ProseSettings):
        assert (
            NlpClientSettings.upstream_keep_alive_timeout < upstream(api_key="k").keep_alive_timeout
        )
