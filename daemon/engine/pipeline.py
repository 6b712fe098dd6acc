"""The optimization pipeline: route, run the four agents, guard, evaluate, record.

``await run_pipeline(request, agents, emit=..., config=...)`` (or :class:`Pipeline`) does,
for any :class:`~promptd.daemon.engine.types.Agents` (offline rules or an LLM):

1. emits ``OptimizationRequested``; refuses unusable input (``InputError``);
2. resolves ``auto`` to a type (:func:`~promptd.daemon.engine.lint.detect_type`);
3. routes: a short, simple prompt takes the **fast** route (the offline Deconstructor and
   Diagnoser stand in for the engine's: an LLM run makes one round trip, the Designer's);
   a complex one the **full** route, where Deconstructor and Diagnoser run concurrently;
4. Designer, then the guards (placeholders, intent, content, structure, size), then the
   Evaluator; when a guard fails or the rewrite does not score higher, the Designer gets
   one more try with the feedback; if that fails too, the original comes back unchanged
   with the reason;
5. emits one ``AgentStepCompleted`` per step and ``OptimizationCompleted`` (or
   ``OptimizationFailed``, then re-raises).

When ``agents`` raises a :class:`~promptd.daemon.errors.ProviderError` or
:class:`~promptd.daemon.errors.BudgetError` and ``fallback`` is given, the run is redone on the
fallback agents and marked degraded. Cost, cache and model facts belong to the caller: it
passes a :class:`RunMeta` and may update it while the run goes (providers add
``cost_ticks``); the pipeline copies it into the completed event.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from ..api import OptimizeResult, result_from_event
from ..config import EngineConfig
from ..errors import BudgetError, EngineError, InputError, ProviderError
from ..events import (
    AgentStepCompleted,
    Event,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
)
from ..values import Change, Finding
from . import guards, instruct, targets
from .analysis import analyze, deconstruct
from .checks import diagnose, split_tasks
from .lint import resolve_type
from .offline.agents import evaluate_texts
from .scoring import score
from .text import prompt_hash
from .types import AgentContext, Agents, Deconstruction, Design, Diagnosis, Evaluation, Route

Emit = Callable[[Sequence[Event]], Awaitable[object]]
OnStep = Callable[[str, int], object]  # (agent, attempt); may return an awaitable

T = TypeVar("T", bound=msgspec.Struct)


class OptimizationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to optimize. ``opt_id`` empty: the pipeline makes one (:func:`new_opt_id`)."""

    text: str
    prompt_type: str = "auto"
    opt_id: str = ""
    source: str = "api"  # cli | lsp | inbox | batch | api
    batch_id: str = ""
    no_cache: bool = False
    model: str = ""
    instruct: str = ""  # the author's instruction for the rewrite (--instruct)
    target: str = ""  # the model family to write for (--for); "" or generic: none


@dataclass
class RunMeta:
    """Facts the caller owns and may update during the run; copied into the result."""

    cost_ticks: int = 0
    cached: bool = False
    degraded: bool = False
    degraded_reason: str = ""
    model: str = ""
    model_reason: str = ""
    cache_key: str = ""


class StepRecord(msgspec.Struct, frozen=True, kw_only=True):
    agent: str
    attempt: int
    engine: str
    duration_us: int
    summary: str


class OptimizationOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """A finished run: the completed event (as emitted) plus the Evaluator's reasons."""

    completed: OptimizationCompleted
    steps: list[StepRecord]
    reasons: list[str]
    attempts: int

    @property
    def opt_id(self) -> str:
        return self.completed.opt_id

    @property
    def optimized(self) -> str:
        return self.completed.optimized


def new_opt_id() -> str:
    """A time-ordered optimization id: 8 hex digits of seconds, 8 random."""
    return f"{int(time.time()):08x}{secrets.token_hex(4)}"


