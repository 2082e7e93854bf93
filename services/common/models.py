"""The body every POST route takes, with a fixed message for each way it can be wrong."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from common.errors import (
    BODY_NOT_OBJECT,
    INVALID_JSON,
    MISSING_TEXT,
    TEXT_NOT_STRING,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TextIn(BaseModel):
    """``{"text": "..."}``; other fields are ignored."""

    text: str


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


# Built once: `json.loads` with options builds a decoder per call. Integers parse as floats:
# int() refuses over 4,300 digits, which would call valid JSON invalid, and no number is ever
# read (only `text`, a string). NaN and Infinity are not JSON: refused.
_DECODER = json.JSONDecoder(parse_int=float, parse_constant=_not_json)


def parse_text(content_type: str | None, body: bytes) -> str:
    """The ``text`` of a ``TextIn`` body: 415, 400 or 422 with a message saying what to fix."""
    # No Content-Type at all is read as JSON (as FastAPI does); a different type is refused.
    if content_type is not None and not _is_json(content_type):
        raise ApiError(415, UNSUPPORTED_MEDIA_TYPE)
    try:
        # As `json.loads` reads bytes: UTF-8, -16 or -32, told apart by their first bytes.
        parsed: Any = _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, deep nesting
        raise ApiError(400, INVALID_JSON) from exc
    if not isinstance(parsed, dict):
        raise ApiError(422, BODY_NOT_OBJECT)
    if "text" not in parsed:
        raise ApiError(422, MISSING_TEXT)
    text = parsed["text"]
    if not isinstance(text, str):
        raise ApiError(422, TEXT_NOT_STRING)
    # JSON may escape half a surrogate pair ("\ud800"), which no UTF-8 response can carry.
    # Replace each with U+FFFD, as Go's encoding/json (the original services) does.
    return _LONE_SURROGATE.sub("\ufffd", text)


async def read_text_in(request: Request) -> TextIn:
    """`parse_text` as a FastAPI dependency."""
    return TextIn(text=parse_text(request.headers.get("content-type"), await request.body()))


TextBody = Annotated[TextIn, Depends(read_text_in)]

# The OpenAPI `requestBody` of a route that takes `TextBody` (see common.factory).
TEXT_BODY_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TextIn.model_json_schema()}},
    }
}
