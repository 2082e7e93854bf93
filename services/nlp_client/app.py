"""nlp-client's routes: the four operations forwarded, and a deep health check per upstream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.types import Scope

from common import ApiError, NlpClientSettings, create_service_app
from common.errors import UNKNOWN_APP, UPSTREAM_ERROR_RESPONSES, ErrorBody
from common.fast_path import FastPath, TextHandler, TextRoute, add_text_routes
from nlp_client.gateway import PROSE, RAKE, Gateway, gateway_lifespan

# Path -> the upstream that serves it (at the same path).
FORWARDED_ROUTES = {"/keywords": RAKE, "/tokens": PROSE, "/entities": PROSE, "/sentences": PROSE}


async def _gateway(request: Request) -> Gateway:  # async: no thread-pool hop (common.auth)
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]

router = APIRouter(responses=UPSTREAM_ERROR_RESPONSES)


@router.get("/health/{app_name}", responses={404: {"model": ErrorBody, "description": UNKNOWN_APP}})
async def upstream_health(app_name: str, gateway: GatewayDep) -> Response:
    """Deep check: ``GET /health`` of ``rake`` or ``prose``, relayed (502/504 if it is down)."""
    if app_name not in gateway.endpoints:
        raise ApiError(404, UNKNOWN_APP)
    return await gateway.call(app_name, "GET", "/health")


def _relay(upstream: str) -> TextHandler:
    # The text is validated first (common.fast_path): a bad body gets its 4xx without a hop.
    async def relay(app: FastAPI, scope: Scope, text: str) -> tuple[int, bytes]:
        gateway: Gateway = app.state.gateway  # set by the app's lifespan
        return await gateway.fetch(upstream, "POST", scope["path"], text)

    return relay


ROUTES = [
    TextRoute(
        path=path,
        name=path.removeprefix("/"),
        handle=_relay(upstream),
        description=f"``POST {path}`` on {upstream}-app, relayed.",
        response_model=None,
    )
    for path, upstream in FORWARDED_ROUTES.items()
]
add_text_routes(router, ROUTES)


def create_api(settings: NlpClientSettings) -> FastAPI:
    """The edge as FastAPI serves it: every route, the relayed ones included."""
    return create_service_app(
        title="nlp-client", settings=settings, routers=[router], lifespan=gateway_lifespan
    )


def create_app(settings: NlpClientSettings) -> FastPath:
    """The edge as it runs: ``/health`` and the relayed operations on the fast path, the rest
    through FastAPI."""
    return FastPath(create_api(settings), ROUTES)
