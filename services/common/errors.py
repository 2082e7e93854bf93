"""The one error shape of the NLP API, ``{"message": "..."}``, and the handlers that produce it.

Every message is a fixed string (tests assert them exactly, and nothing internal can leak
through one): a client error says what to fix, a server error says only what failed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

MISSING_KEY = "missing key in request header"
INVALID_KEY = "invalid key in request header"
UNSUPPORTED_MEDIA_TYPE = "request body must be JSON: send the header Content-Type: application/json"
INVALID_JSON = "request body is not valid JSON"
BODY_NOT_OBJECT = 'request body must be a JSON object such as {"text": "..."}'
MISSING_TEXT = 'request body has no "text" field'
TEXT_NOT_STRING = 'the "text" field must be a string'
BODY_TOO_LARGE = "request body is too large"
TOO_MANY_TOKENS = "text has too many tokens to analyse in one request; send it in parts"
BODY_TIMEOUT = "request body was not received in time"
HEADERS_TIMEOUT = "request headers were not received in time"
REQUEST_LINE_TOO_LONG = "request line is too long"
HEADERS_TOO_LARGE = "request headers are too large"
INVALID_REQUEST = "invalid request"
NOT_FOUND = "not found"
METHOD_NOT_ALLOWED = "method not allowed"
INTERNAL_ERROR = "internal error"
UPSTREAM_UNREACHABLE = "upstream service is unreachable"
UPSTREAM_TIMEOUT = "upstream service timed out"
UPSTREAM_BAD_RESPONSE = "upstream service sent an invalid response"
UNKNOWN_APP = "unknown app: expected rake or prose"

_MESSAGES_BY_STATUS = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: BODY_TOO_LARGE}


class ErrorBody(BaseModel):
    """The body of every error response: ``{"message": "..."}``."""

    message: str


# What a keyed route can answer besides its success, for the OpenAPI document (clients and the
# schema fuzzer in tests/robustness read it).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": f"{MISSING_KEY}, or {INVALID_JSON}"},
    401: {"model": ErrorBody, "description": INVALID_KEY},
    408: {"model": ErrorBody, "description": BODY_TIMEOUT},
    413: {"model": ErrorBody, "description": BODY_TOO_LARGE},
    415: {"model": ErrorBody, "description": UNSUPPORTED_MEDIA_TYPE},
    422: {"model": ErrorBody, "description": "the body or a parameter has the wrong shape"},
}
# What the edge adds when it cannot get a valid answer from an upstream.
UPSTREAM_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": f"{UPSTREAM_UNREACHABLE}, or {UPSTREAM_BAD_RESPONSE}"},
    504: {"model": ErrorBody, "description": UPSTREAM_TIMEOUT},
}


class ApiError(Exception):
    """Raise anywhere in a request to answer ``status`` with ``{"message": message}``."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def error_response(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status_code)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.message)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    # Starlette's own 404/405; its detail text is not part of our contract.
    assert isinstance(exc, StarletteHTTPException)
    message = _MESSAGES_BY_STATUS.get(exc.status_code, INVALID_REQUEST)
    return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, __: Exception) -> JSONResponse:
    # Path or query parameters that do not validate (bodies are parsed in `common.models`).
    return error_response(422, INVALID_REQUEST)


async def _unexpected_error(_: Request, __: Exception) -> JSONResponse:
    # The traceback goes to the server log; the client learns nothing about the internals.
    return error_response(500, INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
