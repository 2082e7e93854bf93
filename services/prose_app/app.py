"""prose-app's routes: ``POST /tokens``, ``/entities`` and ``/sentences`` over the spaCy engine.

The routes hand only the inference to the app's ``LimitedPool`` of one (common.pool): a long
inference never blocks the event loop, so ``GET /health`` keeps answering while a document is
analysed; a burst of requests waits for its turn on the loop, not in pool threads; and each
answer is serialised on the loop as soon as its inference ends.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import Scope

from common import ApiError, ProseSettings, create_service_app
from common.asgi import encode_json
from common.errors import TOO_MANY_TOKENS
from common.fast_path import FastPath, TextHandler, TextRoute, add_text_routes
from common.pool import LimitedPool
from prose_app.nlp import Entity, Prose, Sentence, Token, TooManyTokensError, load_pipeline


def _analysis(method: str) -> TextHandler:
    """The handler running the engine's `method` (``tokens``...) on the text in the app's pool."""

    async def handle(app: FastAPI, scope: Scope, text: str) -> tuple[int, bytes]:
        settings: ProseSettings = app.state.settings
        pool: LimitedPool = app.state.pool
        analyse: Callable[..., list[Any]] = getattr(app.state.prose, method)
        run = partial(analyse, text, max_tokens=settings.max_tokens)
        try:
            return 200, encode_json(await pool.run(scope, run))
        except TooManyTokensError:
            raise ApiError(413, TOO_MANY_TOKENS) from None

    return handle


# Path (and name) -> what the answer holds, and its items' shape.
_ANALYSES: dict[str, tuple[str, Any]] = {
    "tokens": (
        '``[{"tag", "text", "label"}]``: each token\'s Penn Treebank tag and IOB entity label.',
        Token,
    ),
    "entities": (
        '``[{"text", "label"}]``: named entities, with the Go prose library\'s label names.',
        Entity,
    ),
    "sentences": ('``[{"text"}]``: the sentences, in order.', Sentence),
}
ROUTES = [
    TextRoute(
        path=f"/{name}",
        name=name,
        handle=_analysis(name),
        description=description,
        response_model=list[item],  # type: ignore[valid-type]  # a TypedDict, held in a variable
    )
    for name, (description, item) in _ANALYSES.items()
]
router = APIRouter()
add_text_routes(router, ROUTES)


def create_api(settings: ProseSettings, *, prose: Prose | None = None) -> FastAPI:
    """prose-app as FastAPI serves it; loads ``settings.spacy_model`` unless a loaded ``prose``
    is given.

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
    return app


def create_app(settings: ProseSettings, *, prose: Prose | None = None) -> FastPath:
    """prose-app as it runs: ``/health`` and the three analyses on the fast path, the rest
    through FastAPI (see `create_api`)."""
    return FastPath(create_api(settings, prose=prose), ROUTES)
