"""``GET /health`` (open, for load balancers); ``GET /routes`` and the OpenAPI document (keyed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

HEALTH_PATH = "/health"
OPENAPI_PATH = "/openapi.json"
HEALTH_BODY = {"status": "UP"}


class RouteInfo(BaseModel):
    method: str
    path: str
    name: str


health_router = APIRouter()
routes_router = APIRouter()


@health_router.get(HEALTH_PATH)
async def health() -> dict[str, str]:
    """Shallow liveness: the process serves HTTP. The ALB and container health checks use it."""
    return HEALTH_BODY


@routes_router.get("/routes")
async def routes(request: Request) -> list[RouteInfo]:
    """Every route of this service, in declaration order (methods sorted within a route)."""
    # FastAPI keeps included routers as wrappers; iter_route_contexts flattens them.
    return [
        RouteInfo(method=method, path=context.path or "", name=context.name or "")
        for context in iter_route_contexts(request.app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in sorted(context.methods or ())
    ]


@routes_router.get(OPENAPI_PATH, include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    """The service's OpenAPI document, behind the key like every route but ``/health``."""
    app: FastAPI = request.app
    return app.openapi()
