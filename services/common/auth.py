"""API-key check shared by every route except ``GET /health``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from common.errors import INVALID_KEY, MISSING_KEY, ApiError
from common.settings import ServiceSettings

API_KEY_HEADER = "X-API-Key"


async def require_api_key(request: Request) -> None:
    """Reject a request without the header (400) or with another key (401).

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hop on every request for a few microseconds of work.
    """
    supplied = request.headers.get(API_KEY_HEADER)
    if supplied is None:
        raise ApiError(400, MISSING_KEY)
    settings: ServiceSettings = request.app.state.settings
    expected = settings.api_key.get_secret_value()
    # Constant-time, so response timing does not reveal how much of a guess was right.
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise ApiError(401, INVALID_KEY)


ApiKey = Annotated[None, Depends(require_api_key)]
