"""The hot routes of every service answered in plain ASGI, in front of FastAPI.

``GET /health`` and the keyed ``POST`` routes that take ``{"text": ...}`` need three steps: the
key check, the body check and the work. Through FastAPI and Starlette around them (router,
dependency solver, request and response objects, response validation) they cost 3-5x the CPU of
a bare uvicorn app doing the same work (``benchmarks/bench_http_layer.py``). So `FastPath` runs
the same framework-free steps (`check_api_key`, `parse_text`, the route's handler) behind the same
access log and body limits, and hands everything else (``/routes``, the OpenAPI document, 404,
405, the lifespan) to FastAPI.

FastAPI still declares every route (`add_text_routes`), with an endpoint that calls the same
handler: the OpenAPI document and ``GET /routes`` have one source, and the services' tests hold
both paths to the same answers (``tests/services/test_fast_path.py`` and
``test_edge_fast_path.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from common.asgi import encode_json, header, read_body, send_json
from common.auth import API_KEY_HEADER, check_api_key
from common.errors import INTERNAL_ERROR, ApiError
from common.health import HEALTH_BODY, HEALTH_PATH
from common.limits import BodySizeLimit
from common.logs import AccessLog
from common.models import TextBody, parse_text
from common.settings import ServiceSettings

# A route's work on a valid text: its status and JSON body. It gets the FastAPI app (for its
# `state`) and the request's scope (for `common.pool.LimitedPool.run`).
TextHandler = Callable[[FastAPI, Scope, str], Awaitable[tuple[int, bytes]]]

_KEY_HEADER = API_KEY_HEADER.lower().encode()
_HEALTH_JSON = encode_json(HEALTH_BODY)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TextRoute:
    """A keyed ``POST path`` with a ``{"text"}`` body: its handler, and what the OpenAPI
    document says of it (`name` also names it in ``GET /routes``)."""

    path: str
    name: str
    handle: TextHandler
    description: str
    response_model: Any


def add_text_routes(router: APIRouter, routes: Iterable[TextRoute]) -> None:
    """Declare `routes` on `router` for FastAPI, each endpoint calling the route's handler."""
    for route in routes:
        router.add_api_route(
            route.path,
            _endpoint(route.handle),
            methods=["POST"],
            name=route.name,
            description=route.description,
            response_model=route.response_model,
        )


def _endpoint(handle: TextHandler) -> Callable[[Request, TextBody], Awaitable[Response]]:
    async def endpoint(request: Request, body: TextBody) -> Response:
        status, payload = await handle(request.app, request.scope, body.text)
        return Response(payload, status_code=status, media_type="application/json")

    return endpoint


class FastPath:
    """ASGI app: ``GET /health`` and ``POST`` to a path of `routes` answered here; everything
    else, the lifespan included, goes to `api` (which declares `routes` too)."""

    def __init__(self, api: FastAPI, routes: Iterable[TextRoute]) -> None:
        settings: ServiceSettings = api.state.settings
        self.api = api
        self._handlers = {route.path: route.handle for route in routes}
        self._api_key = settings.api_key.get_secret_value().encode()
        self._serve_text = AccessLog(
            BodySizeLimit(
                self._text, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
            )
        )
        self._serve_health = AccessLog(_health)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "POST" and path in self._handlers:
                await self._serve_text(scope, receive, send)
                return
            if method == "GET" and path == HEALTH_PATH:
                await self._serve_health(scope, receive, send)
                return
        await self.api(scope, receive, send)

    async def _text(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            check_api_key(header(scope, _KEY_HEADER), self._api_key)
            content_type = header(scope, b"content-type")
            text = parse_text(
                None if content_type is None else content_type.decode("latin-1"),
                await read_body(receive),
            )
            status, body = await self._handlers[scope["path"]](self.api, scope, text)
        except ClientDisconnect:
            return  # nobody to answer (AccessLog saw the disconnect: it records a 499)
        except ApiError as exc:
            status, body = exc.status_code, encode_json({"message": exc.message})
        except Exception:
            # As FastAPI's handler for the other routes: the traceback to the log, a fixed 500 out.
            logger.exception("unexpected error serving %s", scope["path"])
            status, body = 500, encode_json({"message": INTERNAL_ERROR})
        await send_json(send, status, body)


async def _health(_: Scope, __: Receive, send: Send) -> None:
    await send_json(send, 200, _HEALTH_JSON)
