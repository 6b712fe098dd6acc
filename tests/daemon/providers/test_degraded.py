"""Graceful degradation through the engine's pipeline: provider down -> cache, else offline."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import respx

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, RunMeta, run_pipeline
from promptd.daemon.events import Event, OptimizationCompleted, ProviderCallCompleted
from promptd.daemon.providers import LLMEngine

from .conftest import XAI_URL, completion, xai_config
from .fakes import answer
from .memlog import MemLog

PROMPT = "write some stuff about dogs"


async def run(engine: LLMEngine, log: MemLog, opt_id: str) -> OptimizationCompleted:
    async def emit(events: Sequence[Event]) -> object:
        return await log.append(events)

    choice = engine.choose(PROMPT)
    meta = RunMeta(model=choice.model, model_reason=choice.reason)
    agents = engine.agents_for(opt_id, PROMPT, choice=choice, meta=meta)
    outcome = await run_pipeline(
        OptimizationRequest(text=PROMPT, opt_id=opt_id),
        agents,
        emit=emit,
        fallback=OfflineAgents(EngineConfig()),
        meta=meta,
    )
    return outcome.completed


@respx.mock
async def test_provider_down_answers_offline_marked_degraded(client, log) -> None:
    respx.post(XAI_URL).respond(503, json={"error": "overloaded"})
    engine = LLMEngine(
        xai_config("retries = 2"), log, client, environ={"XAI_API_KEY": "k"}, sleep=_no_sleep
    )
    done = await run(engine, log, "o1")
    assert done.degraded and "HTTP 503" in done.degraded_reason
    assert "offline engine" in done.degraded_reason
    assert done.optimized and done.cost_ticks == 0
    failed = log.of(ProviderCallCompleted)
    assert failed and not failed[0].ok and failed[0].attempts == 2


@respx.mock
async def test_a_run_that_paid_then_fell_back_carries_what_it_paid(client, log) -> None:
    """Issue 15: runs that paid for calls and then answered offline reported cost 0."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if body["messages"][0]["content"].startswith("You are the Designer"):
            return httpx.Response(503, json={"error": "overloaded"})
        return httpx.Response(200, json=answer(body))

    respx.post(XAI_URL).mock(side_effect=handler)
    engine = LLMEngine(
        xai_config("retries = 1"), log, client, environ={"XAI_API_KEY": "k"}, sleep=_no_sleep
    )
    long_prompt = "Write a report on the data below, then list the risks.\n" * 20
    choice = engine.choose(long_prompt)
    meta = RunMeta(model=choice.model, model_reason=choice.reason)

    async def emit(events: Sequence[Event]) -> object:
        return await log.append(events)

    done = (
        await run_pipeline(
            OptimizationRequest(text=long_prompt, opt_id="o1"),
            engine.agents_for("o1", long_prompt, choice=choice, meta=meta, hold=True),
            emit=emit,
            fallback=OfflineAgents(EngineConfig()),
            meta=meta,
        )
    ).completed
    calls = log.of(ProviderCallCompleted)
    assert [c.agent for c in calls] == ["deconstructor+diagnoser", "designer"]
    assert done.degraded and done.engine == "offline" and "HTTP 503" in done.degraded_reason
    assert done.cost_ticks == sum(c.cost_ticks for c in calls) == 1000  # the analysis, paid
    assert log.budget.holds == {}  # the run's hold was given back


@respx.mock
async def test_llm_run_costs_and_model_reason(client, log) -> None:
    respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    engine = LLMEngine(xai_config(), log, client, environ={"XAI_API_KEY": "k"})
    done = await run(engine, log, "o1")
    calls = log.of(ProviderCallCompleted)
    assert not done.degraded and done.engine == "llm"
    assert done.cost_ticks == sum(c.cost_ticks for c in calls) > 0
    assert done.model == "grok-4.20-0309-non-reasoning" and "simple" in done.model_reason


@respx.mock
async def test_provider_down_reuses_the_last_answers(client) -> None:
    now = [10**18]
    log = MemLog(now_ns=lambda: now[0], ttl_s=60)
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    engine = LLMEngine(
        xai_config("retries = 1"), log, client, environ={"XAI_API_KEY": "k"}, now_ns=lambda: now[0]
    )
    first = await run(engine, log, "o1")
    now[0] += 7200 * 10**9  # every response-cache entry has expired
    route.mock(side_effect=None).respond(503)
    second = await run(engine, log, "o2")
    assert second.optimized == first.optimized
    assert second.degraded and "earlier cached response" in second.degraded_reason


async def _no_sleep(_: float) -> None:
    return None


@respx.mock
async def test_the_guards_reject_an_llm_rewrite_that_drops_a_placeholder(client, log) -> None:
    """Small models drop placeholders: the same guards as offline reject that, with why."""
    prompt = "write some stuff about dogs for {audience}!!!"
    dropped = {"prompt": "Write an engaging piece about dogs.", "changes": []}
    route = respx.post(XAI_URL).mock(
        return_value=httpx.Response(200, json=completion(dropped, cost_ticks=7))
    )
    engine = LLMEngine(xai_config(), log, client, environ={"XAI_API_KEY": "k"})
    choice = engine.choose(prompt)
    meta = RunMeta(model=choice.model, model_reason=choice.reason)

    async def emit(events: Sequence[Event]) -> object:
        return await log.append(events)

    done = (
        await run_pipeline(
            OptimizationRequest(text=prompt, opt_id="o1"),
            engine.agents_for("o1", prompt, choice=choice, meta=meta, hold=True),
            emit=emit,
            fallback=OfflineAgents(EngineConfig()),
            meta=meta,
        )
    ).completed
    assert done.engine == "llm" and not done.degraded and not done.changed
    assert done.optimized == prompt
    assert "guard" in done.unchanged_reason and "{audience}" in done.unchanged_reason
    assert route.call_count == 2  # the Designer's second try got the guard's feedback
    assert "{audience}" in json.loads(route.calls[1].request.read())["messages"][1]["content"]
    assert done.cost_ticks == 14  # both tries are paid for and carried
