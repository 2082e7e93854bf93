"""What the service tests serve besides the three apps (their fixtures are in conftest.py): the
body cap they are given, the routes every service lists, and a minimal app built on `common`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from fastapi import APIRouter

from common import TextBody

TEST_MAX_BODY_BYTES = 64 * 1024
# What `GET /routes` lists first on every service (common.health), before its own routes.
COMMON_ROUTES = [
    {"method": "GET", "path": "/health", "name": "health"},
    {"method": "GET", "path": "/routes", "name": "routes"},
    {"method": "GET", "path": "/openapi.json", "name": "openapi"},
]
# The `edge` fixture: ``with edge(rake=url, prose=url, timeout=s) as edge_url:``.
EdgeFactory = Callable[..., AbstractContextManager[str]]


# A service with one POST route, to test what every service gets from `common`.
echo_router = APIRouter()


@echo_router.post("/echo")
def echo(body: TextBody) -> dict[str, str]:
    return {"text": body.text}


@echo_router.get("/boom")
def boom() -> None:
    raise RuntimeError("secret internal detail at 10.0.0.7")
