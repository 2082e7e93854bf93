"""rake-app's routes: ``POST /keywords`` -> ``[{"candidate": str, "score": number}]``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from common import RakeSettings, TextBody, create_service_app
from rake_app.rake import extract_keywords


class Keyword(BaseModel):
    candidate: str
    score: int | float  # integral scores stay ints: `9`, as the Go service printed them


# Up to this many characters (~1 ms of scoring at ~4 MB/s) a text is scored on the event loop:
# cheaper than the two thread-pool hops FastAPI makes for a sync route (the call, then the
# response check), which cost 2-3x the scoring of a typical request (benchmarks/bench_edge.py).
INLINE_MAX_CHARS = 4096

router = APIRouter()


def _keywords(text: str) -> list[Keyword]:
    return [Keyword(candidate=phrase, score=score) for phrase, score in extract_keywords(text)]


@router.post("/keywords")
async def keywords(body: TextBody) -> list[Keyword]:
    """Every candidate phrase with its RAKE score, best first (long texts run in the pool)."""
    if len(body.text) <= INLINE_MAX_CHARS:
        return _keywords(body.text)
    return await run_in_threadpool(_keywords, body.text)


def create_app(settings: RakeSettings) -> FastAPI:
    return create_service_app(title="rake-app", settings=settings, routers=[router])
