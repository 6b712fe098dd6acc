"""The LLM agents: schemas asked for, answers validated, invalid answers retried, fallbacks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from promptd.daemon.engine.types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from promptd.daemon.errors import InvalidAnswerError
from promptd.daemon.events import ProviderCallCompleted
from promptd.daemon.providers import LLMEngine
from promptd.daemon.providers.schema import answer_schema

from .conftest import XAI_URL, completion, xai_config
from .fakes import answer
from .memlog import MemLog

CTX = AgentContext(opt_id="o1", prompt="write some stuff about dogs", prompt_type="general")


def engine(client: httpx.AsyncClient, log: MemLog, extra: str = "") -> LLMEngine:
    return LLMEngine(xai_config(extra), log, client, environ={"XAI_API_KEY": "k"})


def bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.read()) for call in route.calls]


def test_schema_is_inlined_and_restricted() -> None:
    schema = answer_schema(Evaluation)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text and '"default"' not in text
    assert schema["additionalProperties"] is False
    assert schema["properties"]["before"]["required"] == [
        "clarity",
        "specificity",
        "structure",
        "completeness",
        "total",
    ]
    sev = answer_schema(Diagnosis)["properties"]["findings"]["items"]["properties"]["severity"]
    assert sev["type"] == "string" and "warning" in sev["enum"]


@respx.mock
async def test_four_agents_ask_for_their_schema_and_decode(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    eng = engine(client, log)
    agents = eng.agents_for("o1", CTX.prompt)
    d = await agents.deconstruct(CTX)
    g = await agents.diagnose(CTX)
    design = await agents.design(CTX, d, g)
    ev = await agents.evaluate(CTX, d, design)
    assert isinstance(d, Deconstruction) and d.tasks == ["write about dogs"]
    assert g.findings[0].code == "PD003" and g.findings[0].needs_input
    assert isinstance(design, Design) and design.changes[0].findings == ["PD003"]
    assert ev.accepted and ev.after.total == 63
    sent = bodies(route)
    assert [b["response_format"]["type"] for b in sent] == ["json_schema"] * 4
    assert sent[0]["response_format"]["json_schema"]["schema"] == answer_schema(Deconstruction)
    assert "<prompt>\nwrite some stuff about dogs\n</prompt>" in sent[0]["messages"][1]["content"]
    assert "PD001" in sent[1]["messages"][1]["content"]  # the lint rule codes are offered
    assert agents.cost_ticks == 4000 and agents.calls == 4
    assert [e.agent for e in log.of(ProviderCallCompleted)] == [
        "deconstructor",
        "diagnoser",
        "designer",
        "evaluator",
    ]
    await eng.aclose()


@respx.mock
async def test_invalid_answer_is_retried_once_with_the_error(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(200, json=completion('{"changes": []}')),  # no "prompt"
            httpx.Response(200, json=completion('```json\n{"prompt": "better"}\n```')),
        ]
    )
    agents = engine(client, log).agents_for("o1", CTX.prompt)
    design = await agents.design(CTX, Deconstruction(), Diagnosis())
    assert design.prompt == "better"
    retry = bodies(route)[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"changes": []}'}
    assert "did not validate" in retry[-1]["content"] and "prompt" in retry[-1]["content"]


@respx.mock
async def test_twice_invalid_is_an_invalid_answer_error(client, log) -> None:
    respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(200, json=completion("not json at all")),
            httpx.Response(200, json=completion('{"before": 1}')),
        ]
    )
    agents = engine(client, log).agents_for("o1", CTX.prompt)
    with pytest.raises(InvalidAnswerError, match=r"evaluator's answer .* did not validate twice"):
        await agents.evaluate(CTX, Deconstruction(), Design(prompt="x"))
    assert len(log.of(ProviderCallCompleted)) == 2


@respx.mock
async def test_400_on_json_schema_falls_back_to_json_object(client, log) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if body["response_format"]["type"] == "json_schema":
            return httpx.Response(400, json={"error": "response_format json_schema unsupported"})
        return httpx.Response(200, json=answer(body))

    route = respx.post(XAI_URL).mock(side_effect=handler)
    eng = engine(client, log)
    agents = eng.agents_for("o1", CTX.prompt)
    await agents.deconstruct(CTX)
    await agents.diagnose(CTX)
    kinds = [b["response_format"]["type"] for b in bodies(route)]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered per engine
    assert "<schema>" in bodies(route)[1]["messages"][0]["content"]


@respx.mock
async def test_json_schema_false_in_config(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    agents = engine(client, log, "json_schema = false").agents_for("o1", CTX.prompt)
    await agents.deconstruct(CTX)
    assert bodies(route)[0]["response_format"] == {"type": "json_object"}


def test_router_choice_and_estimate(client, log) -> None:
    eng = engine(client, log, 'fast_model = "grok-4.20-0309-non-reasoning"')
    simple = eng.agents_for("o1", "fix this")
    assert simple.model == "grok-4.20-0309-non-reasoning" and "simple" in simple.model_reason
    explicit = eng.agents_for("o1", "fix this", model="grok-4.3")
    assert explicit.model == "grok-4.3" and explicit.model_reason == "asked for explicitly"
    est = eng.estimate("write some stuff about dogs")
    assert est.engine == "llm" and est.calls == 3
    assert 0 < est.estimated_usd < est.worst_case_usd < 0.05
    assert log.events == []  # an estimate makes no call and records nothing


@respx.mock
async def test_a_cached_invalid_answer_is_asked_again_fresh(client, log) -> None:
    good = answer({"model": "grok-4.3", "messages": [{"content": "You are the Designer"}]})
    route = respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(200, json=completion("nope")),
            httpx.Response(200, json=completion("still nope")),
            httpx.Response(200, json=good),
        ]
    )
    eng = engine(client, log)
    with pytest.raises(InvalidAnswerError):
        await eng.agents_for("o1", CTX.prompt).design(CTX, Deconstruction(), Diagnosis())
    await eng.meter.flush()
    again = eng.agents_for("o2", CTX.prompt)
    design = await again.design(CTX, Deconstruction(), Diagnosis())
    assert design.prompt.startswith("Write a short article")
    assert route.call_count == 3 and again.cached_calls == 1


@respx.mock
async def test_an_abandoned_run_gives_its_hold_back(client, log) -> None:
    from promptd.daemon.providers.llm_engine import HOLD_TTL_S

    respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    now = [100.0]
    eng = LLMEngine(xai_config(), log, client, environ={"XAI_API_KEY": "k"}, clock=lambda: now[0])
    abandoned = eng.agents_for("o1", CTX.prompt, hold=True)
    await abandoned.deconstruct(CTX)  # takes the run's hold, then the pipeline goes away
    assert abandoned.hold is not None and abandoned.hold.id in log.budget.holds
    now[0] += HOLD_TTL_S + 1
    finished = eng.agents_for("o2", CTX.prompt, hold=True)
    await eng.meter.flush()
    assert abandoned.hold.id not in log.budget.holds
    d = await finished.deconstruct(CTX)
    g = await finished.diagnose(CTX)
    design = await finished.design(CTX, d, g)
    await finished.evaluate(CTX, d, design)  # accepted: the run is over
    assert log.budget.holds == {}
