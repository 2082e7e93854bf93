"""The edge's hot path: the four relayed POSTs answered in front of FastAPI.

A relayed request needs three steps: the key check, the body check and the upstream call. Going
through FastAPI around them (its router, dependency solver, per-route wrappers and middleware
layers) cost more CPU than the hop itself and kept the edge from its bars (issue 7,
``benchmarks/bench_edge.py``). So the four operations are served here, from the same building
blocks the FastAPI routes use, behind the same access log and body limits. FastAPI still declares
them, with endpoints that do the same three steps: the OpenAPI document and ``GET /routes`` have
one source, and a test holds both paths to the same answers (``tests/services``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from common import ApiError, ServiceSettings
from common.auth import require_api_key
from common.errors import INTERNAL_ERROR, error_response
from common.limits import BodySizeLimit
from common.logs import AccessLog
from common.models import read_text_in
from nlp_client.gateway import Gateway

logger = logging.getLogger(__name__)


class FastPath:
    """ASGI app: ``POST`` to a path in ``relayed`` (path -> upstream) goes straight to its upstream;
    everything else, the lifespan included, goes to ``api``."""

    def __init__(self, api: FastAPI, relayed: Mapping[str, str]) -> None:
        settings: ServiceSettings = api.state.settings
        self.api = api
        self.relayed = relayed
        self._serve = AccessLog(
            BodySizeLimit(
                self._relay, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.relayed:
            scope["app"] = self.api  # what `request.app` means to the shared building blocks
            await self._serve(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response
        try:
            await require_api_key(request)
            body = await read_text_in(request)
            gateway: Gateway = self.api.state.gateway
            path = scope["path"]
            response = await gateway.call(self.relayed[path], "POST", path, {"text": body.text})
        except ApiError as exc:
            response = error_response(exc.status_code, exc.message)
        except Exception:
            # As FastAPI's handler for the other routes: the traceback to the log, a fixed 500 out.
            logger.exception("unexpected error relaying %s", scope["path"])
            response = error_response(500, INTERNAL_ERROR)
        await response(scope, receive, send)