def choose_route(text: str) -> tuple[Route, str]:
    """``fast`` for a short, simple prompt; ``full`` (with the reason) for a complex one."""
    a = analyze(text)
    tasks = sum(max(1, len(split_tasks(t.text))) for t in a.tasks)
    constraints = len(a.of("constraint"))
    if len(text) > 600 or a.word_count > 90:
        return "full", f"long prompt ({a.word_count} words)"
    if tasks >= 2:
        return "full", f"{tasks} tasks"
    if constraints >= 3:
        return "full", f"{constraints} constraints"
    if a.lines >= 8:
        return "full", f"{a.lines} lines"
    return "fast", "short and simple"


def _summary(output: msgspec.Struct) -> str:
    if isinstance(output, Deconstruction):
        return (
            f"role: {'yes' if output.role else 'no'}, {len(output.tasks)} task(s), "
            f"{len(output.constraints)} constraint(s), output format: "
            f"{'yes' if output.output_format else 'no'}, "
            f"{len(output.placeholders)} placeholder(s)"
        )
    if isinstance(output, Diagnosis):
        codes = ", ".join(dict.fromkeys(f.code for f in output.findings))
        return f"{len(output.findings)} finding(s)" + (f": {codes}" if codes else "")
    if isinstance(output, Design):
        return f"{len(output.changes)} change(s)" if output.changes else "no change"
    if isinstance(output, Evaluation):
        verdict = "accepted" if output.accepted else "rejected"
        return f"{output.before.total} -> {output.after.total}, {verdict}"
    return type(output).__name__


def _unchanged_reason(ev: Evaluation, findings: list[Finding]) -> str:
    """Why the Designer left the prompt as it is: good already, or blocked on the author."""
    if any(f.severity in ("error", "warning") for f in findings):
        base = f"nothing to improve safely without your input (score {ev.before.total})"
    else:
        base = f"already clear, specific and structured (score {ev.before.total})"
    if not findings:
        return base
    shown = "; ".join(
        f"{f.code} {f.rule}: {f.message}" if f.rule else f"{f.code}: {f.message}"
        for f in list({f.code: f for f in findings}.values())[:3]
    )
    if len(findings) == 1:
        return f"{base}; the only finding is {shown}"
    return f"{base}; left for you: {shown}"


def _account(findings: list[Finding], changes: list[Change], left: list[Finding]) -> list[Change]:
    """``changes``, plus one naming the findings the rewrite resolved without a change that
    claims them (a sentence of filler that also held "!!!"), so that every finding of the
    original is either answered by a change or still listed as left."""
    claimed = {code for change in changes for code in change.findings}
    still = {f.code for f in left}
    quiet = {f.code: f for f in findings if f.code not in claimed and f.code not in still}
    if not quiet:
        return changes
    names = ", ".join(f.rule or code for code, f in sorted(quiet.items()))
    return [
        *changes,
        Change(
            description=f"The changes above also resolved: {names}.",
            findings=sorted(quiet),
            kind="edit",
        ),
    ]


