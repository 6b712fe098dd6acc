"""One ``promptd eval``: run both versions on each sample, judge the outputs in both orders.

::

    run = EvalRun(engine, original=..., candidate=..., samples=None | [...], ...)
    run.estimate()               # calls and cost, before anything is spent
    done = await run.run(progress)   # the EvaluationCompleted it recorded

Every model call goes through the engine's :class:`~promptd.daemon.providers.calls.Meter`:
the response cache answers identical calls, each call's worst case is reserved against the
budget before it leaves, the breaker fails fast, and each call is recorded as usual
(``ProviderCallCompleted``, agent ``eval.target`` / ``eval.judge`` / ``eval.draft``). A
refused budget or a failing provider stops the evaluation cleanly: it is recorded as
``stopped`` with the samples done and what they cost. Repeats of a sample (``runs`` > 1)
after the first call the target model afresh (a cached answer would only repeat the first).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec

from .. import api
from ..engine.text import prompt_hash
from ..errors import BudgetError, InvalidAnswerError, ProviderError
from ..events import EvaluationCompleted, EvalVerdict
from ..providers.base import ChatRequest, Message, SchemaUnsupportedError
from ..providers.budget_rules import periods
from ..providers.calls import MESSAGE_OVERHEAD_TOKENS, CallOutcome, estimate_tokens
from ..providers.ports import budget_state
from ..providers.prices import Usage, cost_ticks, worst_case_ticks
from ..providers.schema import response_format, schema_text
from ..values import ticks_to_usd
from . import asks, tally
from .samples import Sample, check_samples, fill, variables
from .types import EvalEstimate

if TYPE_CHECKING:
    from ..providers import LLMEngine

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")
U = TypeVar("U")
Progress = Callable[[api.Progress], None]

TARGET_MAX_TOKENS: Final = 1024  # each version's output is capped here (and by the config)
JUDGE_MAX_TOKENS: Final = 400
DRAFT_MAX_TOKENS: Final = 2000
TARGET_TEMPERATURE: Final = 0.7  # the prompts run as they would in use
OUTPUT_CHARS: Final = 600  # what the event keeps of each output
VALUE_CHARS: Final = 200  # ... of each input value
REASON_CHARS: Final = 300  # ... of each of the judge's reasons
_VARIABLE_TOKENS: Final = 60  # a drafted value's size, for the estimate


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _preview(text: str) -> str:
    return _cut(text.strip().split("\n", 1)[0].strip(), 80)


def _decode(content: str, struct: type[S]) -> S | str:
    body = content.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[-1].rsplit("```", 1)[0]
    try:
        return msgspec.json.decode(body, type=struct)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return str(exc)


class EvalRun:
    """One evaluation of ``candidate`` against ``original`` on one engine."""

    def __init__(
        self,
        engine: LLMEngine,
        *,
        original: str,
        candidate: str,
        samples: list[Sample] | None,
        target_model: str = "",
        judge_model: str = "",
        runs: int = 1,
        opt_id: str = "",
        source: str = "cli",
        inputs_name: str = "the inputs",
    ) -> None:
        self.engine = engine
        self.original = original
        self.candidate = candidate
        self.samples = samples
        self.target_model = target_model or engine.provider.model
        self.judge_model = judge_model or self.target_model
        self.runs = runs
        self.opt_id = opt_id
        self.source = source
        self.inputs_name = inputs_name
        self.eval_id = "ev_" + uuid.uuid4().hex[:20]
        self.names = list(dict.fromkeys([*variables(original), *variables(candidate)]))
        self.cost_ticks = 0
        self.calls = 0
        self.cached_calls = 0
        self._cut_off: list[int] = []  # worst cases of the calls a stop cut off
        if samples is not None:
            check_samples(samples, self._prompts(), inputs_name)

    def _prompts(self) -> dict[str, str]:
        return {"original": self.original, "candidate": self.candidate}

    @property
    def drafts(self) -> bool:
        """Whether the inputs are to be drafted (none given, and there is something to fill)."""
        return self.samples is None and bool(self.names)

    def _planned_samples(self) -> int:
        if self.samples is not None:
            return len(self.samples)
        return asks.DRAFTS if self.names else 1

    # --- the estimate --------------------------------------------------------------------

    def _target_max(self, input_tokens: int) -> int:
        context = self.engine.context_tokens(self.target_model)
        cap = min(TARGET_MAX_TOKENS, self.engine.config.provider.max_output_tokens)
        return max(128, min(cap, context - input_tokens - 32))

    def estimate(self) -> EvalEstimate:
        """What the evaluation will call and cost; no call is made."""
        prices = self.engine.prices
        target_price = prices.get(self.target_model)
        judge_price = prices.get(self.judge_model)
        samples = self.samples or [Sample(vars={n: "x" * 3 * _VARIABLE_TOKENS for n in self.names})]
        typical = worst = 0
        judge_system = estimate_tokens(asks.JUDGE_SYSTEM + schema_text(asks.JudgeVerdict))
        for sample in samples:
            outputs = 0
            for text in (self.original, self.candidate):
                tokens = estimate_tokens(fill(text, sample.vars)) + MESSAGE_OVERHEAD_TOKENS
                out = self._target_max(tokens)
                outputs += out
                if target_price is not None:
                    usage = Usage(prompt_tokens=tokens, completion_tokens=out // 2)
                    typical += cost_ticks(target_price, usage)
                    worst += worst_case_ticks(target_price, tokens, out)
            task = estimate_tokens(fill(self.original, sample.vars))
            extra = estimate_tokens(sample.expected + " ".join(sample.criteria))
            judge_in = judge_system + task + extra + outputs + 3 * MESSAGE_OVERHEAD_TOKENS
            if judge_price is not None:
                usage = Usage(prompt_tokens=judge_in, completion_tokens=JUDGE_MAX_TOKENS // 2)
                typical += 2 * cost_ticks(judge_price, usage)
                worst += 2 * worst_case_ticks(judge_price, judge_in, JUDGE_MAX_TOKENS)
        factor = self.runs * (self._planned_samples() if self.samples is None else 1)
        typical, worst = typical * factor, worst * factor
        if self.drafts and target_price is not None:
            draft_in = estimate_tokens(asks.DRAFT_SYSTEM + schema_text(asks.DraftAnswer))
            draft_in += estimate_tokens(self.original + self.candidate) + 50
            draft_max = self._draft_max()
            usage = Usage(prompt_tokens=draft_in, completion_tokens=draft_max // 2)
            typical += cost_ticks(target_price, usage)
            worst += worst_case_ticks(target_price, draft_in, draft_max)
        pairs = ((self.target_model, target_price), (self.judge_model, judge_price))
        unpriced = sorted({m for m, p in pairs if p is None})
        notes = []
        if self.samples is None and not self.names:
            notes.append("the prompts have no placeholders: each runs as it is, once per --runs")
        if unpriced:
            notes.append(f"no price known for {', '.join(unpriced)}: its calls count as $0")
        short = self._budget_short_of(worst)
        if short:
            notes.append(short)
        comparisons = self._planned_samples() * self.runs
        return EvalEstimate(
            opt_id=self.opt_id,
            target_model=self.target_model,
            judge_model=self.judge_model,
            samples=self._planned_samples(),
            drafted=self.drafts,
            runs=self.runs,
            comparisons=comparisons,
            calls=4 * comparisons + int(self.drafts),
            estimated_usd=ticks_to_usd(typical),
            worst_case_usd=ticks_to_usd(worst),
            variables=self.names,
            note="; ".join(notes),
        )

    def _budget_short_of(self, worst: int) -> str:
        """A warning when a budget has less left than the eval's worst case, else ""."""
        day, month = periods()
        with self.engine.log.view() as view:
            state = budget_state(view, self.engine.meter.limits, day, month)
        for name, limit, used in (
            ("daily", state.daily_ticks, state.day_spent + state.day_reserved),
            ("monthly", state.monthly_ticks, state.month_spent + state.month_reserved),
        ):
            if limit is not None and limit - used < worst:
                left = ticks_to_usd(max(0, limit - used))
                return (
                    f"the {name} budget has ${left:.4f} left, less than the most this eval "
                    f"can cost: it may stop part-way (promptd budget --{name} USD raises it)"
                )
        return ""

    def _draft_max(self) -> int:
        return min(DRAFT_MAX_TOKENS, self.engine.config.provider.max_output_tokens)

    # --- the run -------------------------------------------------------------------------

    async def run(self, progress: Progress) -> EvaluationCompleted:
        """Evaluate, record ``EvaluationCompleted`` (also when stopped), and return it."""
        started = time.perf_counter()
        verdicts: list[EvalVerdict] = []
        stopped = ""
        samples = self.samples
        total = self._planned_samples() * self.runs
        try:
            if samples is None:
                samples = await self._draft() if self.names else [Sample()]
            total = len(samples) * self.runs
            for index, sample in enumerate(samples):
                for repeat in range(self.runs):
                    progress(self._progress(len(verdicts), total, f"sample {index + 1}"))
                    verdicts.append(await self._compare(index, repeat, sample))
            progress(self._progress(len(verdicts), total, "done"))
        except (BudgetError, ProviderError) as exc:
            # the Meter's advice names optimize's --engine, which eval does not have
            stopped = str(exc).replace(" or use --engine offline", "")
        except asyncio.CancelledError:
            cut = self._cut_off
            self.calls += len(cut)
            self.cost_ticks += sum(cut)
            why = "the daemon stopped" + (
                f" ({len(cut)} call(s) cut off, booked at their reservation)" if cut else ""
            )
            done = self._completed(verdicts, total, why, started)
            await asyncio.shield(self.engine.log.append([done]))
            raise
        done = self._completed(verdicts, total, stopped, started)
        await self.engine.log.append([done])
        return done

    def _progress(self, done: int, total: int, message: str) -> api.Progress:
        return api.Progress(
            token="",
            kind="eval",
            message=message,
            done=done,
            total=total,
            opt_id=self.opt_id,
            cost_usd=ticks_to_usd(self.cost_ticks),
        )

    def _completed(
        self, verdicts: list[EvalVerdict], total: int, stopped: str, started: float
    ) -> EvaluationCompleted:
        wins = sum(v.verdict == "win" for v in verdicts)
        ties = sum(v.verdict == "tie" for v in verdicts)
        losses = sum(v.verdict == "loss" for v in verdicts)
        score, low, high = tally.summary(wins, ties, losses)
        return EvaluationCompleted(
            eval_id=self.eval_id,
            opt_id=self.opt_id,
            original_hash=prompt_hash(self.original),
            candidate_hash=prompt_hash(self.candidate),
            original_preview=_preview(self.original),
            candidate_preview=_preview(self.candidate),
            target_model=self.target_model,
            judge_model=self.judge_model,
            runs=self.runs,
            drafted=self.drafts,
            planned=total,
            wins=wins,
            ties=ties,
            losses=losses,
            score=score,
            low=low,
            high=high,
            cost_ticks=self.cost_ticks,
            calls=self.calls,
            cached_calls=self.cached_calls,
            status="stopped" if stopped else "completed",
            stopped_reason=stopped,
            source=self.source,
            duration_ms=round((time.perf_counter() - started) * 1000),
            verdicts=verdicts,
        )

    async def _compare(self, index: int, repeat: int, sample: Sample) -> EvalVerdict:
        original = fill(self.original, sample.vars)
        candidate = fill(self.candidate, sample.vars)
        fresh = repeat > 0
        out_o, out_c = await self._both(
            self._target(original, fresh), self._target(candidate, fresh)
        )
        first, second = await self._both(
            self._judge(original, sample, out_o, out_c),  # A = the original's output
            self._judge(original, sample, out_c, out_o),  # A = the candidate's output
        )
        pick1: tally.Pick = "invalid"
        pick2: tally.Pick = "invalid"
        if not isinstance(first, str):
            pick1 = tally.pick_of(first.better, candidate_is="B")
        if not isinstance(second, str):
            pick2 = tally.pick_of(second.better, candidate_is="A")
        reasons: list[str] = []
        for label, answer in (("original as A", first), ("candidate as A", second)):
            if isinstance(answer, str):
                reasons.append(_cut(f"{label}: the judge's answer was invalid ({answer})", 300))
            else:
                reasons += [_cut(f"{label}: {r}", REASON_CHARS) for r in answer.reasons[:3]]
        return EvalVerdict(
            index=index,
            run=repeat,
            verdict=tally.verdict(pick1, pick2),
            first=pick1,
            second=pick2,
            reasons=reasons,
            inputs={k: _cut(v, VALUE_CHARS) for k, v in sample.vars.items()},
            original_output=_cut(out_o, OUTPUT_CHARS),
            candidate_output=_cut(out_c, OUTPUT_CHARS),
        )

    async def _both(self, a: Coroutine[Any, Any, T], b: Coroutine[Any, Any, U]) -> tuple[T, U]:
        """Both calls at once; both finish (and are booked) before an error of one is raised,
        so a stopped evaluation reports everything it spent."""
        x, y = await asyncio.gather(a, b, return_exceptions=True)
        for result in (x, y):
            if isinstance(result, BaseException):
                raise result
        return x, y

    async def _call(self, request: ChatRequest, agent: str, *, fresh: bool = False) -> CallOutcome:
        meter = self.engine.meter
        try:
            outcome = await meter.call(request, agent=agent, no_cache=fresh)
        except asyncio.CancelledError:
            # a call cut off by a stop is booked at its reservation (its worst case)
            self._cut_off.append(meter.worst_case(request))
            raise
        self.calls += 1
        self.cost_ticks += outcome.cost_ticks
        self.cached_calls += outcome.cached
        return outcome

    async def _target(self, prompt: str, fresh: bool) -> str:
        """One version's output on the target model (the prompt as the user's message)."""
        tokens = estimate_tokens(prompt) + MESSAGE_OVERHEAD_TOKENS
        request = ChatRequest(
            model=self.target_model,
            messages=[Message(role="user", content=prompt)],
            max_tokens=self._target_max(tokens),
            temperature=TARGET_TEMPERATURE,
        )
        return (await self._call(request, "eval.target", fresh=fresh)).content

    async def _judge(self, task: str, sample: Sample, a: str, b: str) -> asks.JudgeVerdict | str:
        """The judge's verdict on one order, or why its answer was invalid."""
        user = asks.judge_user(task, sample, a, b)
        return await self._ask(
            self.judge_model,
            asks.JUDGE_SYSTEM,
            user,
            asks.JudgeVerdict,
            JUDGE_MAX_TOKENS,
            "eval.judge",
        )

    async def _draft(self) -> list[Sample]:
        """Five varied inputs from the target model, each filling every placeholder."""
        user = asks.draft_user(self.original, self.candidate, self.names)
        answer = await self._ask(
            self.target_model,
            asks.DRAFT_SYSTEM,
            user,
            asks.DraftAnswer,
            self._draft_max(),
            "eval.draft",
        )
        samples = [] if isinstance(answer, str) else asks.drafted_samples(answer, self.names)
        if not samples:
            why = answer if isinstance(answer, str) else "no input gave every placeholder a value"
            raise InvalidAnswerError(
                f"{self.target_model} drafted no usable inputs ({why}); give samples with "
                "--inputs FILE (one JSON object a line)"
            )
        return samples

    async def _ask(
        self,
        model: str,
        system: str,
        user: str,
        struct: type[S],
        max_tokens: int,
        agent: str,
    ) -> S | str:
        """A JSON answer as ``struct``; asked once more with the validation error, then the
        error as text. An endpoint that refuses json_schema gets json_object + the schema."""
        messages = [Message(role="user", content=user)]
        error = ""
        for attempt in range(2):
            while True:
                json_schema = self.engine.mode.schema_for(model)
                request = ChatRequest(
                    model=model,
                    messages=[
                        Message(
                            role="system",
                            content=system
                            if json_schema
                            else system + "\n" + asks.tag("schema", schema_text(struct)),
                        ),
                        *messages,
                    ],
                    max_tokens=max_tokens,
                    temperature=0.0,
                    response_format=response_format(struct, json_schema=json_schema),
                )
                try:
                    outcome = await self._call(request, agent, fresh=attempt > 0)
                except SchemaUnsupportedError as exc:
                    if not json_schema:
                        raise
                    self.engine.mode.refuse(model, str(exc))
                    continue
                break
            decoded = _decode(outcome.content, struct)
            if not isinstance(decoded, str):
                return decoded
            error = decoded
            messages += [
                Message(role="assistant", content=outcome.content),
                Message(
                    role="user",
                    content=f"Your answer did not validate: {error}. Answer again with only "
                    "one JSON object that matches the schema, every field present.",
                ),
            ]
        return error
