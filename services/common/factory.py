"""One way to build a service's FastAPI app, so each ``<svc>/app.py`` only declares its routes."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Sequence
from typing import TypedDict, TypeVar

import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.types import ASGIApp, Lifespan

from common.auth import require_api_key
from common.bounded import bounded_protocol
from common.errors import ERROR_RESPONSES, install_error_handlers
from common.health import health_router, routes_router
from common.limits import BodySizeLimit
from common.logs import LOG_CONFIG, AccessLog
from common.models import TEXT_BODY_OPENAPI, read_text_in
from common.settings import GRACEFUL_SHUTDOWN_SECONDS, ServiceSettings, describe_settings_error

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def create_service_app(
    *,
    title: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    lifespan: Lifespan[FastAPI] | None = None,
) -> FastAPI:
    """A FastAPI app whose every route needs the API key except ``GET /health``.

    Closed by default: no interactive docs, the OpenAPI document behind the key, no
    trailing-slash redirects, and the key dependency is attached here rather than remembered
    route by route.
    """
    app = FastAPI(
        title=title,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health_router)
    for router in (routes_router, *routers):
        _document_text_bodies(router)
        app.include_router(
            router, dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES
        )
    install_error_handlers(app)
    # The last added is outermost: the access log also records the 413s of the size limit.
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
    )
    app.add_middleware(AccessLog)
    return app


def _document_text_bodies(router: APIRouter) -> None:
    # `TextBody` parses the raw request itself (for its fixed messages), so FastAPI cannot see
    # the body: declare it on each route that takes one, or the OpenAPI document omits it.
    for route in router.routes:
        if isinstance(route, APIRoute) and any(
            dependency.call is read_text_in for dependency in route.dependant.dependencies
        ):
            route.openapi_extra = TEXT_BODY_OPENAPI


class ServerOptions(TypedDict):
    """The uvicorn options that shape how a service answers and keeps its connections."""

    http: type[asyncio.Protocol]
    ws: str
    timeout_keep_alive: int
    timeout_graceful_shutdown: int
    access_log: bool
    server_header: bool


def server_options(settings: ServiceSettings) -> ServerOptions:
    """uvicorn's options from `settings`: what ``run_service`` runs and the tests' servers use."""
    return ServerOptions(
        http=bounded_protocol(settings.header_timeout),
        # No route is a WebSocket, and BoundedProtocol does not follow a connection through
        # an upgrade: upgrades stay off even if a websockets package gets installed.
        ws="none",
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        access_log=False,  # uvicorn's line has the query string; ours (common.logs) does not
        server_header=False,
    )


def run_service(
    create_app: Callable[[SettingsT], ASGIApp], settings_class: type[SettingsT]
) -> None:
    """Entry point of ``python -m <svc>``: settings from the environment, then uvicorn."""
    try:
        settings = settings_class()
    except ValidationError as exc:
        sys.exit(describe_settings_error(exc))
    app = create_app(settings)
    # What exists now (modules, the app, prose-app's spaCy pipeline) lives as long as the
    # process: frozen, full collections stop walking it. In prose-app one took 33 ms, a pause of
    # the event loop and every request on it.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.bind_host,
        port=settings.port,
        log_config=LOG_CONFIG,
        **server_options(settings),
    )
