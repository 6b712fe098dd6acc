"""Metered calls: every call recorded, costs, budget holds and refusals, cache, degradation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from promptd.daemon.errors import BudgetError, ProviderError
from promptd.daemon.events import (
    BudgetAlert,
    BudgetRefused,
    BudgetReleased,
    BudgetReserved,
    BudgetSet,
    CacheHit,
    CircuitChanged,
    ProviderCallCompleted,
)
from promptd.daemon.providers import ChatRequest, Message
from promptd.daemon.values import usd_to_ticks

from .conftest import XAI_URL, completion, metered
from .memlog import MemLog


def req(text: str = "hello", max_tokens: int = 1000) -> ChatRequest:
    return ChatRequest(
        model="grok-4.3", messages=[Message(role="user", content=text)], max_tokens=max_tokens
    )


@respx.mock
async def test_success_records_tokens_and_computed_cost(client, log) -> None:
    respx.post(XAI_URL).respond(
        200,
        json=completion(
            "answer",
            prompt_tokens=10_000,
            cached_tokens=4_000,
            completion_tokens=1_000,
            reasoning_tokens=2_000,
        ),
    )
    out = await metered(client, log).call(req(), opt_id="o1", agent="designer")
    [ev] = log.of(ProviderCallCompleted)
    expected = usd_to_ticks((6_000 * 1.25 + 4_000 * 0.20 + 3_000 * 2.50) / 1e6)
    assert out.cost_ticks == ev.cost_ticks == expected
    assert (ev.prompt_tokens, ev.cached_tokens, ev.completion_tokens, ev.reasoning_tokens) == (
        10_000,
        4_000,
        1_000,
        2_000,
    )
    assert ev.ok and not ev.cost_reported and ev.response == "answer"
    assert ev.opt_id == "o1" and ev.agent == "designer" and ev.model == "grok-4.3"
    [hold] = log.of(BudgetReserved)
    assert ev.reservation_id == hold.reservation_id
    assert ev.day and ev.month and ev.request_key
    assert log.budget.holds == {}  # settled


@respx.mock
async def test_reported_ticks_win(client, log) -> None:
    respx.post(XAI_URL).respond(200, json=completion("a", cost_ticks=777))
    out = await metered(client, log).call(req())
    [ev] = log.of(ProviderCallCompleted)
    assert out.cost_ticks == ev.cost_ticks == 777 and ev.cost_reported


@respx.mock
async def test_failed_call_is_recorded_and_releases_the_hold(client, log) -> None:
    respx.post(XAI_URL).respond(503, text="down")
    with pytest.raises(ProviderError):
        await metered(client, log).call(req())
    [ev] = log.of(ProviderCallCompleted)
    assert not ev.ok and ev.status == 503 and ev.attempts == 3 and ev.cost_ticks == 0
    assert log.budget.holds == {}


@respx.mock
async def test_identical_request_is_a_cache_hit_that_costs_nothing(client, log) -> None:
    route = respx.post(XAI_URL).respond(200, json=completion("once", cost_ticks=5000))
    m = metered(client, log)
    first = await m.call(req(), opt_id="o1")
    second = await m.call(req(), opt_id="o2")
    await m.flush()  # the hit is recorded in the background
    assert route.call_count == 1
    assert second.content == "once" and second.cached and second.cost_ticks == 0
    [hit] = log.of(CacheHit)
    assert hit.cache == "response" and hit.saved_ticks == 5000 and hit.source_opt_id == "o1"
    assert first.cost_ticks == 5000
    await m.call(req(), no_cache=True)
    assert route.call_count == 2


@respx.mock
async def test_budget_refusal_is_clear_and_recorded(client, log) -> None:
    route = respx.post(XAI_URL).respond(200, json=completion("x"))
    await log.append([BudgetSet(daily_ticks=usd_to_ticks(0.001))])
    with pytest.raises(
        BudgetError, match=r"daily budget of \$0.0010 .*`promptd budget --daily USD`"
    ):
        await metered(client, log).call(req(max_tokens=4096))
    [refused] = log.of(BudgetRefused)
    assert refused.period == "day" and refused.needed_ticks > refused.remaining_ticks
    assert route.call_count == 0


@respx.mock
async def test_config_budget_applies_until_one_is_set(client, log) -> None:
    respx.post(XAI_URL).respond(200, json=completion("x"))
    with pytest.raises(BudgetError, match="monthly"):
        await metered(client, log, "[budget]\nmonthly_usd = 0.0001").call(req())
    await log.append([BudgetSet(monthly_ticks=None)])
    await metered(client, log, "[budget]\nmonthly_usd = 0.0001").call(req())


async def test_fifty_concurrent_calls_never_overshoot(log) -> None:
    """Each call may cost up to ~$0.0025 (1000 output tokens); the budget fits 10 of them."""
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        # the worst case: every output token used
        return httpx.Response(200, json=completion("x", prompt_tokens=4, completion_tokens=1000))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        m = metered(client, log, "max_concurrency = 50")
        budget = 10 * m.worst_case(req())
        await log.append([BudgetSet(daily_ticks=budget)])
        results = await asyncio.gather(
            *(m.call(req(f"p{i}")) for i in range(50)), return_exceptions=True
        )
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BudgetError)]
    assert len(ok) + len(refused) == 50
    assert 1 <= len(ok) <= 10 and peak > 1
    assert log.budget.spent(day=log.of(ProviderCallCompleted)[0].day) <= budget
    assert sum(e.cost_ticks for e in log.of(ProviderCallCompleted)) <= budget
    assert log.budget.holds == {}


@respx.mock
async def test_one_alert_per_period(client, log) -> None:
    respx.post(XAI_URL).respond(200, json=completion("x", cost_ticks=usd_to_ticks(0.3)))
    await log.append([BudgetSet(daily_ticks=usd_to_ticks(100), monthly_ticks=usd_to_ticks(1))])
    m = metered(client, log, "max_output_tokens = 100")
    for i in range(3):
        await m.call(req(f"p{i}", max_tokens=10))
    [alert] = log.of(BudgetAlert)
    assert alert.period == "month" and alert.spent_ticks == usd_to_ticks(0.9)


@respx.mock
async def test_provider_down_answers_from_an_expired_cache_entry(client) -> None:
    clock = [1_000_000_000_000]
    log = MemLog(now_ns=lambda: clock[0], ttl_s=60)
    route = respx.post(XAI_URL).respond(200, json=completion("remembered"))
    m = metered(client, log, "retries = 1\nbreaker_failures = 1")
    m._now_ns = lambda: clock[0]
    await m.call(req())
    clock[0] += 3600 * 1_000_000_000  # long expired
    route.respond(503)
    out = await m.call(req())
    assert out.content == "remembered" and out.stale and "HTTP 503" in out.stale_reason
    assert [e.new for e in log.of(CircuitChanged)] == ["open"]
    # while open, no budget is held and nothing is sent
    calls = route.call_count
    again = await m.call(req())
    assert again.stale and route.call_count == calls
    with pytest.raises(ProviderError, match="not calling it"):
        await m.call(req("never asked before"))
    assert log.of(BudgetReleased) == [] and log.budget.holds == {}


@respx.mock
async def test_the_key_is_never_recorded(client, log) -> None:
    from promptd.daemon.errors import AuthError
    from promptd.daemon.events import encode_event

    key = "xai-SECRET-0123456789abcdef"
    respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(500, json={"error": f"upstream saw Bearer {key}"}),
            httpx.Response(500, json={"error": f"upstream saw {key[:8]}"}),
            httpx.Response(500, json={"error": "x"}),
            httpx.Response(401, json={"error": f"Incorrect API key provided: {key}"}),
        ]
    )
    m = metered(client, log, key=key)
    with pytest.raises(ProviderError) as first:
        await m.call(req("a"))
    with pytest.raises(AuthError) as second:
        await m.call(req("b"))
    recorded = b"".join(encode_event(e) for e in log.events)
    for text in (
        recorded,
        str(first.value).encode(),
        str(second.value).encode(),
        repr(m.provider).encode(),
    ):
        assert key.encode() not in text and key[:8].encode() not in text
    assert len(log.of(ProviderCallCompleted)) == 2


@respx.mock
async def test_a_run_holds_its_worst_case_and_gives_back_the_rest(client, log) -> None:
    from promptd.daemon.providers.budget_rules import RunHold

    respx.post(XAI_URL).respond(200, json=completion("x", cost_ticks=10))
    m = metered(client, log)
    one = m.worst_case(req("a"))
    await log.append([BudgetSet(daily_ticks=5 * one)])
    big = RunHold(total=6 * one, opt_id="too-big")
    with pytest.raises(BudgetError):
        await m.call(req("a"), hold=big)  # the whole run does not fit: refused up front
    assert log.budget.holds == {} and log.of(ProviderCallCompleted) == []

    hold = RunHold(total=3 * one, opt_id="run")
    await m.call(req("a"), hold=hold)
    assert hold.taken and hold.remaining == 2 * one
    assert log.budget.holds == {hold.id: (2 * one, *log.budget.holds[hold.id][1:])}
    await m.call(req("b"), hold=hold)
    assert hold.remaining == one
    await m.call(req("c"), hold=hold)
    await m.call(req("d"), hold=hold)  # beyond the hold: fresh budget, which fits
    assert hold.remaining == 0 and hold.id not in log.budget.holds
    await m.release(hold, "done")
    assert log.budget.holds == {} and log.budget.spent(day=log.of(BudgetReserved)[0].day) == 40


@respx.mock
async def test_finishing_a_run_releases_its_hold(client, log) -> None:
    from promptd.daemon.providers.budget_rules import RunHold

    respx.post(XAI_URL).respond(200, json=completion("x", cost_ticks=10))
    m = metered(client, log)
    hold = RunHold(total=10 * m.worst_case(req("a")), opt_id="run")
    await m.call(req("a"), hold=hold)
    assert hold.id in log.budget.holds
    await m.release(hold, "optimization finished")
    await m.release(hold, "again")  # idempotent
    assert log.budget.holds == {}
    assert [e.reason for e in log.of(BudgetReleased)] == ["optimization finished"]
