"""One evaluation on the real event log (LMDB) and LLM engine, the model behind
``httpx.MockTransport`` (no network): verdicts, drafted inputs, budgets, caches, records."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from promptd.daemon.errors import ConfigError
from promptd.daemon.evals.runner import EvalRun
from promptd.daemon.evals.samples import parse_samples
from promptd.daemon.events import BudgetSet, EvaluationCompleted, ProviderCallCompleted
from promptd.daemon.projections import open_async_log
from promptd.daemon.providers import LLMEngine
from promptd.daemon.store import AsyncEventLog

from ..providers.conftest import FAKE_KEY, xai_config
from .fake_model import completion, kind_of

ORIGINAL = "Summarize {doc}."
CANDIDATE = "Summarize the document below in three bullet points for {audience}.\n\n{doc}"
SAMPLES = parse_samples(
    '{"vars": {"doc": "Tides rise twice a day.", "audience": "kids"}, "expected": "3 bullets"}\n'
    '{"vars": {"doc": "Moons orbit planets.", "audience": "adults"}, "criteria": "short"}\n'
    '{"vars": {"doc": "Comets have tails.", "audience": "teens"}}\n',
    "s.jsonl",
)


class Model:
    """The fake model behind a MockTransport; records each request body."""

    def __init__(self, bias: str = "", cost_ticks: int | None = 1000) -> None:
        self.bias = bias
        self.cost_ticks = cost_ticks  # what each answer reports it cost
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        return httpx.Response(
            200, json=completion(body, bias=self.bias, cost_ticks=self.cost_ticks)
        )

    def kinds(self) -> list[str]:
        return [kind_of(b) for b in self.bodies]


@pytest.fixture
async def store(promptd_home: Path) -> AsyncIterator[AsyncEventLog]:
    log = await open_async_log(promptd_home / "events")
    try:
        yield log
    finally:
        await log.close()


Engine = Callable[[Model], LLMEngine]


@pytest.fixture
async def engine(store: AsyncEventLog) -> AsyncIterator[Engine]:
    made: list[tuple[LLMEngine, httpx.AsyncClient]] = []

    def make(model: Model) -> LLMEngine:
        client = httpx.AsyncClient(transport=httpx.MockTransport(model))
        eng = LLMEngine(xai_config(), store, client, environ={"XAI_API_KEY": FAKE_KEY})
        made.append((eng, client))
        return eng

    yield make
    for eng, client in made:
        await eng.aclose()
        await client.aclose()


def evaluations(store: AsyncEventLog) -> list[EvaluationCompleted]:
    return [r.event for r in store.read() if isinstance(r.event, EvaluationCompleted)]


def eval_calls(store: AsyncEventLog) -> list[ProviderCallCompleted]:
    return [
        r.event
        for r in store.read()
        if isinstance(r.event, ProviderCallCompleted) and r.event.agent.startswith("eval.")
    ]


async def test_the_better_prompt_wins_in_both_orders(engine: Engine, store: AsyncEventLog) -> None:
    model = Model()
    run = EvalRun(engine(model), original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES)
    seen: list[tuple[int, int]] = []
    done = await run.run(lambda p: seen.append((p.done, p.total)))
    assert (done.wins, done.ties, done.losses) == (3, 0, 0)
    assert done.status == "completed" and not done.drafted and done.planned == 3
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]  # a progress notification per sample
    assert done.score == 1.0 and done.high == 1.0 and 0.43 < done.low < 0.44
    v = done.verdicts[0]
    assert (v.first, v.second) == ("candidate", "candidate")
    assert v.inputs == {"doc": "Tides rise twice a day.", "audience": "kids"}
    assert v.original_output == "answer to: Summarize Tides rise twice a day.."
    assert v.candidate_output.startswith("answer to: Summarize the document below")
    assert any("in more detail" in r for r in v.reasons)
    # 2 target + 2 judge calls a sample, each recorded and paid the normal way
    assert model.kinds() == ["target", "target", "judge", "judge"] * 3
    calls = eval_calls(store)
    assert len(calls) == done.calls == 12 and done.cost_ticks == sum(c.cost_ticks for c in calls)
    assert {c.agent for c in calls} == {"eval.target", "eval.judge"}
    judge = next(b for b in model.bodies if kind_of(b) == "judge")
    user = judge["messages"][1]["content"]
    assert "<task>\nSummarize Tides rise twice a day..\n</task>" in user
    assert "<expected>\n3 bullets\n</expected>" in user
    assert evaluations(store) == [done]


async def test_a_position_biased_judge_gives_ties(engine: Engine, store: AsyncEventLog) -> None:
    run = EvalRun(engine(Model(bias="A")), original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES)
    done = await run.run(lambda p: None)
    assert (done.wins, done.ties, done.losses) == (0, 3, 0)
    assert all((v.first, v.second) == ("original", "candidate") for v in done.verdicts)
    assert done.score == 0.5 and done.low < 0.5 < done.high


async def test_without_inputs_the_model_drafts_five(engine: Engine, store: AsyncEventLog) -> None:
    model = Model()
    run = EvalRun(engine(model), original=ORIGINAL, candidate=CANDIDATE, samples=None)
    est = run.estimate()
    assert est.drafted and est.samples == 5 and est.calls == 21
    assert est.variables == ["doc", "audience"]
    done = await run.run(lambda p: None)
    assert done.drafted and len(done.verdicts) == 5 and done.wins == 5
    assert model.kinds()[0] == "draft" and model.kinds().count("target") == 10
    assert done.verdicts[4].inputs == {"doc": "doc case 4", "audience": "audience case 4"}
    assert next(c.agent for c in eval_calls(store)) == "eval.draft"
    assert evaluations(store)[0].drafted


async def test_identical_calls_come_from_the_response_cache(
    engine: Engine, store: AsyncEventLog
) -> None:
    model = Model()
    eng = engine(model)
    first = await EvalRun(eng, original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES).run(
        lambda p: None
    )
    again = await EvalRun(eng, original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES).run(
        lambda p: None
    )
    assert first.cost_ticks > 0 and again.cost_ticks == 0
    assert again.cached_calls == again.calls == 12 and len(model.bodies) == 12
    assert (again.wins, again.ties, again.losses) == (first.wins, first.ties, first.losses)
    # a repeat (--runs 2) asks the target afresh: 2 more target calls a sample, 2 more judge
    third = await EvalRun(eng, original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES, runs=2).run(
        lambda p: None
    )
    assert len(third.verdicts) == 6 and third.planned == 6
    assert model.kinds()[12:].count("target") == 6


async def test_a_refused_budget_stops_the_eval_with_what_was_spent(
    engine: Engine, store: AsyncEventLog
) -> None:
    model = Model(cost_ticks=None)  # each answer uses all its max_tokens: about worst case
    run = EvalRun(engine(model), original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES)
    budget = round(run.estimate().worst_case_usd * 1e10 / 2)  # about a sample and a half
    await store.append([BudgetSet(daily_ticks=budget)])
    done = await run.run(lambda p: None)
    assert done.status == "stopped" and "budget" in done.stopped_reason
    assert 1 <= len(done.verdicts) < 3 and done.planned == 3
    calls = eval_calls(store)
    assert done.cost_ticks == sum(c.cost_ticks for c in calls) > 0
    assert done.calls == len(calls)
    day = calls[0].day
    with store.view() as view:
        assert view.budget.spent(day=day) <= budget  # never overshot
        assert view.budget.reserved(day=day) == 0  # nothing left held
    assert evaluations(store)[0].status == "stopped"


async def test_invalid_judge_answers_are_asked_again_then_count_as_a_tie(
    engine: Engine, store: AsyncEventLog
) -> None:
    class Garbled(Model):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if kind_of(body) != "judge":
                return super().__call__(request)
            self.bodies.append(body)
            reply = completion(body)
            reply["choices"][0]["message"]["content"] = '{"better": "maybe"}'
            return httpx.Response(200, json=reply)

    model = Garbled()
    samples = SAMPLES[:1]
    done = await EvalRun(
        engine(model), original=ORIGINAL, candidate=CANDIDATE, samples=samples
    ).run(lambda p: None)
    assert done.verdicts[0].verdict == "tie"
    assert (done.verdicts[0].first, done.verdicts[0].second) == ("invalid", "invalid")
    assert "the judge's answer was invalid" in done.verdicts[0].reasons[0]
    assert model.kinds().count("judge") == 4  # each order asked once more with the error


def test_samples_missing_a_variable_are_refused_before_any_call(
    engine: Engine, store: AsyncEventLog
) -> None:
    from promptd.daemon.errors import InputError

    model = Model()
    rows = parse_samples('{"vars": {"doc": "x"}}\n', "s.jsonl")
    with pytest.raises(InputError, match=r"s\.jsonl line 1: no value for 'audience'"):
        EvalRun(
            engine(model),
            original=ORIGINAL,
            candidate=CANDIDATE,
            samples=rows,
            inputs_name="s.jsonl",
        )
    assert model.bodies == []


async def test_a_failing_provider_stops_the_eval_and_the_breaker_opens(
    store: AsyncEventLog,
) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    sent: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503, json={"error": {"message": "overloaded"}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(down))
    eng = LLMEngine(xai_config(), store, client, environ={"XAI_API_KEY": FAKE_KEY}, sleep=no_wait)
    try:
        runs = [
            await EvalRun(eng, original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES).run(
                lambda p: None
            )
            for _ in range(4)
        ]
    finally:
        await eng.aclose()
        await client.aclose()
    assert all(r.status == "stopped" and r.verdicts == [] for r in runs)
    assert "503" in runs[0].stopped_reason
    assert eng.circuit == "open"  # later evals fail fast, without a request
    assert "failed 5 times in a row; not calling it for another" in runs[-1].stopped_reason
    assert len(sent) == 15  # 5 calls x 3 tries, then the breaker answers without a request
    failed = eval_calls(store)
    assert failed and not any(c.ok for c in failed)
    with store.view() as view:
        assert view.budget.reserved(day=failed[0].day) == 0  # no hold left behind


async def test_an_eval_cut_off_by_a_stop_is_recorded_with_its_calls_booked(
    store: AsyncEventLog,
) -> None:
    import asyncio

    arrived = asyncio.Event()
    sent: list[httpx.Request] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 2:  # both versions' calls are out
            arrived.set()
        await asyncio.sleep(60)
        raise AssertionError("not reached: the eval is cancelled first")

    client = httpx.AsyncClient(transport=httpx.MockTransport(slow))
    eng = LLMEngine(xai_config(), store, client, environ={"XAI_API_KEY": FAKE_KEY})
    try:
        run = EvalRun(eng, original=ORIGINAL, candidate=CANDIDATE, samples=SAMPLES)
        task = asyncio.ensure_future(run.run(lambda p: None))
        await asyncio.wait_for(arrived.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await eng.aclose()
        await client.aclose()
    (done,) = evaluations(store)
    assert done.status == "stopped"
    assert done.stopped_reason == (
        "the daemon stopped (2 call(s) cut off, booked at their reservation)"
    )
    cut = eval_calls(store)
    assert len(cut) == 2 and all(c.recovered and c.cost_ticks > 0 for c in cut)  # booked
    assert done.cost_ticks == sum(c.cost_ticks for c in cut) and done.calls == 2


def test_the_offline_refusal_says_what_to_do() -> None:
    from promptd.daemon.evals.service import OFFLINE_REFUSAL

    assert isinstance(ConfigError(OFFLINE_REFUSAL), ConfigError)
    assert "XAI_API_KEY" in OFFLINE_REFUSAL and "offline engine" in OFFLINE_REFUSAL
