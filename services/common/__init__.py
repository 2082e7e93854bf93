"""What the three services share: settings, API-key auth, errors, health, limits and logs."""

from __future__ import annotations

from common.auth import API_KEY_HEADER, ApiKey, require_api_key
from common.errors import ApiError, error_response
from common.factory import create_service_app, run_service
from common.health import HEALTH_BODY, HEALTH_PATH
from common.models import TextBody, TextIn
from common.settings import (
    NlpClientSettings,
    ProseSettings,
    RakeSettings,
    ServiceSettings,
)

__all__ = [
    "API_KEY_HEADER",
    "HEALTH_BODY",
    "HEALTH_PATH",
    "ApiError",
    "ApiKey",
    "NlpClientSettings",
    "ProseSettings",
    "RakeSettings",
    "ServiceSettings",
    "TextBody",
    "TextIn",
    "create_service_app",
    "error_response",
    "require_api_key",
    "run_service",
]
