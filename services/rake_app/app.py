"""rake-app's routes: ``POST /keywords`` -> ``[{"candidate": str, "score": number}]``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from common import RakeSettings, TextBody, create_service_app
from rake_app.rake import extract_keywords


class Keyword(BaseModel):
    candidate: str
    score: int | float  # integral scores stay ints: `9`, as the Go service printed them


router = APIRouter()


@router.post("/keywords")
def keywords(body: TextBody) -> list[Keyword]:
    """Every candidate phrase with its RAKE score, best first (CPU-bound: runs in the pool)."""
    return [Keyword(candidate=phrase, score=score) for phrase, score in extract_keywords(body.text)]


def create_app(settings: RakeSettings) -> FastAPI:
    return create_service_app(title="rake-app", settings=settings, routers=[router])
