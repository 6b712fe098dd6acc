"""The metered call: response cache, budget hold, provider, and the record of what it cost.

One :meth:`Meter.call` is one chat completion as the ledger sees it:

1. In one write transaction (``append_if``): a live response-cache entry for the identical
   request answers it (``CacheHit``, costs nothing); otherwise ``CacheMiss`` and the call's
   worst-case cost is reserved against the budget (``BudgetReserved``) or refused
   (``BudgetRefused`` -> :class:`~promptd.daemon.errors.BudgetError`).
2. The provider call (circuit breaker, retries).
3. In one write transaction: ``ProviderCallCompleted`` (ok or not, tokens by kind, cost, the
   reservation it settles, the response for the cache), any ``CircuitChanged``, and a
   ``BudgetAlert`` when the spend crosses the alert threshold.

When the provider fails, the last answer to the identical request is used if the log still
has one (even past its TTL), marked stale so the engine can say the answer is degraded.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..config import Config
from ..errors import BudgetError, ProviderError
from ..events import (
    BudgetRefused,
    BudgetReleased,
    BudgetReserved,
    CacheHit,
    CacheMiss,
    CircuitChanged,
    Event,
    ProviderCallCompleted,
)
from .base import ChatRequest, ChatResult
from .breaker import OPEN
from .budget_rules import (
    RunHold,
    alerts_after,
    config_limits,
    decide_reserve,
    decide_with_hold,
    periods,
    refusal_error,
)
from .openai_compat import OpenAICompatProvider, provider_error_failure
from .ports import EventLogPort, StoreView, budget_state, cached_cost, cached_text
from .prices import PriceTable, worst_case_ticks

_log = logging.getLogger("promptd.providers")
_key_encoder = msgspec.json.Encoder(order="sorted")
BYTES_PER_TOKEN = 3  # generous: BPE tokenizers average ~4 bytes a token on English
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    """A cheap token estimate that errs high (UTF-8 bytes / 3), so budget holds cover a call."""
    return (len(text.encode("utf-8")) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def request_tokens(request: ChatRequest) -> int:
    """Estimated prompt tokens of a request, the response schema included."""
    total = sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS for m in request.messages)
    if request.response_format is not None:
        total += estimate_tokens(_key_encoder.encode(request.response_format).decode())
    return total


def request_key(provider: str, base_url: str, request: ChatRequest) -> str:
    """The response-cache key: sha256 of the canonical request (never includes the key)."""
    canonical = _key_encoder.encode(
        {"provider": provider, "base_url": base_url, "request": request}
    )
    return hashlib.sha256(canonical).hexdigest()


class CallOutcome(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    model: str
    cost_ticks: int = 0
    cached: bool = False
    stale: bool = False  # answered from an expired cache entry because the provider failed
    stale_reason: str = ""


def _cache_hit(entry: object, key: str, opt_id: str) -> CacheHit:
    """The record of answering ``opt_id`` from a live response-cache entry."""
    return CacheHit(
        cache="response",
        key=key,
        opt_id=opt_id,
        source_opt_id=str(getattr(entry, "opt_id", "") or ""),
        saved_ticks=cached_cost(entry),
    )


@dataclass(frozen=True, slots=True)
class _Call:
    """One call that may go out: what its ``ProviderCallCompleted`` will say it was."""

    request: ChatRequest
    key: str
    opt_id: str
    agent: str
    reservation_id: str  # "" when no budget was reserved for it
    day: str
    month: str
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Meter:
    """Metered chat completions against one provider and one event log."""

    def __init__(
        self,
        provider: OpenAICompatProvider,
        log: EventLogPort,
        config: Config,
        *,
        prices: PriceTable | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.provider = provider
        self.log = log
        self.config = config
        self.prices = prices if prices is not None else PriceTable(config.prices)
        self.limits = config_limits(config.budget)
        self._now_ns = now_ns
        self._pending: list[Event] = []
        self._recording: set[asyncio.Task[Any]] = set()

    def circuit_changed(self, event: CircuitChanged) -> None:
        """The provider's breaker reports here; the event goes out with the next append."""
        self._pending.append(event)

    def _take_pending(self) -> list[Event]:
        out, self._pending = self._pending, []
        return out

    async def release(self, hold: RunHold, reason: str) -> None:
        """Give back what is left of a run's hold (the run is over)."""
        if hold.finished:
            return
        hold.finished = True
        with self.log.view() as view:
            open_now = view.budget.reservation(hold.id) is not None
        if open_now:
            hold.remaining = 0
            await self.log.append([BudgetReleased(reservation_id=hold.id, reason=reason)])

    async def flush(self) -> None:
        """Append what is still waiting: breaker changes, cache hits being recorded."""
        if self._recording:
            await asyncio.gather(*self._recording, return_exceptions=True)
        if self._pending:
            await self.log.append(self._take_pending())

    def _lookup(self, key: str, opt_id: str, model: str, now_ns: int) -> CallOutcome | None:
        """A live response-cache entry, read without a write transaction (the fast path).

        The ``CacheHit`` is recorded in the background (in the store's next group commit):
        a hit costs nothing, so its answer does not wait for the disk.
        """
        with self.log.view() as view:
            entry = view.cache.get("response", key, now_ns)
            text = cached_text(entry)
            if text is None:
                return None
            hit = _cache_hit(entry, key, opt_id)
        self.background(self.log.append([hit]))
        return CallOutcome(content=text, model=model, cached=True)

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` without waiting for it; :meth:`flush` waits for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._recording.add(task)
        task.add_done_callback(self._recorded)

    def _recorded(self, task: asyncio.Task[Any]) -> None:
        self._recording.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("could not record a provider event", exc_info=task.exception())

    def key(self, request: ChatRequest) -> str:
        return request_key(self.provider.name, self.provider.base_url, request)

    def worst_case(self, request: ChatRequest) -> int:
        price = self.prices.get(request.model)
        return worst_case_ticks(price, request_tokens(request), request.max_tokens)

    async def call(
        self,
        request: ChatRequest,
        *,
        opt_id: str = "",
        agent: str = "",
        no_cache: bool = False,
        hold: RunHold | None = None,
    ) -> CallOutcome:
        """One metered call; with ``hold``, its budget comes from the run's hold first."""
        key = self.key(request)
        now_ns = self._now_ns()
        if not no_cache:
            hit = self._lookup(key, opt_id, request.model, now_ns)
            if hit is not None:
                return hit
        day, month = periods(now_ns / 1e9)
        # fail fast before holding any budget when the breaker is open
        if self.provider.breaker.state == OPEN:
            try:
                self.provider.breaker.before_call()
            except ProviderError as exc:
                return await self._stale_or_raise(key, opt_id, exc)
        ticks = self.worst_case(request)
        reservation_id = uuid.uuid4().hex if ticks > 0 else ""
        hit_box: list[CallOutcome] = []

        def decide(view: StoreView) -> Sequence[Event]:
            hit_box.clear()
            if not no_cache:
                entry = view.cache.get("response", key, now_ns)
                text = cached_text(entry)
                if text is not None:
                    hit_box.append(CallOutcome(content=text, model=request.model, cached=True))
                    return [_cache_hit(entry, key, opt_id)]
            events: list[Event] = (
                [] if no_cache else [CacheMiss(cache="response", key=key, opt_id=opt_id)]
            )
            if ticks > 0:
                state = budget_state(view, self.limits, day, month)
                if hold is not None:
                    current = view.budget.reservation(hold.id)
                    held = None if current is None else current.ticks
                    events += decide_with_hold(
                        state, hold, held, reservation_id=reservation_id, ticks=ticks
                    )
                else:
                    events += decide_reserve(
                        state, reservation_id=reservation_id, ticks=ticks, opt_id=opt_id
                    )
            return events

        appended: list[Event] = []

        def recording(view: StoreView) -> Sequence[Event]:
            out = list(decide(view))
            appended[:] = out
            return out

        await self.log.append_if(recording)
        if hit_box:
            return hit_box[0]
        for ev in appended:
            if isinstance(ev, BudgetRefused):
                raise refusal_error(ev)
        reserved = any(
            isinstance(ev, BudgetReserved) and ev.reservation_id == reservation_id
            for ev in appended
        )
        if hold is not None:
            hold.apply(appended)
            hold.taken = hold.taken or reserved
        call = _Call(
            request=request,
            key=key,
            opt_id=opt_id,
            agent=agent,
            reservation_id=reservation_id if reserved else "",
            day=day,
            month=month,
        )
        return await self._call_provider(call)

    def _completed(self, call: _Call, **outcome: Any) -> ProviderCallCompleted:
        """The record of one call that went out; ``outcome`` says how it ended."""
        return ProviderCallCompleted(
            call_id=call.call_id,
            provider=self.provider.name,
            model=call.request.model,
            opt_id=call.opt_id,
            agent=call.agent,
            reservation_id=call.reservation_id,
            request_key=call.key,
            day=call.day,
            month=call.month,
            **outcome,
        )

    async def _call_provider(self, call: _Call) -> CallOutcome:
        reservation_id = call.reservation_id
        try:
            result = await self.provider.complete(call.request)
        except ProviderError as exc:
            failure = provider_error_failure(exc)
            if failure.attempts == 0 or not hasattr(exc, "failure"):
                # no request went out (no key, breaker): release the hold, record no call
                events: list[Event] = self._take_pending()
                if reservation_id:
                    events.append(
                        BudgetReleased(reservation_id=reservation_id, reason=f"no call made: {exc}")
                    )
                if events:
                    await self.log.append(events)
            else:
                failed = self._completed(
                    call,
                    ok=False,
                    status=failure.status,
                    error=failure.error[:500],
                    latency_ms=failure.latency_ms,
                    attempts=failure.attempts,
                )
                await self.log.append([*self._take_pending(), failed])
            return await self._stale_or_raise(call.key, call.opt_id, exc)
        except BaseException:
            # cancelled mid-call: give the hold back so it does not block the budget
            if reservation_id:
                await self.log.append(
                    [BudgetReleased(reservation_id=reservation_id, reason="cancelled")]
                )
            raise
        return await self._settle(result, call)

    async def _settle(self, result: ChatResult, call: _Call) -> CallOutcome:
        reported = result.reported_cost_ticks
        model = call.request.model
        cost = reported if reported is not None else self.prices.cost_ticks(model, result.usage)
        usage = result.usage
        done = self._completed(
            call,
            ok=True,
            status=result.status,
            prompt_tokens=usage.prompt_tokens,
            cached_tokens=usage.cached_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            latency_ms=result.latency_ms,
            cost_ticks=cost,
            cost_reported=reported is not None,
            attempts=result.attempts,
            response=result.content,
        )
        pending = self._take_pending()

        def decide(view: StoreView) -> Sequence[Event]:
            alerts: list[Event] = []
            if cost > 0:
                alerts = alerts_after(budget_state(view, self.limits, call.day, call.month), cost)
            return [*pending, done, *alerts]

        await self.log.append_if(decide)
        return CallOutcome(content=result.content, model=model, cost_ticks=cost)

    async def _stale_or_raise(self, key: str, opt_id: str, exc: ProviderError) -> CallOutcome:
        """The last answer to this request, however old, or the provider's error."""
        if isinstance(exc, BudgetError):  # pragma: no cover - budget errors are raised earlier
            raise exc
        box: list[str] = []

        def decide(view: StoreView) -> Sequence[Event]:
            text = cached_text(view.cache.get("response", key, 0))
            box[:] = [] if text is None else [text]
            if text is None:
                return []
            return [CacheHit(cache="response", key=key, opt_id=opt_id)]

        await self.log.append_if(decide)
        if not box:
            raise exc
        return CallOutcome(content=box[0], model="", cached=True, stale=True, stale_reason=str(exc))
