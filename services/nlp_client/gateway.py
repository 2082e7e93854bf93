"""Calls to the upstream services over one pooled aiohttp session, with fixed errors.

The client sees the upstream's status and JSON body as they are (the Go original turned
upstream errors into 200s), or a 502/504 whose message never names an internal address.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from fastapi import FastAPI, Response

from common import API_KEY_HEADER, ApiError, NlpClientSettings
from common.errors import UPSTREAM_BAD_RESPONSE, UPSTREAM_TIMEOUT, UPSTREAM_UNREACHABLE

RAKE = "rake"
PROSE = "prose"

# UTF-8 as received: \uXXXX escapes would make a body up to 3x larger than the one the edge
# accepted, and the upstream's size cap would refuse it. Built once (`json.dumps` with options
# builds an encoder per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """The upstreams by name (``rake``, ``prose``) and the session that reaches them."""

    session: aiohttp.ClientSession
    endpoints: Mapping[str, str]  # name -> base URL without a trailing slash
    api_key: str = field(repr=False)

    async def fetch(
        self, upstream: str, method: str, path: str, text: str | None = None
    ) -> tuple[int, bytes]:
        """``method path`` on ``upstream``, with ``{"text": text}`` as its body if given: the
        upstream's status and JSON body, or an `ApiError` 502/504."""
        headers = {API_KEY_HEADER: self.api_key}
        body = None
        if text is not None:
            headers["Content-Type"] = "application/json"
            body = _ENCODER.encode({"text": text}).encode()
        try:
            async with self.session.request(
                method,
                self.endpoints[upstream] + path,
                data=body,
                headers=headers,
                # A redirect would carry the key to wherever it points; an upstream never sends one.
                allow_redirects=False,
            ) as upstream_response:
                status = upstream_response.status
                raw = await upstream_response.read()
        except TimeoutError as exc:  # connect or total timeout (aiohttp's are TimeoutErrors)
            raise self._failure(upstream, exc, 504, UPSTREAM_TIMEOUT) from exc
        except aiohttp.ClientConnectorError as exc:  # refused, no route, DNS
            raise self._failure(upstream, exc, 502, UPSTREAM_UNREACHABLE) from exc
        except aiohttp.ClientError as exc:  # disconnected mid-answer, malformed HTTP
            raise self._failure(upstream, exc, 502, UPSTREAM_BAD_RESPONSE) from exc
        try:
            json.loads(raw)
        except ValueError as exc:
            raise self._failure(upstream, exc, 502, UPSTREAM_BAD_RESPONSE) from exc
        return status, raw

    async def call(
        self, upstream: str, method: str, path: str, text: str | None = None
    ) -> Response:
        """`fetch` as a FastAPI response."""
        status, raw = await self.fetch(upstream, method, path, text)
        return Response(raw, status_code=status, media_type="application/json")

    @staticmethod
    def _failure(upstream: str, exc: Exception, status: int, message: str) -> ApiError:
        # The log (operators) gets the cause; the client gets only the fixed message. Not
        # `repr(exc)`: aiohttp's response errors show the request's headers there, the key too.
        logger.warning(
            "upstream call failed",
            extra={"upstream": upstream, "status": status, "error": f"{type(exc).__name__}: {exc}"},
        )
        return ApiError(status, message)


def relay_session(
    *,
    timeout: aiohttp.ClientTimeout = aiohttp.client.DEFAULT_TIMEOUT,
    connector: aiohttp.BaseConnector | None = None,
) -> aiohttp.ClientSession:
    """A ClientSession for relaying: no cookies, decompression or client identity, each of them
    per-call work a relay does not need (the benchmarks' bare forwarder uses it too)."""
    return aiohttp.ClientSession(
        timeout=timeout,
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        auto_decompress=False,
    )


@asynccontextmanager
async def gateway_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One ClientSession (a connection pool) for the app's lifetime: ``app.state.gateway``."""
    settings: NlpClientSettings = app.state.settings
    timeout = aiohttp.ClientTimeout(
        total=settings.upstream_timeout,
        # Opening the socket only: `connect` would also count a wait for a free pool slot, and
        # report a busy pool as an upstream timeout.
        sock_connect=settings.upstream_connect_timeout,
    )
    async with relay_session(
        timeout=timeout,
        connector=aiohttp.TCPConnector(
            # A cap per upstream (host and port), none shared: aiohttp's default shares 100
            # connections, so 100 slow prose-app calls would make every rake-app call wait.
            limit=0,
            limit_per_host=settings.upstream_connections,
            # Idle connections leave the pool before the upstreams close them (common.settings).
            keepalive_timeout=settings.upstream_keep_alive_timeout,
        ),
    ) as session:
        app.state.gateway = Gateway(
            session=session,
            endpoints={
                RAKE: str(settings.rake_endpoint).rstrip("/"),
                PROSE: str(settings.prose_endpoint).rstrip("/"),
            },
            api_key=settings.api_key.get_secret_value(),
        )
        yield
