"""The LLM implementation of the engine's ``Agents`` protocol, in as few round trips as it can.

The four agents stay four concepts (each records its ``AgentStepCompleted``), but they do
not cost four sequential calls:

* **Deconstructor + Diagnoser**: one call (``analysis``), whose answer holds both; the
  pipeline runs the two steps concurrently and both await that one answer. On the fast route
  the pipeline uses the offline analysis and asks the model nothing before the Designer.
* **Designer**: one call.
* **Evaluator**: the offline rubric first: a rewrite it scores lower is rejected, one it
  scores :data:`DECISIVE_GAIN` or more higher is accepted. Only when it cannot decide (a tie,
  or a gain within its noise) is the model asked, as a pairwise judge: original against
  rewrite in both orders at once (one round trip), to cancel position bias. The judge may
  accept a rewrite the rubric scores the same, never one it scores lower.

So the full route needs two sequential round trips (three when the judge is asked), the fast
route one. Each call's ``max_tokens`` is sized to its answer and to the model's context
(:meth:`LLMAgents.answer_tokens`); an answer cut off at that cap is asked again with a larger
one, never with the same. Answers are decoded into the strict Structs of
:mod:`.answers`; an invalid answer is asked again once with the validation error, then raises
:class:`~promptd.daemon.errors.InvalidAnswerError`. An endpoint that refuses json_schema is
asked with ``json_object`` plus the schema, and :class:`JsonMode` remembers that per model.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from importlib import resources
from typing import Protocol, TypeVar

import msgspec

from ..engine.offline.agents import evaluate_texts
from ..engine.scoring import score
from ..engine.targets import designer_note
from ..engine.text import prompt_hash
from ..engine.types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from ..errors import BudgetError, InvalidAnswerError, ProviderError
from ..events import CacheHit, CacheMiss, Event, LibrarySearched, LintCompleted
from ..library.grounding import Lookup, Material, grounding_of, lookup_answer, render
from .answers import AnalysisAnswer, DesignAnswer, JudgeAnswer, findings_in, lint_key
from .base import ChatRequest, Message, SchemaUnsupportedError, ToolsUnsupportedError
from .budget_rules import RunHold
from .calls import CallOutcome, Meter, estimate_tokens, request_tokens
from .library_tool import MAX_LOOKUPS, SEARCH_TOOL, ToolMode, query_of
from .schema import response_format, schema_text

S = TypeVar("S", bound=msgspec.Struct)
AGENTS = ("deconstructor", "diagnoser", "designer", "evaluator")
REQUESTS = ("analysis", "designer", "evaluator")  # the three kinds of call
ANALYSIS_AGENT = "deconstructor+diagnoser"  # the agent a merged call is booked on
DECISIVE_GAIN = 2  # a rubric gain of this many points (of 100) needs no LLM judge
MIN_ANSWER_TOKENS = 128
DEFAULT_CONTEXT_TOKENS = 4096  # a model the price table does not know: assume a small one
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
_encoder = msgspec.json.Encoder()
_log = logging.getLogger("promptd.providers")


def _read(name: str) -> str:
    return resources.files("promptd.daemon").joinpath(f"data/prompts/{name}.md").read_text("utf-8")


@lru_cache(maxsize=8)
def meta_prompt(kind: str) -> str:
    """The system prompt of an agent or of a kind of call, read once from the package data."""
    if kind == "analysis":
        return (
            _read("analysis")
            .replace("{deconstructor}", _read("deconstructor").strip())
            .replace("{diagnoser}", _read("diagnoser").strip())
        )
    if kind not in AGENTS:
        raise ValueError(f"unknown agent {kind!r}")
    return _read(kind)


def _strip_fences(text: str) -> str:
    match = _FENCE.match(text)
    return match.group("body") if match else text.strip()


def _tag(name: str, body: str) -> str:
    return f"<{name}>\n{body}\n</{name}>"


class RunFacts(Protocol):
    """What the agents keep current on the caller's run record (the engine's ``RunMeta``)."""

    cost_ticks: int
    degraded: bool
    degraded_reason: str


class JsonMode:
    """Which models of one endpoint take json_schema; shared by every run of one engine.

    ``json_schema`` is the default for a model not yet seen to refuse it; a refusal is
    remembered for that model (``modes`` shows what works, for ``promptd status``).
    """

    def __init__(
        self,
        json_schema: bool,
        refused: set[str] | None = None,
        on_refuse: Callable[[str, str], None] | None = None,
    ) -> None:
        self.json_schema = json_schema
        self.refused: set[str] = set(refused or ())  # learned before (:mod:`.modes`)
        self.on_refuse = on_refuse  # records a new refusal, so a restart remembers it

    def schema_for(self, model: str) -> bool:
        return self.json_schema and model not in self.refused

    def refuse(self, model: str, why: str) -> None:
        if model not in self.refused:
            self.refused.add(model)
            _log.warning(
                "%s refuses response_format json_schema (%s): using json_object", model, why
            )
            if self.on_refuse is not None:
                self.on_refuse(model, why)

    def modes(self) -> dict[str, str]:
        return {m: "json_object" for m in sorted(self.refused)}


class LLMAgents:
    """The four agents of one optimization run, on one model."""

    name = "llm"

    def __init__(
        self,
        meter: Meter,
        *,
        model: str,
        model_reason: str = "",
        mode: JsonMode | None = None,
        no_cache: bool = False,
        max_tokens: int = 4096,
        context_tokens: int = 0,
        temperature: float = 0.2,
        rule_codes: str = "",
        rule_names: dict[str, str] | None = None,
        meta: RunFacts | None = None,
        hold: RunHold | None = None,
        tool_mode: ToolMode | None = None,
    ) -> None:
        self.meter = meter
        self.model = model
        self.model_reason = model_reason
        self.mode = mode or JsonMode(meter.provider.json_schema)
        self.no_cache = no_cache
        self.max_tokens = max_tokens  # the most any one answer may take (config)
        self.context_tokens = context_tokens or DEFAULT_CONTEXT_TOKENS
        self.temperature = temperature
        self.rule_codes = rule_codes
        self.rule_names = rule_names or {}
        self.cost_ticks = 0  # spent by this run's calls
        self.calls = 0
        self.cached_calls = 0
        self.dropped_findings = 0  # findings that quoted text the prompt does not have
        self.degraded_reasons: list[str] = []  # a step answered from a stale cache entry
        self.meta = meta  # kept current: cost so far, degraded when a stale answer was used
        self.hold = hold  # the run's budget hold, given back when the run is over
        self._analysis: dict[str, asyncio.Future[AnalysisAnswer]] = {}
        self.analysis_cached = False  # the analysis came from the lint cache
        # the library's examples and passages for the Designer, and what it was given
        self.grounding: list[Material] = []
        self.grounded: list[Material] = []
        # the Designer's search_library tool (None: no library, or no tool calling)
        self.lookup: Callable[[str], Awaitable[Lookup]] | None = None
        self.tool_mode = tool_mode
        self.lookups = 0  # done this run (at most MAX_LOOKUPS)
        self._evaluations = 0

    # --- the protocol --------------------------------------------------------------------

    async def finish(self, reason: str = "optimization finished") -> None:
        """The run is over: give back what is left of its budget hold (idempotent)."""
        if self.hold is not None:
            await self.meter.release(self.hold, reason)

    async def deconstruct(self, ctx: AgentContext) -> Deconstruction:
        return (await self.analyze(ctx)).deconstruction.to_engine()

    async def diagnose(self, ctx: AgentContext) -> Diagnosis:
        diagnosis, dropped = findings_in(
            ctx.prompt, (await self.analyze(ctx)).findings, self.rule_names
        )
        if dropped:
            self.dropped_findings += dropped
            _log.info(
                "%s: dropped %d finding(s) of %s that quote text not in the prompt",
                ctx.opt_id or "lint",
                dropped,
                self.model,
            )
        return diagnosis

    def analyze(self, ctx: AgentContext) -> asyncio.Future[AnalysisAnswer]:
        """The one analysis call of this prompt, shared by the Deconstructor and Diagnoser."""
        key = f"{ctx.prompt_type}\0{ctx.prompt}"
        future = self._analysis.get(key)
        if future is None or (future.done() and future.cancelled()):
            parts = [f"Prompt type: {ctx.prompt_type}"]
            if self.rule_codes:
                parts.append(_tag("rules", self.rule_codes))
            parts.append(_tag("prompt", ctx.prompt))
            future = asyncio.ensure_future(self._analysis_of(ctx, "\n\n".join(parts)))
            self._analysis[key] = future
        return future

    async def _analysis_of(self, ctx: AgentContext, user: str) -> AnalysisAnswer:
        """The analysis from the lint cache (2 h), else from the model, then kept there."""
        log = self.meter.log
        key = lint_key(ctx.prompt, ctx.prompt_type, self.model)
        if not self.no_cache:
            with log.view() as view:
                entry = view.cache.get("lint", key, time.time_ns())
            event = getattr(entry, "event", None)
            raw = getattr(event, "analysis", b"")
            if isinstance(event, LintCompleted) and raw:
                cached = _decode(bytes(raw).decode("utf-8"), AnalysisAnswer)
                if not isinstance(cached, str):
                    self.analysis_cached = True
                    hit = CacheHit(cache="lint", key=key, opt_id=ctx.opt_id)
                    self.meter.background(log.append([hit]))
                    return cached
        answer = await self._ask("analysis", AnalysisAnswer, user, ctx)
        diagnosis, _ = findings_in(ctx.prompt, answer.findings, self.rule_names)
        done = LintCompleted(
            key=key,
            prompt_hash=prompt_hash(ctx.prompt),
            findings=list(diagnosis.findings),
            score=score(ctx.prompt, ctx.prompt_type, list(diagnosis.findings)).scores.total,
            engine="llm",
            model=self.model,
            analysis=_encoder.encode(answer),
        )
        miss: list[Event] = [] if self.no_cache else [CacheMiss(cache="lint", key=key)]
        await log.append([*miss, done])
        return answer

    async def design(
        self,
        ctx: AgentContext,
        deconstruction: Deconstruction,
        diagnosis: Diagnosis,
        feedback: str = "",
    ) -> Design:
        parts = [
            f"Prompt type: {ctx.prompt_type}",
            _tag("prompt", ctx.prompt),
            _tag("deconstruction", _encoder.encode(deconstruction).decode()),
            _tag("findings", _encoder.encode(diagnosis.findings).decode()),
        ]
        if ctx.instruct:  # the author's explicit wish (promptd optimize --instruct)
            parts.append(_tag("instruction", ctx.instruct))
        if ctx.target and designer_note(ctx.target):  # promptd optimize --for
            parts.append(_tag("target_model", designer_note(ctx.target)))
        if self.grounding:  # examples of the author's kept rewrites, library passages
            parts.append(render(self.grounding))
            if not self.grounded:  # a second try keeps what the first looked up
                self.grounded = list(self.grounding)
        if feedback:
            parts.append(_tag("feedback", feedback))
        answer = await self._ask("designer", DesignAnswer, "\n\n".join(parts), ctx)
        return answer.to_engine()

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation:
        """The rubric first; the pairwise LLM judge only when the rubric cannot decide."""
        result = evaluate_texts(ctx.prompt, design.prompt, ctx.prompt_type)
        gain = result.after.total - result.before.total
        if design.prompt != ctx.prompt and 0 <= gain < DECISIVE_GAIN:
            result = await self._judged(ctx, design, result)
        else:
            result = msgspec.structs.replace(
                result,
                reasons=[*result.reasons, f"decided by the rubric (gain {gain:+d}), no LLM judge"],
            )
        self._evaluations += 1
        if result.accepted or self._evaluations >= 2:  # the pipeline asks no more after this
            await self.finish()
        return result

    async def _judged(self, ctx: AgentContext, design: Design, rubric: Evaluation) -> Evaluation:
        """Ask the judge with the original first and with the rewrite first, at once."""

        def pair(a: str, b: str) -> str:
            return "\n\n".join(
                [f"Prompt type: {ctx.prompt_type}", _tag("prompt_a", a), _tag("prompt_b", b)]
            )

        try:
            first, second = await asyncio.gather(
                self._ask("evaluator", JudgeAnswer, pair(ctx.prompt, design.prompt), ctx),
                self._ask("evaluator", JudgeAnswer, pair(design.prompt, ctx.prompt), ctx),
            )
        except (ProviderError, BudgetError) as exc:
            reason = f"the LLM judge could not answer ({exc}); the rubric decided"
            return msgspec.structs.replace(rubric, reasons=[*rubric.reasons, reason])
        return combine_verdicts(rubric, first, second)

    # --- one agent call ------------------------------------------------------------------

    def answer_tokens(self, kind: str, prompt: str, input_tokens: int) -> int:
        """``max_tokens`` of one call (see :func:`answer_tokens`)."""
        return answer_tokens(kind, prompt, input_tokens, self.max_tokens, self.context_tokens)

    def _request(
        self, kind: str, struct: type[S], messages: list[Message], max_tokens: int
    ) -> ChatRequest:
        system = meta_prompt(kind)
        json_schema = self.mode.schema_for(self.model)
        if not json_schema:
            system += "\n" + _tag("schema", schema_text(struct))
        choice = self._tool_choice(kind)
        return ChatRequest(
            model=self.model,
            messages=[Message(role="system", content=system), *messages],
            max_tokens=max_tokens,
            temperature=self.temperature,
            response_format=response_format(struct, json_schema=json_schema),
            tools=[SEARCH_TOOL] if choice else None,
            tool_choice=choice or None,
        )

    def _tool_choice(self, kind: str) -> str:
        """ "auto" when the Designer may look something up, "none" when it has used its
        lookups, "" when it has no tool (other agents, no library, no tool calling)."""
        if kind != "designer" or self.lookup is None or self.tool_mode is None:
            return ""
        if not self.tool_mode.allowed(self.model):
            return ""
        return "auto" if self.lookups < MAX_LOOKUPS else "none"

    async def _looked_up(
        self, messages: list[Message], outcome: CallOutcome, ctx: AgentContext
    ) -> list[Message]:
        """``messages`` with the model's tool calls and the answers of its lookups; each
        lookup is recorded as a ``LibrarySearched`` event."""
        answers: list[Message] = []
        searched: list[Event] = []
        cost = outcome.cost_ticks  # the round trip that asked: booked on its first lookup
        for call in outcome.tool_calls:
            query = query_of(call)
            if self.lookup is None or not query or self.lookups >= MAX_LOOKUPS:
                why = "no query given" if not query else f"at most {MAX_LOOKUPS} lookups a run"
                answers.append(
                    Message(role="tool", tool_call_id=call.id, content=f"Not searched: {why}.")
                )
                continue
            self.lookups += 1
            found = await self.lookup(query)
            found.materials = [msgspec.structs.replace(m, query=query) for m in found.materials]
            self.grounded += found.materials
            searched.append(
                LibrarySearched(
                    opt_id=ctx.opt_id,
                    query=query,
                    hits=grounding_of(found.materials),
                    duration_ms=found.duration_ms,
                    call_id=outcome.call_id,
                    cost_ticks=cost,
                    note=found.note,
                )
            )
            cost = 0
            answers.append(Message(role="tool", tool_call_id=call.id, content=lookup_answer(found)))
        if searched:
            await self.meter.log.append(searched)
        asked = Message(role="assistant", content=outcome.content, tool_calls=outcome.tool_calls)
        return [*messages, asked, *answers]

    def _sized(
        self, kind: str, struct: type[S], messages: list[Message], ctx: AgentContext
    ) -> ChatRequest:
        draft = self._request(kind, struct, messages, 0)
        tokens = self.answer_tokens(kind, ctx.prompt, request_tokens(draft))
        return msgspec.structs.replace(draft, max_tokens=tokens)

    async def _complete(
        self,
        kind: str,
        struct: type[S],
        messages: list[Message],
        ctx: AgentContext,
        *,
        fresh: bool = False,
    ) -> tuple[str, bool]:
        """The answer text of one call, and whether it came from the response cache."""
        no_cache = self.no_cache or fresh
        agent = ANALYSIS_AGENT if kind == "analysis" else kind
        request = self._sized(kind, struct, messages, ctx)
        while True:
            try:
                outcome = await self.meter.call(
                    request,
                    opt_id=ctx.opt_id,
                    agent=agent,
                    no_cache=no_cache,
                    hold=self.hold,
                    wait=kind != "evaluator",  # the judge is optional: the rubric decides
                )
            except ToolsUnsupportedError as exc:
                if self.tool_mode is None or not request.tools:
                    raise
                self.tool_mode.refuse(self.model, str(exc))
                messages = [m for m in messages if m.role != "tool" and not m.tool_calls]
                request = self._sized(kind, struct, messages, ctx)
                continue
            except SchemaUnsupportedError as exc:
                if not self.mode.schema_for(self.model):
                    raise
                self.mode.refuse(self.model, str(exc))
                request = self._sized(kind, struct, messages, ctx)
                continue
            self._book(agent, outcome.cost_ticks, outcome.cached, outcome.stale_reason)
            if outcome.tool_calls and request.tool_choice == "auto":
                messages = await self._looked_up(messages, outcome, ctx)
                request = self._sized(kind, struct, messages, ctx)
                continue
            if outcome.finish_reason != "length":
                return outcome.content, outcome.cached
            request = self._larger(agent, request)

    def _larger(self, agent: str, request: ChatRequest) -> ChatRequest:
        """The request again with room for the answer that was cut off, or why not."""
        room = min(self.max_tokens, self.context_tokens - request_tokens(request) - 32)
        if room <= request.max_tokens:
            raise InvalidAnswerError(
                f"the {agent}'s answer from {self.model} was cut off at {request.max_tokens} "
                "tokens, all the model's context and provider.max_output_tokens allow; use a "
                "model with a larger context (provider.context_tokens) or --engine offline"
            )
        bigger = min(room, 2 * request.max_tokens)
        _log.info(
            "%s's answer from %s was cut off at %d tokens: asking again with %d",
            agent,
            self.model,
            request.max_tokens,
            bigger,
        )
        return msgspec.structs.replace(request, max_tokens=bigger)

    def _book(self, agent: str, cost: int, cached: bool, stale_reason: str) -> None:
        self.calls += 1
        self.cost_ticks += cost
        if cached:
            self.cached_calls += 1
        if stale_reason:
            self.degraded_reasons.append(
                f"{agent} answered from an earlier cached response ({stale_reason})"
            )
        if self.meta is not None:
            self.meta.cost_ticks = self.cost_ticks
            if self.degraded_reasons and not self.meta.degraded:
                self.meta.degraded = True
                self.meta.degraded_reason = "; ".join(self.degraded_reasons)

    async def _answer(
        self, kind: str, struct: type[S], messages: list[Message], ctx: AgentContext
    ) -> tuple[str, S | str]:
        """One answer and its decoded value, or the validation error as text.

        A cached answer that does not validate is never trusted twice: the same request is
        asked again, fresh, before the answer counts as invalid.
        """
        content, cached = await self._complete(kind, struct, messages, ctx)
        decoded = _decode(content, struct)
        if isinstance(decoded, str) and cached:
            content, _ = await self._complete(kind, struct, messages, ctx, fresh=True)
            decoded = _decode(content, struct)
        return content, decoded

    async def _ask(self, kind: str, struct: type[S], user: str, ctx: AgentContext) -> S:
        try:
            return await self._ask_once(kind, struct, user, ctx)
        except (ProviderError, BudgetError):
            if kind != "evaluator":  # a failed judge leaves the rubric's verdict, not a fallback
                await asyncio.shield(self.finish("the LLM run failed"))  # the engine falls back
            raise

    async def _ask_once(self, kind: str, struct: type[S], user: str, ctx: AgentContext) -> S:
        messages = [Message(role="user", content=user)]
        content, first = await self._answer(kind, struct, messages, ctx)
        if not isinstance(first, str):
            return first
        _log.info(
            "the %s answer from %s did not validate (%s): asking once more", kind, self.model, first
        )
        messages += [
            Message(role="assistant", content=content),
            Message(
                role="user",
                content=(
                    f"Your answer did not validate: {first}. Answer again with only "
                    "one JSON object that matches the schema, every field present."
                ),
            ),
        ]
        _, second = await self._answer(kind, struct, messages, ctx)
        if not isinstance(second, str):
            return second
        agent = ANALYSIS_AGENT if kind == "analysis" else kind
        raise InvalidAnswerError(
            f"the {agent}'s answer from {self.model} did not validate twice "
            f"({first}; then {second}); try another model with --model, or --engine offline"
        )


def answer_tokens(
    kind: str, prompt: str, input_tokens: int, max_tokens: int, context_tokens: int
) -> int:
    """``max_tokens`` of one call: what its answer needs, within the model's context.

    The analysis quotes pieces of the prompt and lists findings; the Designer writes the
    prompt again (up to twice as long) and its changes; the judge writes a few reasons.
    ``max_tokens`` (``provider.max_output_tokens``) caps every answer.
    """
    size = estimate_tokens(prompt)
    want = {"analysis": size + 900, "designer": 2 * size + 600}.get(kind, 500)
    room = (context_tokens or DEFAULT_CONTEXT_TOKENS) - input_tokens - 32
    return max(MIN_ANSWER_TOKENS, min(want, max_tokens, room))


def combine_verdicts(rubric: Evaluation, first: JudgeAnswer, second: JudgeAnswer) -> Evaluation:
    """The Evaluator's result from the judge's two orders (original first, rewrite first).

    Each order votes for the original, the rewrite or neither; a verdict that flips with the
    order is position bias and cancels out. The rewrite is accepted when it gets more votes,
    or as many and the rubric accepts it. Scores stay the rubric's (one 0-100 scale); the
    judge's own 0-100 scores and its reasons go into ``reasons``.
    """
    for_rewrite = (first.better == "B") + (second.better == "A")
    for_original = (first.better == "A") + (second.better == "B")
    accepted = for_rewrite > for_original or (for_rewrite == for_original and rubric.accepted)
    original = (first.score_a + second.score_b) // 2
    rewrite = (first.score_b + second.score_a) // 2
    lost = list(dict.fromkeys([*first.lost_or_invented, *second.lost_or_invented]))
    reasons = [
        *rubric.reasons,
        f"LLM judge, both orders: {for_rewrite} vote(s) for the rewrite, {for_original} for "
        f"the original; judged {original} -> {rewrite}",
        *(f"judge (original first): {r}" for r in first.reasons),
        *(f"judge (rewrite first): {r}" for r in second.reasons),
        *(f"lost or invented: {item}" for item in lost),
    ]
    feedback = ""
    if not accepted:
        reasons.append("rejected by the LLM judge")
        feedback = "The judge preferred the original: " + "; ".join(
            lost or [*first.reasons, *second.reasons][:3]
        )
    return msgspec.structs.replace(rubric, accepted=accepted, reasons=reasons, feedback=feedback)


def _decode(content: str, struct: type[S]) -> S | str:
    """The answer as ``struct``, or why it is not one."""
    try:
        return msgspec.json.decode(_strip_fences(content), type=struct)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return str(exc)
