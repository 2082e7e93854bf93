"""Blocking calls in the thread pool, at most a fixed number at a time per app; the rest wait.

FastAPI runs a plain ``def`` route in its shared pool (40 threads), and then validates and
serialises the answer in that same pool. A sync route whose work queues for a lock, or is simply
allowed 40 at once, fills the pool: finished answers wait behind blocked threads, and 40 big
inputs are in memory at once. A route handler that hands only the blocking call to
``LimitedPool.run`` queues on the event loop instead, takes one pool thread only when its turn
comes, and serialises its answer on the loop as soon as the call returns. A request whose client
has left by its turn (the edge gave up on it, for one) is not run at all: under overload, work
nobody waits for would only make the queue longer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

from anyio import CapacityLimiter, to_thread
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from common.connections import client_gone

ResultT = TypeVar("ResultT")
ArgsT = TypeVarTuple("ArgsT")


class LimitedPool:
    """Runs calls in the thread pool, at most ``max_calls`` of them at once.

    One per app (``app.state.pool``, read by the routes' handlers), created with the app: the
    limiter binds to the event loop that first uses it, and each test server has its own loop.
    """

    def __init__(self, *, max_calls: int) -> None:
        self._limiter = CapacityLimiter(max_calls)

    async def run(self, scope: Scope, func: Callable[[*ArgsT], ResultT], *args: *ArgsT) -> ResultT:
        """``func(*args)`` in a pool thread, once fewer than ``max_calls`` others are running; for
        the request of `scope`, whose client may leave meanwhile (then `ClientDisconnect`, which
        the access log records as 499)."""
        async with self._limiter:
            if client_gone(scope):
                raise ClientDisconnect()
            return await to_thread.run_sync(func, *args)
