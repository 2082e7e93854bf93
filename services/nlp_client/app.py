"""nlp-client's routes: the four operations forwarded, and a deep health check per upstream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from common import ApiError, NlpClientSettings, TextBody, create_service_app
from common.errors import UNKNOWN_APP, UPSTREAM_ERROR_RESPONSES, ErrorBody
from nlp_client.fast_path import FastPath
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


def _forward(path: str, upstream: str) -> Callable[[TextBody, GatewayDep], Awaitable[Response]]:
    async def forward(body: TextBody, gateway: GatewayDep) -> Response:
        # Validated here first: a bad body gets its 4xx without a hop.
        return await gateway.call(upstream, "POST", path, body.text)

    forward.__doc__ = f"``POST {path}`` on {upstream}-app, relayed."
    return forward


for _path, _upstream in FORWARDED_ROUTES.items():
    router.add_api_route(
        _path, _forward(_path, _upstream), methods=["POST"], name=_path.removeprefix("/")
    )


def create_api(settings: NlpClientSettings) -> FastAPI:
    """The edge as FastAPI serves it: every route, the relayed ones included."""
    return create_service_app(
        title="nlp-client", settings=settings, routers=[router], lifespan=gateway_lifespan
    )


def create_app(settings: NlpClientSettings) -> FastPath:
    """The edge as it runs: the relayed operations on the fast path, the rest through FastAPI."""
    return FastPath(create_api(settings), FORWARDED_ROUTES)
