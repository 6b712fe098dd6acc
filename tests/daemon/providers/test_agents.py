"""The LLM agents: schemas asked for, answers validated, invalid answers retried, fallbacks."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import msgspec
import pytest
import respx

from promptd.daemon.engine.types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from promptd.daemon.errors import InvalidAnswerError
from promptd.daemon.events import ProviderCallCompleted
from promptd.daemon.providers import LLMEngine
from promptd.daemon.providers import agents as agents_module
from promptd.daemon.providers.agents import combine_verdicts
from promptd.daemon.providers.answers import AnalysisAnswer, DesignAnswer, JudgeAnswer
from promptd.daemon.providers.schema import answer_schema
from promptd.daemon.values import Scores

from .conftest import XAI_URL, completion, xai_config
from .fakes import answer, tagged
from .memlog import MemLog

CTX = AgentContext(opt_id="o1", prompt="write some stuff about dogs", prompt_type="general")
SCORES_40 = Scores(clarity=40, specificity=40, structure=40, completeness=40, total=40)
SCORES_45 = Scores(clarity=45, specificity=45, structure=45, completeness=45, total=45)


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
async def test_four_agents_in_two_calls_when_the_rubric_decides(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    eng = engine(client, log)
    agents = eng.agents_for("o1", CTX.prompt)
    d, g = await asyncio.gather(agents.deconstruct(CTX), agents.diagnose(CTX))
    design = await agents.design(CTX, d, g)
    ev = await agents.evaluate(CTX, d, design)
    assert isinstance(d, Deconstruction) and d.tasks == ["write some stuff about dogs"]
    finding = g.findings[0]
    assert finding.code == "PD003" and finding.needs_input and finding.rule
    assert finding.span is not None and CTX.prompt[finding.span.start : finding.span.end] == "stuff"
    assert isinstance(design, Design) and design.changes[0].findings == ["PD003"]
    # the rubric's own 0-100 scores; it decided, so no judge was asked
    assert ev.accepted and ev.after.total > ev.before.total + 7
    assert any("decided by the rubric" in r for r in ev.reasons)
    sent = bodies(route)
    assert len(sent) == 2  # Deconstructor + Diagnoser in one call, then the Designer
    assert [b["response_format"]["type"] for b in sent] == ["json_schema"] * 2
    assert sent[0]["response_format"]["json_schema"]["schema"] == answer_schema(AnalysisAnswer)
    assert "<prompt>\nwrite some stuff about dogs\n</prompt>" in sent[0]["messages"][1]["content"]
    assert "PD001" in sent[0]["messages"][1]["content"]  # the lint rule codes are offered
    # each call asks for what its answer needs, not the configured 4096
    assert all(b["max_tokens"] < 1200 for b in sent)
    assert agents.cost_ticks == 2000 and agents.calls == 2
    assert [e.agent for e in log.of(ProviderCallCompleted)] == [
        "deconstructor+diagnoser",
        "designer",
    ]
    await eng.aclose()


@respx.mock
async def test_the_judge_runs_both_orders_when_the_rubric_cannot_decide(
    client, log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agents_module, "DECISIVE_GAIN", 101)  # nothing is decisive
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    agents = engine(client, log).agents_for("o1", CTX.prompt)
    rewrite = Design(prompt="Write a short article about dogs for a general audience.")
    ev = await agents.evaluate(CTX, Deconstruction(), rewrite)
    sent = bodies(route)
    assert len(sent) == 2
    pairs = [(tagged(b, "prompt_a"), tagged(b, "prompt_b")) for b in sent]
    assert sorted(pairs) == sorted([(CTX.prompt, rewrite.prompt), (rewrite.prompt, CTX.prompt)])
    # the fake judge prefers the longer prompt in both orders: two votes for the rewrite
    assert ev.accepted and any("2 vote(s) for the rewrite, 0 for" in r for r in ev.reasons)
    assert 0 <= ev.before.total < ev.after.total <= 100


def _judge(better: str, a: int = 60, b: int = 70) -> JudgeAnswer:
    return JudgeAnswer(
        better=better,
        score_a=a,
        score_b=b,
        reasons=["r"],
        lost_or_invented=[],  # type: ignore[arg-type]
    )


def test_position_bias_cancels_and_the_rubric_breaks_the_tie() -> None:
    rubric = Evaluation(before=SCORES_40, after=SCORES_45, accepted=True)
    # "A" both times: the original when it is first, the rewrite when it is first
    biased = combine_verdicts(rubric, _judge("A"), _judge("A"))
    assert biased.accepted and any("1 vote(s) for the rewrite, 1 for" in r for r in biased.reasons)
    against = combine_verdicts(rubric, _judge("A"), _judge("B"))
    assert not against.accepted and "preferred the original" in against.feedback
    assert against.after == SCORES_45  # one scale: the rubric's scores stay


def test_judge_scores_outside_0_100_do_not_validate() -> None:
    bad = b'{"better":"A","score_a":5,"score_b":400,"reasons":["x"],"lost_or_invented":[]}'
    with pytest.raises(msgspec.ValidationError, match="<= 100"):
        msgspec.json.decode(bad, type=JudgeAnswer)


def test_an_empty_answer_is_not_no_findings() -> None:
    with pytest.raises(msgspec.ValidationError, match="missing required field"):
        msgspec.json.decode(b"{}", type=AnalysisAnswer)


def test_invented_findings_are_dropped() -> None:
    from promptd.daemon.providers.answers import FindingAnswer, findings_in

    answers = [
        FindingAnswer(
            code="PD003", severity="warning", message="m", quote="stuff", needs_input=True
        ),
        FindingAnswer(code="PD009", severity="info", message="m", quote="", needs_input=False),
        FindingAnswer(code="PD004", severity="error", message="m", quote="cats", needs_input=False),
    ]
    diagnosis, dropped = findings_in(CTX.prompt, answers, {})
    assert [f.code for f in diagnosis.findings] == ["PD003", "PD009"] and dropped == 1


@respx.mock
async def test_invalid_answer_is_retried_once_with_the_error(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(200, json=completion('{"changes": []}')),  # no "prompt"
            httpx.Response(
                200, json=completion('```json\n{"prompt": "better", "changes": []}\n```')
            ),
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
            httpx.Response(200, json=completion('{"prompt": ""}')),
        ]
    )
    agents = engine(client, log).agents_for("o1", CTX.prompt)
    with pytest.raises(InvalidAnswerError, match=r"designer's answer .* did not validate twice"):
        await agents.design(CTX, Deconstruction(), Diagnosis())
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
    d = await agents.deconstruct(CTX)
    await agents.design(CTX, d, await agents.diagnose(CTX))
    sent = bodies(route)
    kinds = [b["response_format"]["type"] for b in sent]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered per model
    assert "<schema>" in sent[1]["messages"][0]["content"]
    # json_object carries the schema: llama.cpp and vLLM constrain the output to it
    assert sent[1]["response_format"]["schema"] == answer_schema(AnalysisAnswer)
    assert sent[2]["response_format"]["schema"] == answer_schema(DesignAnswer)
    assert eng.mode.modes() == {agents.model: "json_object"}


@respx.mock
async def test_a_500_naming_response_format_is_a_refusal_not_an_outage(client, log) -> None:
    """llama.cpp's server: HTTP 500 "Input should be 'text' or 'json_object'"; no retries."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if body["response_format"]["type"] == "json_schema":
            msg = "1 validation error: response_format.type Input should be 'text' or 'json_object'"
            return httpx.Response(500, json={"error": {"message": msg}})
        return httpx.Response(200, json=answer(body))

    route = respx.post(XAI_URL).mock(side_effect=handler)
    eng = engine(client, log)
    await eng.agents_for("o1", CTX.prompt).deconstruct(CTX)
    assert [b["response_format"]["type"] for b in bodies(route)] == ["json_schema", "json_object"]
    assert eng.circuit == "closed"


