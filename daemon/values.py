"""Value types shared by the engine, the events and the control API.

They are embedded in stored events, so they follow the event rules: new fields get
defaults, a field never changes type, and unknown fields are ignored on decode.
"""

from __future__ import annotations

from typing import Literal

import msgspec

PromptType = Literal["general", "creative", "technical", "analytical", "code"]
PROMPT_TYPES: tuple[str, ...] = ("general", "creative", "technical", "analytical", "code")
Severity = Literal["error", "warning", "info", "hint"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info", "hint")

TICKS_PER_USD = 10_000_000_000


def usd_to_ticks(usd: float) -> int:
    """Dollars (as people type them) to integer USD ticks, rounded to the nearest tick."""
    return round(usd * TICKS_PER_USD)


def ticks_to_usd(ticks: int) -> float:
    """Integer USD ticks to dollars, for display and JSON output only."""
    return ticks / TICKS_PER_USD


def usd(value: float | None, none: str = "-") -> str:
    """Dollars as people read them: ``$1,234.56``, ``$0.0042`` under a cent, ``none`` for
    no value (the CLI's tables and the dashboard's overview alike)."""
    if value is None:
        return none
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


class Span(msgspec.Struct, frozen=True, kw_only=True):
    """A half-open range of code points in the original prompt, plus its 1-based line/col."""

    start: int
    end: int
    line: int = 1
    col: int = 1


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One diagnosis: a rule code (``PD001``...), how bad it is, and how to fix it."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    needs_input: bool = False  # only the author can resolve it ("which aspects of dogs?")
    rule: str = ""  # short rule name, e.g. "vague-term"


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One edit the Designer made, and the finding codes it answers."""

    description: str
    findings: list[str] = msgspec.field(default_factory=list)
    kind: str = "edit"  # edit | structure | remove | add


class Related(msgspec.Struct, frozen=True, kw_only=True):
    """Something similar the library found for an optimization: a past optimization, a prompt
    file of the user's, or an xAI Collections passage. Shown to the author; on the LLM engine
    given to the Designer as an example (``used="example"``) or as context."""

    ref: str  # "opt:ID" | "file:PATH" | "collection:ID/DOC"
    kind: str  # optimization | file | collection
    similarity: int  # 0-100, word overlap with the prompt
    score: int = 0  # the past optimization's score after
    at: str = ""  # when that optimization ran (ISO 8601 date)
    kept: bool = False  # the author kept that rewrite
    used: str = "shown"  # shown | example | context
    excerpt: str = ""


class Grounding(msgspec.Struct, frozen=True, kw_only=True):
    """One piece of retrieved material the LLM Designer was given for a run: a past rewrite
    as an example (kept ones rank first) or a library passage as context."""

    ref: str  # "opt:ID" | "file:PATH" | "collection:ID/DOC"
    kind: str  # example | passage
    source: str  # history (past optimizations) | library (prompt files) | collection (xAI)
    similarity: int  # 0-100, word overlap with the prompt
    tokens: int = 0  # what it took of the ``[library] examples_tokens`` budget
    kept: bool = False  # a rewrite the author kept
    query: str = ""  # the search_library query that found it ("": retrieved up front)


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    """The Evaluator's rubric, each 0-100; ``total`` is their weighted mean."""

    clarity: int
    specificity: int
    structure: int
    completeness: int
    total: int
