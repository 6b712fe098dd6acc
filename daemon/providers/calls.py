"""The metered call: response cache, budget hold, provider, and the record of what it cost.

One :meth:`Meter.call` is one chat completion as the ledger sees it:

1. In one write transaction (``append_if``): a live response-cache entry for the identical
   request answers it (``CacheHit``, costs nothing); otherwise ``CacheMiss``, the call's
   worst-case cost (estimated input + its ``max_tokens``) reserved against the budget
   (``BudgetReserved``, a ``BudgetAlert`` when spend + holds cross the threshold) and
   ``ProviderCallStarted``, all durable before the request leaves; or ``BudgetRefused`` ->
   :class:`~promptd.daemon.errors.BudgetError`. A call that would fit once the holds of calls
   in flight settle waits for them (up to :data:`SETTLE_WAIT_S`) instead of being refused.
2. The provider call (circuit breaker, retries).
3. In one write transaction: ``ProviderCallCompleted`` (ok or not, tokens by kind, cost, the
   reservation it settles, the response for the cache), any ``CircuitChanged``, and a
   ``BudgetAlert`` when the spend crosses the alert threshold.

A crash between 1 and 3 leaves a started call with its reservation open:
:func:`~promptd.daemon.providers.budget_rules.recover_calls` books it at daemon start.

When the provider fails, the last answer to the identical request is used if the log still
has one (even past its TTL), marked stale so the engine can say the answer is degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    BudgetAlert,
    BudgetRefused,
    BudgetReleased,
    CacheHit,
    CacheMiss,
    CircuitChanged,
    Event,
    ProviderCallCompleted,
    ProviderCallStarted,
)
from .base import ChatRequest, ChatResult, ToolCall
from .breaker import OPEN
from .budget_rules import (
    RunHold,
    alert_text,
    alerts_after,
    alerts_on_reserve,
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
SETTLE_WAIT_S = 60.0  # how long a call may wait for holds in flight to settle
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
    if request.tools:
        total += estimate_tokens(_key_encoder.encode(request.tools).decode())
    for m in request.messages:
        if m.tool_calls:
            total += sum(estimate_tokens(c.name + c.arguments) for c in m.tool_calls)
    return total


def request_key(provider: str, base_url: str, request: ChatRequest) -> str:
    """The response-cache key: sha256 of the canonical request (never includes the key).
    A request without tools hashes as it did before tools existed."""
    body: Any = request
    if request.tools is None and request.tool_choice is None:
        body = {k: v for k, v in msgspec.structs.asdict(request).items() if k not in _TOOL_FIELDS}
    canonical = _key_encoder.encode({"provider": provider, "base_url": base_url, "request": body})
    return hashlib.sha256(canonical).hexdigest()


_TOOL_FIELDS = frozenset({"tools", "tool_choice"})


class CallOutcome(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    model: str
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list)  # the model asked
    call_id: str = ""  # the ProviderCallCompleted of this call ("" when from cache)
    cost_ticks: int = 0
    cached: bool = False
    finish_reason: str = ""  # "length": the answer was cut off at max_tokens
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


def _waitable(refused: BudgetRefused, own_hold: int = 0) -> bool:
    """Whether the call would fit once the holds of *other* calls in flight settle.

    ``own_hold``: what the caller's run still holds; it is not given back while the run
    waits, so waiting for it would only run out the clock.
    """
    short = refused.needed_ticks - refused.remaining_ticks
    return 0 < short <= refused.reserved_ticks - own_hold


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
    ticks: int = 0  # its reservation: the most it can cost
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
        self._settled = 0  # counts settles and releases, for calls waiting on them
        self.in_flight = 0  # calls sent and not yet answered
        self._settle_cond = asyncio.Condition()

    def circuit_changed(self, event: CircuitChanged) -> None:
        """The provider's breaker reports here; the event goes out with the next append."""
        _log.warning(
            "circuit of %s: %s -> %s%s",
            event.provider,
            event.old,
            event.new,
            f" ({event.reason})" if event.reason else "",
        )
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
            await self._notify_settled()

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
        wait: bool = True,
    ) -> CallOutcome:
        """One metered call; with ``hold``, its budget comes from the run's hold first.

        ``wait=False`` is for optional calls (the pairwise judge): when the budget is taken
        by holds in flight, it is refused at once instead of waiting for them to settle, so
        a run never waits on other runs for a call it can do without."""
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
        call = _Call(
            request=request,
            key=key,
            opt_id=opt_id,
            agent=agent,
            reservation_id=uuid.uuid4().hex,
            day=day,
            month=month,
            ticks=ticks,
        )
        deadline = time.monotonic() + (SETTLE_WAIT_S if wait else 0.0)
        while True:
            seen = self._settled
            may_wait = time.monotonic() < deadline
            outcome, appended = await self._reserve(call, ticks, now_ns, no_cache, hold, may_wait)
            if outcome is not None:
                return outcome
            refused = next((ev for ev in appended if isinstance(ev, BudgetRefused)), None)
            if refused is not None:
                raise refusal_error(refused)
            if appended:
                break
            await self._wait_settled(seen, deadline)  # nothing appended: wait for settles
        if hold is not None:
            hold.apply(appended)
            hold.taken = True
        return await self._call_provider(call)

    async def _reserve(
        self,
        call: _Call,
        ticks: int,
        now_ns: int,
        no_cache: bool,
        hold: RunHold | None,
        may_wait: bool,
    ) -> tuple[CallOutcome | None, list[Event]]:
        """One transaction: a cache hit, or the reservation and start, or the refusal.

        With ``may_wait``, a call that would fit once the holds of calls in flight settle
        records nothing (an empty list back): the caller waits for them and asks again.
        """
        hit_box: list[CallOutcome] = []
        appended: list[Event] = []
        request = call.request

        def decide(view: StoreView) -> Sequence[Event]:
            hit_box.clear()
            appended.clear()
            if not no_cache:
                entry = view.cache.get("response", call.key, now_ns)
                text = cached_text(entry)
                if text is not None:
                    hit_box.append(CallOutcome(content=text, model=request.model, cached=True))
                    return [_cache_hit(entry, call.key, call.opt_id)]
            events: list[Event] = (
                [] if no_cache else [CacheMiss(cache="response", key=call.key, opt_id=call.opt_id)]
            )
            state = budget_state(view, self.limits, call.day, call.month)
            held = None
            if hold is not None:
                current = view.budget.reservation(hold.id)
                held = None if current is None else current.ticks
                decided = decide_with_hold(
                    state, hold, held, reservation_id=call.reservation_id, ticks=ticks
                )
            else:
                decided = decide_reserve(
                    state, reservation_id=call.reservation_id, ticks=ticks, opt_id=call.opt_id
                )
            refused = next((ev for ev in decided if isinstance(ev, BudgetRefused)), None)
            if may_wait and refused is not None and _waitable(refused, held or 0):
                return []
            events += decided
            events += alerts_on_reserve(state, decided, held or 0)
            if not any(isinstance(ev, BudgetRefused) for ev in decided):
                events.append(self._started(call, ticks))
            appended[:] = events
            return events

        await self.log.append_if(decide)
        for ev in appended:
            if isinstance(ev, BudgetAlert):
                _log.warning(alert_text(ev))
        return (hit_box[0] if hit_box else None), list(appended)

    def _started(self, call: _Call, ticks: int) -> ProviderCallStarted:
        return ProviderCallStarted(
            call_id=call.call_id,
            provider=self.provider.name,
            model=call.request.model,
            opt_id=call.opt_id,
            agent=call.agent,
            reservation_id=call.reservation_id,
            reserved_ticks=ticks,
            max_tokens=call.request.max_tokens,
            day=call.day,
            month=call.month,
        )

    async def _wait_settled(self, seen: int, deadline: float) -> None:
        """Wait until a call of this meter settles or releases its hold (or the deadline)."""
        async with self._settle_cond:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self._settle_cond.wait_for(lambda: self._settled != seen)

    async def _notify_settled(self) -> None:
        self._settled += 1
        async with self._settle_cond:
            self._settle_cond.notify_all()

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
        self.in_flight += 1
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
                await self._notify_settled()
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
                await self._notify_settled()
            return await self._stale_or_raise(call.key, call.opt_id, exc)
        except BaseException:
            # Cut off mid-call (cancelled): the request may have left and been billed, so the
            # call is booked at its reservation, as a crash would be at the next start.
            cut = self._completed(
                call,
                ok=False,
                status=0,
                error="cut off before the answer came (booked at its reservation)",
                cost_ticks=call.ticks,
                recovered=True,
            )
            await asyncio.shield(self.log.append([cut]))
            await self._notify_settled()
            raise
        finally:
            self.in_flight -= 1
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
        if result.tool_calls:  # an answer that asks for a tool is not a reusable response
            done = msgspec.structs.replace(done, request_key="", response="")
        pending = self._take_pending()

        alerts_box: list[BudgetAlert] = []

        def decide(view: StoreView) -> Sequence[Event]:
            alerts: list[Event] = []
            if cost > 0:
                alerts = alerts_after(budget_state(view, self.limits, call.day, call.month), cost)
            alerts_box[:] = [ev for ev in alerts if isinstance(ev, BudgetAlert)]
            return [*pending, done, *alerts]

        await self.log.append_if(decide)
        for ev in alerts_box:
            _log.warning(alert_text(ev))
        await self._notify_settled()
        return CallOutcome(
            content=result.content,
            model=model,
            cost_ticks=cost,
            finish_reason=result.finish_reason,
            tool_calls=list(result.tool_calls),
            call_id=call.call_id,
        )

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
