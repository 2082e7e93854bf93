"""prose-app's routes: ``POST /tokens``, ``/entities`` and ``/sentences`` over the spaCy engine.

The routes are plain ``def``s on purpose: FastAPI runs them in its thread pool, so a long inference
never blocks the event loop and ``GET /health`` keeps answering while a document is analysed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from common import ProseSettings, TextBody, create_service_app
from prose_app.nlp import Entity, Prose, Sentence, Token, load_pipeline

router = APIRouter()


async def _engine(request: Request) -> Prose:  # async: no thread-pool hop (common.auth)
    engine: Prose = request.app.state.prose
    return engine


Engine = Annotated[Prose, Depends(_engine)]


@router.post("/tokens")
def tokens(body: TextBody, prose: Engine) -> list[Token]:
    """``[{"tag", "text", "label"}]``: each token's Penn Treebank tag and IOB entity label."""
    return prose.tokens(body.text)


@router.post("/entities")
def entities(body: TextBody, prose: Engine) -> list[Entity]:
    """``[{"text", "label"}]``: named entities, with the Go prose library's label names."""
    return prose.entities(body.text)


@router.post("/sentences")
def sentences(body: TextBody, prose: Engine) -> list[Sentence]:
    """``[{"text"}]``: the sentences, in order."""
    return prose.sentences(body.text)


def create_app(settings: ProseSettings, *, prose: Prose | None = None) -> FastAPI:
    """The prose-app service; loads ``settings.spacy_model`` unless a loaded ``prose`` is given.

    Loading happens here, before uvicorn listens, so a started service is a ready one and a
    missing model stops the start with ``ModelNotInstalledError``. Tests pass one loaded ``prose``
    to every app they build.
    """
    if prose is None:
        prose = load_pipeline(settings.spacy_model)
    app = create_service_app(title="prose-app", settings=settings, routers=[router])
    app.state.prose = prose
    return app
