"""What the LLM agents must answer: strict Structs, checked against the prompt.

The engine's own types (:mod:`promptd.daemon.engine.types`) give every field a default, so
the offline rules can build them piecemeal. A model's answer is held to more: every field is
required (an empty JSON object is not "no findings"), scores are integers from 0 to 100, and
a finding must quote the text of the prompt it is about (or quote nothing, for an absence).
A finding whose quote is not in the prompt was invented and is dropped. These Structs are
also what the JSON schema sent with each request is built from.

* :class:`AnalysisAnswer`: the Deconstructor and the Diagnoser in one answer (one round trip).
* :class:`DesignAnswer`: the Designer's rewrite and its changes.
* :class:`JudgeAnswer`: the Evaluator's pairwise verdict on prompts A and B.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Final, Literal

import msgspec

from ..engine.text import normalize
from ..engine.types import Deconstruction, Design, Diagnosis
from ..values import Change, Finding, Severity, Span

ANALYSIS_VERSION: Final = "2"  # part of the lint-cache key: bump when the analysis changes
Score = Annotated[int, msgspec.Meta(ge=0, le=100)]


def lint_key(text: str, prompt_type: str, model: str) -> str:
    """The lint (analysis) cache key: normalized prompt + type + engine + model + version."""
    h = hashlib.sha256()
    for part in (normalize(text), prompt_type, "llm", model, ANALYSIS_VERSION):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class DeconstructionAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of the prompt, each verbatim from it ("" or [] when absent)."""

    role: str
    tasks: list[str]
    audience: str
    context: str
    constraints: list[str]
    output_format: str
    examples: list[str]
    input_data: list[str]
    placeholders: list[str]

    def to_engine(self) -> Deconstruction:
        return Deconstruction(
            role=self.role,
            tasks=self.tasks,
            audience=self.audience,
            context=self.context,
            constraints=self.constraints,
            output_format=self.output_format,
            examples=self.examples,
            input_data=self.input_data,
            placeholders=self.placeholders,
        )


class FindingAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """One problem; ``quote`` is the exact text of the prompt it is about ("" for an absence)."""

    code: NonEmpty
    severity: Severity
    message: NonEmpty
    quote: str
    needs_input: bool


class AnalysisAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The Deconstructor's and the Diagnoser's answer to one request."""

    deconstruction: DeconstructionAnswer
    findings: list[FindingAnswer]


class ChangeAnswer(msgspec.Struct, frozen=True, kw_only=True):
    description: NonEmpty
    findings: list[str]


class DesignAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The Designer's rewrite (the whole prompt) and one entry per change."""

    prompt: NonEmpty
    changes: list[ChangeAnswer]

    def to_engine(self) -> Design:
        return Design(
            prompt=self.prompt,
            changes=[Change(description=c.description, findings=c.findings) for c in self.changes],
        )


class JudgeAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The Evaluator's verdict on two prompts shown as A and B (one order of the pair)."""

    better: Literal["A", "B", "same"]
    score_a: Score
    score_b: Score
    reasons: list[NonEmpty]
    lost_or_invented: list[str]  # content of one that the other drops or makes up


def span_of(text: str, quote: str) -> Span | None:
    """Where ``quote`` is in ``text`` (code points, 1-based line/col), or None."""
    start = text.find(quote)
    if not quote or start < 0:
        return None
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(start=start, end=start + len(quote), line=line, col=col)


def findings_in(
    text: str, answers: list[FindingAnswer], rule_names: dict[str, str]
) -> tuple[Diagnosis, int]:
    """The findings that point at text of the prompt, and how many were dropped (invented).

    A quote that is not in the prompt (after trimming whitespace) means the model made the
    problem up; an empty quote stands for something missing, and is kept.
    """
    kept: list[Finding] = []
    dropped = 0
    for answer in answers:
        quote = answer.quote.strip()
        span = span_of(text, quote)
        if quote and span is None:
            dropped += 1
            continue
        kept.append(
            Finding(
                code=answer.code,
                severity=answer.severity,
                message=answer.message,
                span=span,
                needs_input=answer.needs_input,
                rule=rule_names.get(answer.code, ""),
            )
        )
    return Diagnosis(findings=kept), dropped
