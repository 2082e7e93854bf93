"""prose-app's routes: ``POST /tokens``, ``/entities`` and ``/sentences`` over the spaCy engine.

The routes are ``async def`` and hand only the inference to the app's ``LimitedPool`` of one
(common.pool): a long inference never blocks the event loop, so ``GET /health`` keeps answering
while a document is analysed; a burst of requests waits for its turn on the loop, not in pool
threads; and each answer is serialised on the loop as soon as its inference ends.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from common import ProseSettings, TextBody, create_service_app, error_response
from common.errors import TOO_MANY_TOKENS
from common.pool import LimitedPool, Pool
from prose_app.nlp import Entity, Prose, Sentence, Token, TooManyTokensError, load_pipeline

router = APIRouter()


async def _engine(request: Request) -> Prose:  # async: no thread-pool hop (common.auth)
    engine: Prose = request.app.state.prose
    return engine


async def _max_tokens(request: Request) -> int:
    settings: ProseSettings = request.app.state.settings
    return settings.max_tokens


Engine = Annotated[Prose, Depends(_engine)]
MaxTokens = Annotated[int, Depends(_max_tokens)]


@router.post("/tokens")
async def tokens(
    request: Request, body: TextBody, prose: Engine, max_tokens: MaxTokens, pool: Pool
) -> list[Token]:
    """``[{"tag", "text", "label"}]``: each token's Penn Treebank tag and IOB entity label."""
    return await pool.run(request.scope, partial(prose.tokens, body.text, max_tokens=max_tokens))


@router.post("/entities")
async def entities(
    request: Request, body: TextBody, prose: Engine, max_tokens: MaxTokens, pool: Pool
) -> list[Entity]:
    """``[{"text", "label"}]``: named entities, with the Go prose library's label names."""
    return await pool.run(request.scope, partial(prose.entities, body.text, max_tokens=max_tokens))


@router.post("/sentences")
async def sentences(
    request: Request, body: TextBody, prose: Engine, max_tokens: MaxTokens, pool: Pool
) -> list[Sentence]:
    """``[{"text"}]``: the sentences, in order."""
    return await pool.run(request.scope, partial(prose.sentences, body.text, max_tokens=max_tokens))


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
    # One inference at a time, as `Prose` allows (its lock): the others wait on the event loop.
    app.state.pool = LimitedPool(max_calls=1)
    app.add_exception_handler(TooManyTokensError, _too_many_tokens)
    return app


async def _too_many_tokens(_: Request, __: Exception) -> JSONResponse:
    return error_response(413, TOO_MANY_TOKENS)
