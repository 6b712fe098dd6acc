"""The LLM implementation of the engine's ``Agents`` protocol.

Each agent is one chat completion: a meta-prompt from ``daemon/data/prompts/AGENT.md`` as the
system message (the same bytes for every request, so providers can cache that prefix), the
work as the user message, and ``response_format: json_schema`` built from the agent's output
Struct. The answer is decoded and validated with msgspec; an invalid answer is asked again
once with the validation error, then raises :class:`~promptd.daemon.errors.InvalidAnswerError`. An
endpoint that refuses json_schema (config ``json_schema = false``, or a 400 about it) is
asked with ``json_object`` and the schema in the system message instead.
"""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache
from importlib import resources
from typing import Protocol, TypeVar

import msgspec

from ..engine.types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from ..errors import BudgetError, InvalidAnswerError, ProviderError
from .base import ChatRequest, Message, SchemaUnsupportedError
from .budget_rules import RunHold
from .calls import Meter
from .schema import response_format, schema_text

S = TypeVar("S", bound=msgspec.Struct)
AGENTS = ("deconstructor", "diagnoser", "designer", "evaluator")
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
_encoder = msgspec.json.Encoder()


@lru_cache(maxsize=8)
def meta_prompt(agent: str) -> str:
    """The system prompt of an agent, read once from the package data."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}")
    return resources.files("promptd.daemon").joinpath(f"data/prompts/{agent}.md").read_text("utf-8")


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
    """Whether the endpoint takes json_schema; shared by every agent of one engine."""

    def __init__(self, json_schema: bool) -> None:
        self.json_schema = json_schema


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
        temperature: float = 0.2,
        rule_codes: str = "",
        meta: RunFacts | None = None,
        hold: RunHold | None = None,
    ) -> None:
        self.meter = meter
        self.model = model
        self.model_reason = model_reason
        self.mode = mode or JsonMode(meter.provider.json_schema)
        self.no_cache = no_cache
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.rule_codes = rule_codes
        self.cost_ticks = 0  # spent by this run's calls
        self.calls = 0
        self.cached_calls = 0
        self.degraded_reasons: list[str] = []  # a step answered from a stale cache entry
        self.meta = meta  # kept current: cost so far, degraded when a stale answer was used
        self.hold = hold  # the run's budget hold, given back when the run is over
        self._evaluations = 0

    # --- the protocol --------------------------------------------------------------------

    async def finish(self, reason: str = "optimization finished") -> None:
        """The run is over: give back what is left of its budget hold (idempotent)."""
        if self.hold is not None:
            await self.meter.release(self.hold, reason)

    async def deconstruct(self, ctx: AgentContext) -> Deconstruction:
        user = f"Prompt type: {ctx.prompt_type}\n\n{_tag('prompt', ctx.prompt)}"
        return await self._ask("deconstructor", Deconstruction, user, ctx)

    async def diagnose(self, ctx: AgentContext) -> Diagnosis:
        parts = [f"Prompt type: {ctx.prompt_type}"]
        if self.rule_codes:
            parts.append(_tag("rules", self.rule_codes))
        parts.append(_tag("prompt", ctx.prompt))
        return await self._ask("diagnoser", Diagnosis, "\n\n".join(parts), ctx)

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
        if feedback:
            parts.append(_tag("feedback", feedback))
        return await self._ask("designer", Design, "\n\n".join(parts), ctx)

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation:
        parts = [
            f"Prompt type: {ctx.prompt_type}",
            _tag("original", ctx.prompt),
            _tag("deconstruction", _encoder.encode(deconstruction).decode()),
            _tag("rewrite", design.prompt),
            _tag("changes", _encoder.encode(design.changes).decode()),
        ]
        result = await self._ask("evaluator", Evaluation, "\n\n".join(parts), ctx)
        self._evaluations += 1
        if result.accepted or self._evaluations >= 2:  # the pipeline asks no more after this
            await self.finish()
        return result

    # --- one agent call ------------------------------------------------------------------

    def _request(self, agent: str, struct: type[S], messages: list[Message]) -> ChatRequest:
        system = meta_prompt(agent)
        if not self.mode.json_schema:
            system += "\n" + _tag("schema", schema_text(struct))
        return ChatRequest(
            model=self.model,
            messages=[Message(role="system", content=system), *messages],
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            response_format=response_format(struct, json_schema=self.mode.json_schema),
        )

    async def _complete(
        self,
        agent: str,
        struct: type[S],
        messages: list[Message],
        ctx: AgentContext,
        *,
        fresh: bool = False,
    ) -> tuple[str, bool]:
        """The answer text of one call, and whether it came from the response cache."""
        no_cache = self.no_cache or fresh
        request = self._request(agent, struct, messages)
        try:
            outcome = await self.meter.call(
                request, opt_id=ctx.opt_id, agent=agent, no_cache=no_cache, hold=self.hold
            )
        except SchemaUnsupportedError:
            if not self.mode.json_schema:
                raise
            self.mode.json_schema = False  # this endpoint only knows json_object
            request = self._request(agent, struct, messages)
            outcome = await self.meter.call(
                request, opt_id=ctx.opt_id, agent=agent, no_cache=no_cache, hold=self.hold
            )
        self.calls += 1
        self.cost_ticks += outcome.cost_ticks
        if outcome.cached:
            self.cached_calls += 1
        if outcome.stale:
            self.degraded_reasons.append(
                f"{agent} answered from an earlier cached response ({outcome.stale_reason})"
            )
        if self.meta is not None:
            self.meta.cost_ticks = self.cost_ticks
            if self.degraded_reasons and not self.meta.degraded:
                self.meta.degraded = True
                self.meta.degraded_reason = "; ".join(self.degraded_reasons)
        return outcome.content, outcome.cached

    async def _answer(
        self, agent: str, struct: type[S], messages: list[Message], ctx: AgentContext
    ) -> tuple[str, S | str]:
        """One answer and its decoded value, or the validation error as text.

        A cached answer that does not validate is never trusted twice: the same request is
        asked again, fresh, before the answer counts as invalid.
        """
        content, cached = await self._complete(agent, struct, messages, ctx)
        decoded = _decode(content, struct)
        if isinstance(decoded, str) and cached:
            content, _ = await self._complete(agent, struct, messages, ctx, fresh=True)
            decoded = _decode(content, struct)
        return content, decoded

    async def _ask(self, agent: str, struct: type[S], user: str, ctx: AgentContext) -> S:
        try:
            return await self._ask_once(agent, struct, user, ctx)
        except (ProviderError, BudgetError):
            await asyncio.shield(self.finish("the LLM run failed"))  # the engine falls back
            raise

    async def _ask_once(self, agent: str, struct: type[S], user: str, ctx: AgentContext) -> S:
        messages = [Message(role="user", content=user)]
        content, first = await self._answer(agent, struct, messages, ctx)
        if not isinstance(first, str):
            return first
        messages += [
            Message(role="assistant", content=content),
            Message(
                role="user",
                content=(
                    f"Your answer did not validate: {first}. Answer again with only "
                    "one JSON object that matches the schema."
                ),
            ),
        ]
        _, second = await self._answer(agent, struct, messages, ctx)
        if not isinstance(second, str):
            return second
        raise InvalidAnswerError(
            f"the {agent}'s answer from {self.model} did not validate twice "
            f"({first}; then {second}); try another model with --model, or --engine offline"
        )


def _decode(content: str, struct: type[S]) -> S | str:
    """The answer as ``struct``, or why it is not one."""
    try:
        return msgspec.json.decode(_strip_fences(content), type=struct)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return str(exc)