@respx.mock
async def test_a_truncated_answer_is_asked_again_with_a_larger_cap(client, log) -> None:
    cut = completion('{"prompt": "Write a sho', finish_reason="length")
    whole = completion('{"prompt": "Write a short piece about dogs.", "changes": []}')
    route = respx.post(XAI_URL).mock(
        side_effect=[httpx.Response(200, json=cut), httpx.Response(200, json=whole)]
    )
    agents = engine(client, log).agents_for("o1", CTX.prompt)
    design = await agents.design(CTX, Deconstruction(), Diagnosis())
    assert design.prompt == "Write a short piece about dogs."
    first, second = (b["max_tokens"] for b in bodies(route))
    assert second == 2 * first


@respx.mock
async def test_a_truncated_answer_with_no_room_left_says_so(client, log) -> None:
    cut = completion('{"prompt": "Write a sho', finish_reason="length")
    route = respx.post(XAI_URL).mock(return_value=httpx.Response(200, json=cut))
    # a 4k-context local model: the cap cannot grow past what the context leaves
    agents = engine(client, log, "context_tokens = 4096").agents_for("o1", CTX.prompt)
    with pytest.raises(InvalidAnswerError, match=r"was cut off at \d+ tokens"):
        await agents.design(CTX, Deconstruction(), Diagnosis())
    caps = [b["max_tokens"] for b in bodies(route)]
    assert caps == sorted(set(caps)) and len(caps) <= 4  # never the same cap twice
    assert all(b["max_tokens"] + 1500 < 4096 for b in bodies(route)[:1])


@respx.mock
async def test_json_schema_false_in_config(client, log) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=lambda req: httpx.Response(200, json=answer(json.loads(req.read())))
    )
    agents = engine(client, log, "json_schema = false").agents_for("o1", CTX.prompt)
    await agents.deconstruct(CTX)
    fmt = bodies(route)[0]["response_format"]
    assert fmt == {"type": "json_object", "schema": answer_schema(AnalysisAnswer)}


def test_router_choice_and_estimate(client, log) -> None:
    eng = engine(client, log, 'fast_model = "grok-4.20-0309-non-reasoning"')
    simple = eng.agents_for("o1", "fix this")
    assert simple.model == "grok-4.20-0309-non-reasoning" and "simple" in simple.model_reason
    explicit = eng.agents_for("o1", "fix this", model="grok-4.3")
    assert explicit.model == "grok-4.3" and explicit.model_reason == "asked for explicitly"
    est = eng.estimate("write some stuff about dogs")
    assert est.engine == "llm" and est.calls == 1  # the fast route: the Designer only
    assert eng.estimate("Write a report. " * 60).calls == 2
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
    # takes the run's hold, then the pipeline goes away
    await abandoned.design(CTX, Deconstruction(), Diagnosis())
    assert abandoned.hold is not None and abandoned.hold.id in log.budget.holds
    now[0] += HOLD_TTL_S + 1
    finished = eng.agents_for("o2", CTX.prompt, hold=True)
    await eng.meter.flush()
    assert abandoned.hold.id not in log.budget.holds
    d, g = await asyncio.gather(finished.deconstruct(CTX), finished.diagnose(CTX))
    design = await finished.design(CTX, d, g)
    await finished.evaluate(CTX, d, design)  # accepted: the run is over
    assert log.budget.holds == {}
