"""API-key check shared by every route except ``GET /health``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from common.errors import INVALID_KEY, MISSING_KEY, ApiError
from common.settings import ServiceSettings

API_KEY_HEADER = "X-API-Key"


def check_api_key(supplied: bytes | None, expected: bytes) -> None:
    """Reject a request without the header (400) or with another key (401)."""
    if supplied is None:
        raise ApiError(400, MISSING_KEY)
    # Constant-time, so response timing does not reveal how much of a guess was right.
    if not hmac.compare_digest(supplied, expected):
        raise ApiError(401, INVALID_KEY)


async def require_api_key(request: Request) -> None:
    """`check_api_key` as a FastAPI dependency.

    ``async`` although it never awaits: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hop on every request for a few microseconds of work.
    """
    settings: ServiceSettings = request.app.state.settings
    supplied = request.headers.get(API_KEY_HEADER)
    check_api_key(
        # Starlette decoded the header's bytes as latin-1: this gives them back unchanged.
        None if supplied is None else supplied.encode("latin-1"),
        settings.api_key.get_secret_value().encode(),
    )


ApiKey = Annotated[None, Depends(require_api_key)]
