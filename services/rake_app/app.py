"""rake-app's routes: ``POST /keywords`` -> ``[{"candidate": str, "score": number}]``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from common import RakeSettings, TextBody, create_service_app
from common.pool import LimitedPool, Pool
from rake_app.rake import extract_keywords


class Keyword(BaseModel):
    candidate: str
    score: int | float  # integral scores stay ints: `9`, as the Go service printed them


# Up to this many characters (~1 ms of scoring at ~4 MB/s) a text is scored on the event loop:
# cheaper than the two thread-pool hops FastAPI makes for a sync route (the call, then the
# response check), which cost 2-3x the scoring of a typical request (benchmarks/bench_edge.py).
INLINE_MAX_CHARS = 4096

# Longer texts are scored in the pool, this many at a time; the others wait on the event loop.
# A 1 MB text peaks at ~58 MiB of RSS while scored, so 40 at once (the pool's size) could take
# the 2 GiB task down; 2 keep that peak near 120 MiB. Scoring is pure Python and holds the GIL,
# so more threads would add memory, not throughput; 2 rather than 1 lets a shorter long text
# make progress beside a 1 MB one (~1.3 s of scoring) instead of waiting for it to finish.
LARGE_TEXT_SCORERS = 2

router = APIRouter()


def _keywords(text: str) -> list[Keyword]:
    return [Keyword(candidate=phrase, score=score) for phrase, score in extract_keywords(text)]


@router.post("/keywords")
async def keywords(request: Request, body: TextBody, pool: Pool) -> list[Keyword]:
    """Every candidate phrase with its RAKE score, best first (long texts run in the pool)."""
    if len(body.text) <= INLINE_MAX_CHARS:
        return _keywords(body.text)
    return await pool.run(request.scope, _keywords, body.text)


def create_app(settings: RakeSettings) -> FastAPI:
    app = create_service_app(title="rake-app", settings=settings, routers=[router])
    app.state.pool = LimitedPool(max_calls=LARGE_TEXT_SCORERS)
    return app
