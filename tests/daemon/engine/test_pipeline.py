"""The pipeline: routing, concurrency, retry then unchanged, events, fallback, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import msgspec
import pytest

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import (
    OfflineAgents,
    OptimizationRequest,
    RunMeta,
    run_pipeline,
    to_result,
)
from promptd.daemon.engine.pipeline import choose_route
from promptd.daemon.engine.types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from promptd.daemon.errors import BudgetError, EngineError, InputError, ProviderError
from promptd.daemon.events import (
    AgentStepCompleted,
    Event,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
)
from promptd.daemon.values import Scores

SIMPLE = "please write some stuff about dogs for {audience}, DONT make it boring!!!"
COMPLEX = "fix the bug in this code {code} and explain. use python"
GOOD = (
    "Classify the sentiment of the review below as positive, negative or neutral.\n"
    'Answer with the label only.\n\nReview: """{review}"""'
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    def steps(self) -> list[tuple[str, int]]:
        return [(e.agent, e.attempt) for e in self.events if isinstance(e, AgentStepCompleted)]


async def run(text: str, agents: object, **kw: object) -> tuple[object, Recorder]:
    rec = Recorder()
    outcome = await run_pipeline(
        OptimizationRequest(text=text, **kw.pop("request", {})),  # type: ignore[arg-type]
        agents,  # type: ignore[arg-type]
        emit=rec,
        config=EngineConfig(),
        **kw,  # type: ignore[arg-type]
    )
    return outcome, rec


def test_routing_fast_for_simple_full_for_complex() -> None:
    assert choose_route(SIMPLE)[0] == "fast"
    route, why = choose_route(COMPLEX)
    assert route == "full" and "tasks" in why
    assert (
        choose_route("Write a haiku. " + "Use vivid words. Be concise. Avoid clichés. " * 1)[0]
        == "full"
    )


async def test_events_for_an_offline_run() -> None:
    _, rec = await run(SIMPLE, OfflineAgents())
    kinds = [type(e).__name__ for e in rec.events]
    assert kinds[0] == "OptimizationRequested" and kinds[-1] == "OptimizationCompleted"
    assert rec.steps() == [
        ("deconstructor", 1),
        ("diagnoser", 1),
        ("designer", 1),
        ("evaluator", 1),
    ]
    req = rec.of(OptimizationRequested)[0]
    done = rec.of(OptimizationCompleted)[0]
    assert isinstance(req, OptimizationRequested) and isinstance(done, OptimizationCompleted)
    assert req.opt_id == done.opt_id and req.prompt == SIMPLE and req.prompt_type == "auto"
    assert done.changed and done.route == "fast" and done.detected
    assert done.prompt_type == "general"
    assert done.score_after is not None and done.score_before is not None
    assert done.score_after.total > done.score_before.total
    assert done.placeholders == ["{audience}"]
    assert "{audience}" in done.optimized and "DONT" not in done.optimized
    for step in rec.of(AgentStepCompleted):
        assert isinstance(step, AgentStepCompleted) and step.output and step.summary
    design = msgspec.json.decode(rec.of(AgentStepCompleted)[2].output, type=Design)  # type: ignore[union-attr]
    assert design.prompt == done.optimized


async def test_full_route_runs_deconstructor_and_diagnoser_concurrently() -> None:
    class Concurrent(OfflineAgents):
        def __init__(self) -> None:
            super().__init__()
            self.dec_started = asyncio.Event()
            self.diag_started = asyncio.Event()

        async def deconstruct(self, ctx: AgentContext) -> Deconstruction:
            self.dec_started.set()
            # Only returns if the diagnoser runs at the same time.
            await asyncio.wait_for(self.diag_started.wait(), timeout=5)
            return await super().deconstruct(ctx)

        async def diagnose(self, ctx: AgentContext) -> Diagnosis:
            self.diag_started.set()
            await asyncio.wait_for(self.dec_started.wait(), timeout=5)
            return await super().diagnose(ctx)

    outcome, rec = await run(COMPLEX, Concurrent())
    assert outcome.completed.route == "full"  # type: ignore[attr-defined]
    assert {s for s in rec.steps()[:2]} == {("deconstructor", 1), ("diagnoser", 1)}


async def test_a_good_prompt_comes_back_unchanged_with_the_reason() -> None:
    outcome, rec = await run(GOOD, OfflineAgents())
    done = outcome.completed  # type: ignore[attr-defined]
    assert not done.changed and done.optimized == GOOD
    assert "already clear" in done.unchanged_reason and "PD018" in done.unchanged_reason
    assert done.score_before == done.score_after
    assert rec.steps() == [
        ("deconstructor", 1),
        ("diagnoser", 1),
        ("designer", 1),
        ("evaluator", 1),
    ]


async def test_a_prompt_only_the_author_can_fix_is_not_called_clear() -> None:
    outcome, _ = await run("poem", OfflineAgents())
    done = outcome.completed  # type: ignore[attr-defined]
    assert not done.changed
    assert "without your input" in done.unchanged_reason
    assert "already clear" not in done.unchanged_reason
    assert "only 1 word." in done.unchanged_reason


class Rejecting(OfflineAgents):
    """A Designer whose rewrites always score lower: retried once, then unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.feedback: list[str] = []

    async def design(
        self,
        ctx: AgentContext,
        deconstruction: Deconstruction,
        diagnosis: Diagnosis,
        feedback: str = "",
    ) -> Design:
        self.feedback.append(feedback)
        return Design(prompt=ctx.prompt + " stuff things etc.")

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation:
        low = Scores(clarity=10, specificity=10, structure=10, completeness=10, total=10)
        high = Scores(clarity=50, specificity=50, structure=50, completeness=50, total=50)
        return Evaluation(
            before=high, after=low, accepted=False, reasons=["worse"], feedback="be more specific"
        )