class Pipeline:
    """The pipeline bound to one engine; :meth:`run` optimizes one request."""

    def __init__(
        self,
        agents: Agents,
        *,
        emit: Emit,
        config: EngineConfig | None = None,
        fallback: Agents | None = None,
        on_step: OnStep | None = None,
    ) -> None:
        self.agents = agents
        self.emit = emit
        self.config = config or EngineConfig()
        self.fallback = fallback
        self.on_step = on_step

    async def run(
        self, request: OptimizationRequest, meta: RunMeta | None = None
    ) -> OptimizationOutcome:
        meta = meta or RunMeta(model=request.model)
        opt_id = request.opt_id or new_opt_id()
        text = request.text
        started = time.perf_counter()
        await self.emit(
            [
                OptimizationRequested(
                    opt_id=opt_id,
                    prompt=text if len(text) <= self.config.max_input_chars else text[:2000],
                    prompt_hash=prompt_hash(text),
                    prompt_type=request.prompt_type,
                    engine=self.agents.name,
                    model=meta.model,
                    source=request.source,
                    batch_id=request.batch_id,
                    no_cache=request.no_cache,
                    instruct=request.instruct,
                    target=request.target,
                )
            ]
        )
        try:
            guards.check_input(text, self.config)
            ptype, detected = resolve_type(request.prompt_type, text)
            run = _Run(self, opt_id, text, ptype, meta, request)
            try:
                outcome = await run.execute(self.agents)
            except (ProviderError, BudgetError) as exc:
                if self.fallback is None:
                    raise
                meta.degraded = True
                meta.degraded_reason = (
                    f"the {self.agents.name} engine failed ({exc}); answered by the "
                    f"{self.fallback.name} engine"
                )
                outcome = await run.execute(self.fallback)
        except InputError as exc:
            code = "input_too_large" if len(text) > self.config.max_input_chars else "input"
            await self._fail(opt_id, code, str(exc))
            raise
        except ProviderError as exc:
            await self._fail(opt_id, "provider", str(exc))
            raise
        except BudgetError as exc:
            await self._fail(opt_id, "budget", str(exc))
            raise
        except asyncio.CancelledError:
            await asyncio.shield(
                self._fail(
                    opt_id, "interrupted", "the optimization was interrupted", interrupted=True
                )
            )
            raise
        except Exception as exc:
            await self._fail(opt_id, "internal", f"{type(exc).__name__}: {exc}")
            raise EngineError(f"the optimization failed: {type(exc).__name__}: {exc}") from exc
        completed = msgspec.structs.replace(
            outcome.completed,
            detected=detected,
            duration_ms=round((time.perf_counter() - started) * 1000),
            cost_ticks=meta.cost_ticks,
            cached=meta.cached,
            degraded=meta.degraded,
            degraded_reason=meta.degraded_reason,
            model_reason=meta.model_reason,
            cache_key=meta.cache_key,
            source=request.source,
            batch_id=request.batch_id,
        )
        await self.emit([completed])
        return msgspec.structs.replace(outcome, completed=completed)

    async def _fail(self, opt_id: str, error: str, message: str, interrupted: bool = False) -> None:
        await self.emit(
            [
                OptimizationFailed(
                    opt_id=opt_id, error=error, message=message, interrupted=interrupted
                )
            ]
        )


