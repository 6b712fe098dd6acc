"""Typed inputs and outputs of the four agents (DESIGN.md "Optimization").

Both engines produce exactly these Structs: the offline rules engine directly, the LLM
engine by asking the model for JSON that matches ``msgspec.json.schema(...)`` of them.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from ..values import Change, Finding, Scores

Route = Literal["fast", "full"]


class Deconstruction(msgspec.Struct, frozen=True, kw_only=True):
    """What the prompt is made of. Strings are verbatim pieces of the original."""

    role: str = ""
    tasks: list[str] = msgspec.field(default_factory=list)
    audience: str = ""
    context: str = ""
    constraints: list[str] = msgspec.field(default_factory=list)
    output_format: str = ""
    examples: list[str] = msgspec.field(default_factory=list)
    input_data: list[str] = msgspec.field(default_factory=list)
    placeholders: list[str] = msgspec.field(default_factory=list)


class Diagnosis(msgspec.Struct, frozen=True, kw_only=True):
    findings: list[Finding] = msgspec.field(default_factory=list)


class Design(msgspec.Struct, frozen=True, kw_only=True):
    """The rewritten prompt, and for each change the finding(s) it answers."""

    prompt: str
    changes: list[Change] = msgspec.field(default_factory=list)
    # the parts of the instruction or target conventions the Designer could not honour,
    # each with a short reason (the offline engine's; an LLM's rewrite is measured instead)
    unmet: list[str] = msgspec.field(default_factory=list)


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    before: Scores
    after: Scores
    accepted: bool
    reasons: list[str] = msgspec.field(default_factory=list)  # per criterion, and why rejected
    feedback: str = ""  # for the Designer's second try


class AgentContext(msgspec.Struct, frozen=True, kw_only=True):
    """What every agent sees: the prompt, its type, and the run it belongs to."""

    opt_id: str
    prompt: str
    prompt_type: str  # a concrete type (auto is resolved before the agents run)
    model: str = ""
    instruct: str = ""  # the author's instruction for this rewrite ("more formal, ...")
    target: str = ""  # the model family it is written for: grok | gpt | claude | llama | generic


class Agents(Protocol):
    """One engine's implementation of the four agents (offline rules, or an LLM)."""

    name: str  # "offline" | "llm"

    async def deconstruct(self, ctx: AgentContext) -> Deconstruction: ...

    async def diagnose(self, ctx: AgentContext) -> Diagnosis: ...

    async def design(
        self,
        ctx: AgentContext,
        deconstruction: Deconstruction,
        diagnosis: Diagnosis,
        feedback: str = "",
    ) -> Design: ...

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation: ...