async def test_worse_rewrite_is_retried_once_then_original_returned() -> None:
    agents = Rejecting()
    outcome, rec = await run(SIMPLE, agents)
    done = outcome.completed  # type: ignore[attr-defined]
    assert not done.changed and done.optimized == SIMPLE
    assert "scored 10, not above the original's 50" in done.unchanged_reason
    assert "second try" in done.unchanged_reason
    assert agents.feedback == ["", "be more specific"]
    assert [s for s in rec.steps() if s[0] in ("designer", "evaluator")] == [
        ("designer", 1),
        ("evaluator", 1),
        ("designer", 2),
        ("evaluator", 2),
    ]
    assert done.score_after == done.score_before and done.score_before.total == 50
    assert outcome.attempts == 2  # type: ignore[attr-defined]


async def test_guard_failure_gets_feedback_and_the_second_try_can_succeed() -> None:
    class DropsPlaceholderFirst(OfflineAgents):
        def __init__(self) -> None:
            super().__init__()
            self.feedback: list[str] = []

        async def design(
            self,
            ctx: AgentContext,
            deconstruction: Deconstruction,
            diagnosis: Diagnosis,
            feedback: str = "",
        ) -> Design:
            self.feedback.append(feedback)
            if not feedback:
                return Design(prompt="Write about dogs for everyone.")
            return await super().design(ctx, deconstruction, diagnosis, "")

    agents = DropsPlaceholderFirst()
    outcome, rec = await run(SIMPLE, agents)
    done = outcome.completed  # type: ignore[attr-defined]
    assert done.changed and "{audience}" in done.optimized
    assert "dropped {audience}" in agents.feedback[1]
    # No evaluator call for a rewrite that broke a guard.
    assert [s for s in rec.steps() if s[0] in ("designer", "evaluator")] == [
        ("designer", 1),
        ("designer", 2),
        ("evaluator", 2),
    ]


async def test_guards_hold_for_any_engine_even_when_its_evaluator_accepts() -> None:
    class Inventive(OfflineAgents):
        async def design(
            self,
            ctx: AgentContext,
            deconstruction: Deconstruction,
            diagnosis: Diagnosis,
            feedback: str = "",
        ) -> Design:
            return Design(prompt=ctx.prompt.replace("{audience}", "{readers}"))

        async def evaluate(
            self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
        ) -> Evaluation:
            s = Scores(clarity=99, specificity=99, structure=99, completeness=99, total=99)
            return Evaluation(before=s, after=s, accepted=True)

    outcome, _ = await run(SIMPLE, Inventive())
    done = outcome.completed  # type: ignore[attr-defined]
    assert not done.changed and done.optimized == SIMPLE
    assert "broke a guard" in done.unchanged_reason and "{readers}" in done.unchanged_reason


class Failing(OfflineAgents):
    name = "llm"

    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    async def diagnose(self, ctx: AgentContext) -> Diagnosis:
        raise self.exc

    async def design(
        self,
        ctx: AgentContext,
        deconstruction: Deconstruction,
        diagnosis: Diagnosis,
        feedback: str = "",
    ) -> Design:
        raise self.exc  # the fast route asks the engine nothing before the Designer


@pytest.mark.parametrize(
    "exc", [ProviderError("timeout after 3 tries"), BudgetError("daily budget reached")]
)
async def test_failing_engine_falls_back_to_offline_and_is_marked_degraded(exc: Exception) -> None:
    outcome, rec = await run(SIMPLE, Failing(exc), fallback=OfflineAgents())
    done = outcome.completed  # type: ignore[attr-defined]
    assert done.degraded and done.engine == "offline" and done.changed and done.model == ""
    assert str(exc) in done.degraded_reason and "offline" in done.degraded_reason
    assert not rec.of(OptimizationFailed)
    result = to_result(outcome)  # type: ignore[arg-type]
    assert result.degraded and result.degraded_reason == done.degraded_reason