class _Run:
    """One optimization on one engine (redone on the fallback engine when it fails)."""

    def __init__(
        self,
        p: Pipeline,
        opt_id: str,
        text: str,
        ptype: str,
        meta: RunMeta,
        request: OptimizationRequest | None = None,
    ) -> None:
        self.p = p
        self.opt_id = opt_id
        self.text = text
        self.ptype = ptype
        self.meta = meta
        self.steps: list[StepRecord] = []
        self.instruct = request.instruct if request else ""
        self.target = request.target if request and request.target != "generic" else ""
        self.parsed = instruct.parse(self.instruct) if self.instruct else None
        self.target_unmet: list[str] = []

    async def _step(self, agents: Agents, agent: str, attempt: int, work: Awaitable[T]) -> T:
        if self.p.on_step is not None:
            try:
                maybe = self.p.on_step(agent, attempt)
                if inspect.isawaitable(maybe):
                    await maybe
            except BaseException:
                if inspect.iscoroutine(work):
                    work.close()  # never started: close it so it is not left un-awaited
                raise
        t0 = time.perf_counter_ns()
        output = await work
        duration_us = (time.perf_counter_ns() - t0) // 1000
        await self._record(agents.name, agent, attempt, duration_us, output)
        return output

    async def _record(
        self, engine: str, agent: str, attempt: int, duration_us: int, output: msgspec.Struct
    ) -> None:
        summary = _summary(output)
        self.steps.append(
            StepRecord(
                agent=agent,
                attempt=attempt,
                engine=engine,
                duration_us=duration_us,
                summary=summary,
            )
        )
        await self.p.emit(
            [
                AgentStepCompleted(
                    opt_id=self.opt_id,
                    agent=agent,
                    attempt=attempt,
                    engine=engine,
                    model=self.meta.model if engine != "offline" else "",
                    duration_us=duration_us,
                    summary=summary,
                    output=msgspec.json.encode(output),
                )
            ]
        )

    def _measured_unmet(self, prompt: str) -> list[str]:
        """What the instruction asks that ``prompt`` measurably does not meet (a length)."""
        if self.parsed is None:
            return []
        return instruct.assess(self.parsed, self.text, prompt)[1]

    def _lay_out(
        self, accepted: Design | None, evaluation: Evaluation | None
    ) -> tuple[Design | None, Evaluation | None, bool]:
        """The offline result laid out for the target model (:mod:`.targets`): kept when the
        guards hold against the original and it scores no lower; (design, evaluation, done)."""
        base = accepted.prompt if accepted else self.text
        before = list(accepted.changes) if accepted else []
        done = targets.apply_target(base, self.target, self.p.config)
        self.target_unmet = list(done.unmet)
        if done.text == base:
            return accepted, evaluation, False
        changes = [*before, *done.changes]
        broken = guards.check(self.text, done.text, self.p.config, changes=changes)
        ev = evaluate_texts(self.text, done.text, self.ptype)
        if broken or ev.after.total < ev.before.total:
            why = f"the {broken[0].guard} guard" if broken else "a lower score"
            self.target_unmet.append(f"--for {self.target}: the layout was left out ({why})")
            return accepted, evaluation, False
        unmet = list(accepted.unmet) if accepted else []
        return Design(prompt=done.text, changes=changes, unmet=unmet), ev, True

    def _unmet(self, design: Design | None, accepted: Design | None, why: str) -> list[str]:
        """The instruction's parts (and target conventions) the result does not honour: the
        Designer's own account, then what the result measurably misses, once per part."""
        if not (self.instruct or self.target):
            return []
        result = accepted.prompt if accepted else self.text
        out: list[str] = []
        if design is not None:
            out += design.unmet
        out += self.target_unmet
        measured = self._measured_unmet(result)
        if accepted is None and design is not None and design.prompt.strip() != self.text.strip():
            # the Designer did it, the guards or the Evaluator turned it down: say that
            measured = [
                f"{m.split(':', 1)[0]}: the rewrite was not returned ({why})" for m in measured
            ]
        for item in measured:
            part = item.split(":", 1)[0]
            if not any(o.split(":", 1)[0] == part for o in out):
                out.append(item)
        return list(dict.fromkeys(out))

    async def execute(self, agents: Agents) -> OptimizationOutcome:
        ctx = AgentContext(
            opt_id=self.opt_id,
            prompt=self.text,
            prompt_type=self.ptype,
            model=self.meta.model,
            instruct=self.instruct,
            target=self.target,
        )
        # an instruction or a target: the author asked for this change, so a rewrite that
        # follows it and scores no lower is accepted (never one that scores lower)
        directed = bool(self.instruct or self.target)
        design: Design | None = None
        route, _why = choose_route(self.text)
        if route == "full":
            dec, diag = await asyncio.gather(
                self._step(agents, "deconstructor", 1, agents.deconstruct(ctx)),
                self._step(agents, "diagnoser", 1, agents.diagnose(ctx)),
            )
        else:
            # the fast route asks no engine before the Designer: the offline analysis stands
            # in for the Deconstructor and the Diagnoser (one LLM round trip in all)
            t0 = time.perf_counter_ns()
            dec = deconstruct(self.text)
            await self._record(
                "offline", "deconstructor", 1, (time.perf_counter_ns() - t0) // 1000, dec
            )
            t0 = time.perf_counter_ns()
            diag = Diagnosis(findings=diagnose(self.text, self.ptype))
            await self._record(
                "offline", "diagnoser", 1, (time.perf_counter_ns() - t0) // 1000, diag
            )
        findings = diag.findings
        feedback = ""
        reasons: list[str] = []
        evaluation: Evaluation | None = None
        accepted: Design | None = None
        unchanged_reason = ""
        attempt = 0
        for attempt in (1, 2):
            design = await self._step(
                agents, "designer", attempt, agents.design(ctx, dec, diag, feedback)
            )
            if design.prompt.strip() == self.text.strip():
                evaluation = await self._step(
                    agents, "evaluator", attempt, agents.evaluate(ctx, dec, design)
                )
                reasons = list(evaluation.reasons)
                if attempt == 1:
                    unchanged_reason = _unchanged_reason(evaluation, findings)
                    if self.parsed is not None:
                        unchanged_reason = instruct.unchanged_reason(self.parsed, self.text)
                break
            violations = guards.check(
                self.text, design.prompt, self.p.config, changes=design.changes
            )
            if violations:
                feedback = " ".join(v.message for v in violations)
                reasons = [f"guard {v.guard}: {v.message}" for v in violations]
                unchanged_reason = "the rewrite broke a guard: " + feedback
                continue
            evaluation = await self._step(
                agents, "evaluator", attempt, agents.evaluate(ctx, dec, design)
            )
            reasons = list(evaluation.reasons)
            unmet = self._measured_unmet(design.prompt)
            if unmet and attempt == 1 and agents.name != "offline":
                # the LLM missed what can be measured (a word limit): one more try, told so
                feedback = "The rewrite does not meet the author's instruction: " + "; ".join(unmet)
                unchanged_reason = feedback
                continue
            # never one that scores lower; the offline Evaluator accepts only a higher score,
            # an LLM judge may accept a tie it prefers in both orders
            no_lower = evaluation.after.total >= evaluation.before.total
            if (evaluation.accepted or directed) and no_lower:
                accepted = design
                break
            feedback = (
                evaluation.feedback
                or "; ".join(evaluation.reasons[-1:])
                or ("the rewrite did not score higher than the original")
            )
            unchanged_reason = (
                f"the rewrite scored {evaluation.after.total}, "
                f"{'below' if directed and no_lower is False else 'not above'} the original's "
                f"{evaluation.before.total}"
            )
        if accepted is None and attempt == 2:
            unchanged_reason += "; a second try failed too, so the original is returned unchanged"
        if self.target and agents.name == "offline":  # an LLM Designer was told the convention
            accepted, evaluation, laid_out = self._lay_out(accepted, evaluation)
            if laid_out:
                unchanged_reason = ""
        left = diagnose(accepted.prompt if accepted else self.text, self.ptype)
        changes = _account(findings, accepted.changes, left) if accepted else []
        before = evaluation.before if evaluation else score(self.text, self.ptype).scores
        after = evaluation.after if (evaluation and accepted) else before
        completed = OptimizationCompleted(
            opt_id=self.opt_id,
            prompt_hash=prompt_hash(self.text),
            original=self.text,
            optimized=accepted.prompt if accepted else self.text,
            prompt_type=self.ptype,
            engine=agents.name,
            # the model that answered: none when the offline rules did (also after a fallback)
            model=self.meta.model if agents.name != "offline" else "",
            route=route,
            changed=accepted is not None,
            unchanged_reason="" if accepted else unchanged_reason,
            score_before=before,
            score_after=after,
            findings=findings,
            changes=changes,
            placeholders=guards.placeholders(self.text),
            # what `promptd lint` says of the result, so the summary never lists a finding
            # the rewrite already answered, nor hides one it did not
            left=left,
            instruct=self.instruct,
            target=self.target,
            instruct_unmet=self._unmet(design, accepted, unchanged_reason),
        )
        return OptimizationOutcome(
            completed=completed, steps=self.steps, reasons=reasons, attempts=attempt
        )


async def run_pipeline(
    request: OptimizationRequest,
    agents: Agents,
    *,
    emit: Emit,
    config: EngineConfig | None = None,
    fallback: Agents | None = None,
    on_step: OnStep | None = None,
    meta: RunMeta | None = None,
) -> OptimizationOutcome:
    """Optimize one request on ``agents``; see the module docstring."""
    pipeline = Pipeline(agents, emit=emit, config=config, fallback=fallback, on_step=on_step)
    return await pipeline.run(request, meta)


def to_result(
    done: OptimizationOutcome | OptimizationCompleted, **overrides: Any
) -> OptimizeResult:
    """The ``optimize --json`` result of a run (or of a stored ``OptimizationCompleted``).

    ``overrides`` replace fields of the result, e.g. ``cached=True, duration_ms=1`` when the
    daemon answers from its cache with an earlier event.
    """
    ev = done.completed if isinstance(done, OptimizationOutcome) else done
    result = result_from_event(ev)
    return msgspec.structs.replace(result, **overrides) if overrides else result
