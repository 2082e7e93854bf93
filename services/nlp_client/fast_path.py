"""The edge's hot path: the four relayed POSTs answered in front of FastAPI, in plain ASGI.

A relayed request needs three steps: the key check, the body check and the upstream call. Going
through FastAPI and Starlette around them (router, dependency solver, route wrappers, request and
response objects) cost the edge more CPU than the hop itself and kept it from its bars
(``benchmarks/bench_edge.py``). So these four operations run the same three framework-free steps
(`check_api_key`, `parse_text`, `Gateway.fetch`) here, behind the same access log and body
limits. FastAPI still declares them, with endpoints made of the same steps: the OpenAPI document
and ``GET /routes`` have one source, and a test holds both paths to the same answers
(``tests/services/test_edge_fast_path.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from common import ApiError, NlpClientSettings
from common.asgi import header, read_body, send_json
from common.auth import API_KEY_HEADER, check_api_key
from common.errors import INTERNAL_ERROR, error_response
from common.limits import BodySizeLimit
from common.logs import AccessLog
from common.models import parse_text
from nlp_client.gateway import Gateway

_KEY_HEADER = API_KEY_HEADER.lower().encode()

logger = logging.getLogger(__name__)


class FastPath:
    """ASGI app: ``POST`` to a path in ``relayed`` (path -> upstream) goes straight to its upstream;
    everything else, the lifespan included, goes to ``api``."""

    def __init__(self, api: FastAPI, relayed: Mapping[str, str]) -> None:
        settings: NlpClientSettings = api.state.settings
        self.api = api
        self.relayed = relayed
        self._api_key = settings.api_key.get_secret_value().encode()
        self._serve = AccessLog(
            BodySizeLimit(
                self._relay, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.relayed:
            await self._serve(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        try:
            check_api_key(header(scope, _KEY_HEADER), self._api_key)
            content_type = header(scope, b"content-type")
            text = parse_text(
                None if content_type is None else content_type.decode("latin-1"),
                await read_body(receive),
            )
            gateway: Gateway = self.api.state.gateway  # set by the app's lifespan
            status, body = await gateway.fetch(self.relayed[path], "POST", path, text)
        except ClientDisconnect:
            return  # nobody to answer (AccessLog saw the disconnect: it records a 499)
        except ApiError as exc:
            await error_response(exc.status_code, exc.message)(scope, receive, send)
            return
        except Exception:
            # As FastAPI's handler for the other routes: the traceback to the log, a fixed 500 out.
            logger.exception("unexpected error relaying %s", path)
            await error_response(500, INTERNAL_ERROR)(scope, receive, send)
            return
        await send_json(send, status, body)