@pytest.mark.parametrize(
    ("exc", "code"), [(ProviderError("boom"), "provider"), (BudgetError("over budget"), "budget")]
)
async def test_failing_engine_without_fallback_records_the_failure(
    exc: Exception, code: str
) -> None:
    rec = Recorder()
    with pytest.raises(type(exc)):
        await run_pipeline(OptimizationRequest(text=SIMPLE), Failing(exc), emit=rec)
    failed = rec.of(OptimizationFailed)
    assert len(failed) == 1 and failed[0].error == code  # type: ignore[union-attr]
    assert isinstance(rec.events[0], OptimizationRequested)


async def test_unexpected_agent_error_is_an_engine_error_and_recorded() -> None:
    class Broken(OfflineAgents):
        async def design(
            self,
            ctx: AgentContext,
            deconstruction: Deconstruction,
            diagnosis: Diagnosis,
            feedback: str = "",
        ) -> Design:
            raise ZeroDivisionError("oops")

    rec = Recorder()
    with pytest.raises(EngineError, match="ZeroDivisionError: oops"):
        await run_pipeline(OptimizationRequest(text=SIMPLE), Broken(), emit=rec)
    assert rec.of(OptimizationFailed)[0].error == "internal"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "code"), [("   ", "input"), ("x" * 101, "input_too_large")])
async def test_unusable_input_fails_with_a_clear_error(text: str, code: str) -> None:
    rec = Recorder()
    with pytest.raises(InputError):
        await run_pipeline(
            OptimizationRequest(text=text),
            OfflineAgents(),
            emit=rec,
            config=EngineConfig(max_input_chars=100),
        )
    assert [type(e) for e in rec.events] == [OptimizationRequested, OptimizationFailed]
    assert rec.of(OptimizationFailed)[0].error == code  # type: ignore[union-attr]


async def test_unknown_prompt_type_is_an_input_error() -> None:
    rec = Recorder()
    with pytest.raises(InputError, match="unknown prompt type 'poetry'"):
        await run_pipeline(
            OptimizationRequest(text=SIMPLE, prompt_type="poetry"), OfflineAgents(), emit=rec
        )


async def test_cancellation_is_recorded_as_interrupted() -> None:
    class Slow(OfflineAgents):
        async def design(
            self,
            ctx: AgentContext,
            deconstruction: Deconstruction,
            diagnosis: Diagnosis,
            feedback: str = "",
        ) -> Design:
            await asyncio.sleep(30)
            raise AssertionError("not reached")

    rec = Recorder()
    task = asyncio.create_task(run_pipeline(OptimizationRequest(text=SIMPLE), Slow(), emit=rec))
    while not rec.of(AgentStepCompleted):  # the deconstructor step is recorded first
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    failed = rec.of(OptimizationFailed)
    assert failed and failed[0].interrupted and failed[0].error == "interrupted"  # type: ignore[union-attr]


async def test_on_step_reports_each_step_sync_or_async() -> None:
    seen: list[tuple[str, int]] = []

    async def on_step(agent: str, attempt: int) -> None:
        seen.append((agent, attempt))

    await run(COMPLEX, OfflineAgents(), on_step=on_step)
    assert sorted(seen[:2]) == [("deconstructor", 1), ("diagnoser", 1)]
    assert seen[2:] == [("designer", 1), ("evaluator", 1)]
    calls: list[str] = []
    await run(SIMPLE, OfflineAgents(), on_step=lambda agent, attempt: calls.append(agent))
    assert calls == ["designer", "evaluator"]  # fast route: the offline analysis, no call


class LLMLike(OfflineAgents):
    """The rules, under the LLM engine's name: what the daemon sees from a provider."""

    name = "llm"


async def test_meta_and_request_fields_reach_the_result() -> None:
    meta = RunMeta(
        model="grok-4.3", model_reason="quality model", cost_ticks=12_345_000, cache_key="k1"
    )
    outcome, rec = await run(
        COMPLEX,
        LLMLike(),
        meta=meta,
        request={"opt_id": "abc123", "prompt_type": "code", "source": "lsp", "batch_id": "b1"},
    )
    done = outcome.completed  # type: ignore[attr-defined]
    assert done.opt_id == "abc123" and done.source == "lsp" and done.batch_id == "b1"
    assert done.cost_ticks == 12_345_000 and done.cache_key == "k1"
    assert not done.detected and done.prompt_type == "code"
    result = to_result(outcome)  # type: ignore[arg-type]
    assert result.id == "abc123" and result.cost_usd == pytest.approx(0.0012345)
    assert result.model == "grok-4.3" and result.model_reason == "quality model"
    assert result.score_before == done.score_before.total
    assert result.scores_after == done.score_after
    assert result.route == "full" and result.changed and result.engine == "llm"
    steps = [e for e in rec.events if isinstance(e, AgentStepCompleted)]
    assert {s.model for s in steps} == {"grok-4.3"}
    cached = to_result(done, cached=True, duration_ms=0)
    assert cached.cached and cached.duration_ms == 0 and cached.optimized == result.optimized
    assert rec.of(OptimizationCompleted)[0] == done
