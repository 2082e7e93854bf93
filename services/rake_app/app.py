"""rake-app's routes: ``POST /keywords`` -> ``[{"candidate": str, "score": number}]``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from starlette.types import Scope

from common import RakeSettings, create_service_app
from common.asgi import encode_json
from common.fast_path import FastPath, TextRoute, add_text_routes
from common.pool import LimitedPool
from rake_app.rake import extract_keywords


# The OpenAPI document's shape of an answer's items (`keywords` encodes them directly).
class Keyword(BaseModel):
    candidate: str
    score: int | float  # integral scores stay ints: `9`, as the Go service printed them


# Up to this many characters (~1 ms of scoring at ~4 MB/s) a text is scored on the event loop:
# cheaper than a thread-pool hop, which costs 2-3x the scoring of a typical request
# (benchmarks/bench_edge.py).
INLINE_MAX_CHARS = 4096

# Longer texts are scored in the pool, this many at a time; the others wait on the event loop.
# A 1 MB text peaks at ~58 MiB of RSS while scored, so 40 at once (the pool's size) could take
# the 2 GiB task down; 2 keep that peak near 120 MiB. Scoring is pure Python and holds the GIL,
# so more threads would add memory, not throughput; 2 rather than 1 lets a shorter long text
# make progress beside a 1 MB one (~1.3 s of scoring) instead of waiting for it to finish.
LARGE_TEXT_SCORERS = 2


async def keywords(app: FastAPI, scope: Scope, text: str) -> tuple[int, bytes]:
    if len(text) <= INLINE_MAX_CHARS:
        scored = extract_keywords(text)
    else:
        pool: LimitedPool = app.state.pool
        scored = await pool.run(scope, extract_keywords, text)
    return 200, encode_json([{"candidate": phrase, "score": score} for phrase, score in scored])


ROUTES = [
    TextRoute(
        path="/keywords",
        name="keywords",
        handle=keywords,
        description="Every candidate phrase with its RAKE score, best first (long texts run in "
        "the pool).",
        response_model=list[Keyword],
    )
]
router = APIRouter()
add_text_routes(router, ROUTES)


def create_api(settings: RakeSettings) -> FastAPI:
    """rake-app as FastAPI serves it: every route."""
    app = create_service_app(title="rake-app", settings=settings, routers=[router])
    app.state.pool = LimitedPool(max_calls=LARGE_TEXT_SCORERS)
    return app


def create_app(settings: RakeSettings) -> FastPath:
    """rake-app as it runs: ``/health`` and ``/keywords`` on the fast path, the rest through
    FastAPI."""
    return FastPath(create_api(settings), ROUTES)
