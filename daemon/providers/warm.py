"""Cache warming: the model's analysis of prompts nobody has asked about yet, in the background.

The editor opens a document with prompts in it, the library folders hold prompt files: the
analysis (the Deconstructor and the Diagnoser's answer, kept in the lint cache for
``cache.lint_ttl_s``) of each is computed before anyone asks, so the first ``lint --engine
llm`` or code action on it is a cache hit and the optimization needs one round trip less.

:class:`WarmQueue` is a bounded queue with one worker at the lowest priority:

* :meth:`WarmQueue.offer` never blocks and never fails: prompts past ``capacity`` are dropped
  and counted; a prompt already waiting is not queued twice.
* The worker takes one prompt at a time, and only when the daemon is idle (no request,
  optimization or LLM call in flight: the ``busy`` callable); it yields to the event loop
  between prompts. A user's request never waits behind warming.
* ``analyze`` does the work and says what happened: :data:`WARMED` (a call was made),
  :data:`ALREADY` (the cache had it), or :class:`WarmSkipped` raised with why (no provider,
  an open breaker, a budget nearly used up). Any other error is counted as failed and logged;
  the worker goes on with the next prompt.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from .llm_engine import LLMEngine

WARMED = "warmed"
ALREADY = "already"
IDLE_POLL_S = 0.05  # how often a waiting worker looks whether the daemon is idle again
DEFAULT_CAPACITY = 256
_log = logging.getLogger("promptd.providers")


class WarmSkipped(Exception):
    """This prompt is not warmed now, for a reason that is not a failure (no provider, ...)."""


class WarmFigures(msgspec.Struct, kw_only=True):
    """What warming has done since the daemon started (``status --json`` ``warming``)."""

    queued: int = 0  # waiting now
    accepted: int = 0  # taken into the queue since start
    done: int = 0  # analysed: a call was made, or the cache already had it
    warmed: int = 0  # of ``done``: a call was made
    dropped: int = 0  # not queued: the queue was full
    skipped: int = 0  # not analysed: no provider, breaker open, budget low
    failed: int = 0  # the analysis failed (provider error, invalid answer)
    last_error: str = ""


Analyze = Callable[[str], Awaitable[str]]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class WarmQueue:
    """One bounded queue of prompts and its one worker (:meth:`run`, a daemon task)."""

    def __init__(
        self,
        analyze: Analyze,
        *,
        busy: Callable[[], bool] = lambda: False,
        capacity: int = DEFAULT_CAPACITY,
        idle_poll_s: float = IDLE_POLL_S,
    ) -> None:
        self.analyze = analyze
        self.busy = busy
        self.capacity = max(1, capacity)
        self.idle_poll_s = idle_poll_s
        self.figures = WarmFigures()
        self._items: collections.deque[tuple[str, str]] = collections.deque()
        self._waiting: set[str] = set()
        self._wake = asyncio.Event()

    def offer(self, prompts: Iterable[str]) -> tuple[int, int]:
        """Queue ``prompts``; ``(queued, dropped)``. A prompt already waiting counts as queued."""
        queued = dropped = 0
        for text in prompts:
            digest = _digest(text)
            if digest in self._waiting:
                queued += 1
                continue
            if len(self._items) >= self.capacity:
                dropped += 1
                continue
            self._items.append((digest, text))
            self._waiting.add(digest)
            queued += 1
        self.figures.accepted += queued
        self.figures.dropped += dropped
        self.figures.queued = len(self._items)
        if self._items:
            self._wake.set()
        return queued, dropped

    def skip(self, count: int) -> None:
        """Count prompts that were offered but cannot be warmed at all (no provider)."""
        self.figures.skipped += count

    async def _idle(self) -> None:
        while self.busy():
            await asyncio.sleep(self.idle_poll_s)

    async def run(self) -> None:
        """The worker: forever, the next prompt when the daemon is idle."""
        while True:
            if not self._items:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._idle()
            digest, text = self._items.popleft()
            self._waiting.discard(digest)
            self.figures.queued = len(self._items)
            await self._one(text)
            await asyncio.sleep(0)  # let whatever came in meanwhile go first

    async def _one(self, text: str) -> None:
        figures = self.figures
        try:
            outcome = await self.analyze(text)
        except WarmSkipped:
            figures.skipped += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            figures.failed += 1
            figures.last_error = f"{type(exc).__name__}: {exc}"[:300]
            _log.info("cache warming: the analysis failed (%s)", figures.last_error)
        else:
            figures.done += 1
            figures.warmed += outcome == WARMED


LOW_BUDGET = 0.5  # warming stops while less than this share of a budget is left


async def warm_analysis(engine: LLMEngine, text: str) -> str:
    """Put the model's analysis of ``text`` in the lint cache, as a later request keys it.

    The same key as ``lint --engine llm`` and an optimization's analysis (prompt, resolved
    type, the model the router picks), looked up first so that a live entry costs nothing;
    a miss is not counted in the lint tier's hit rate (nobody asked yet).
    """
    from ..engine.guards import check_input
    from ..engine.lint import resolve_type
    from .answers import lint_key

    check_input(text, engine.config.engine)
    if engine.circuit == "open":
        raise WarmSkipped(f"{engine.name} is failing (breaker open)")
    remaining = engine.remaining_budget()
    if remaining is not None and remaining < LOW_BUDGET:
        raise WarmSkipped("less than half of a budget is left: kept for requests")
    choice = engine.router.choose(text)  # as `engine.lint` chooses
    ptype, _ = resolve_type("auto", text)
    key = lint_key(text, ptype, choice.model)
    with engine.log.view() as view:
        if view.cache.get("lint", key, time.time_ns()) is not None:
            return ALREADY
    await engine.lint(text, no_cache=True)  # no lookup, no miss: it records the analysis
    return WARMED
