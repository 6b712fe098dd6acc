"""What ``promptd eval`` asks a model besides running the prompts: the judge and the drafter.

* The **judge** sees the task (the original prompt, filled with the sample), any
  ``expected``/``criteria`` of the sample, and two outputs as A and B; it answers a
  :class:`JudgeVerdict`. It is asked twice per comparison, the outputs swapped.
* The **drafter** writes varied sample inputs for the prompts' placeholders when no inputs
  file is given (:class:`DraftAnswer`).

The answers are strict Structs; their JSON schema goes with each request (as the agents'
do, :mod:`promptd.daemon.providers.schema`).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from .samples import Sample

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
DRAFTS: Final = 5

JUDGE_SYSTEM: Final = """\
You are the judge of an A/B test of two prompts. Both prompts were written for the same task
and were run on the same input; you see the task and the two outputs, A and B.

Decide which output does the task better: correct, complete, follows every instruction and
constraint of the task, matches the expected answer and the criteria when they are given, and
is in the form the task asks for. Length is not quality. Do not prefer an output for being
first or second. Answer "same" when neither is better.

Answer with one JSON object: "better" ("A", "B" or "same") and "reasons" (one to three short
sentences, each naming what made the difference)."""

DRAFT_SYSTEM: Final = """\
You write test inputs for a prompt template. You see the template and the names of its
placeholders. Write varied, realistic values for every placeholder: typical cases, an edge
case, a hard case; each input different from the others in what it tests.

Answer with one JSON object: "inputs", a list of inputs; each has "values" (one
{"name", "value"} for every placeholder, the name exactly as given) and "note" (what the input
tests, a few words)."""


class JudgeVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The judge's answer for one order of one comparison."""

    better: Literal["A", "B", "same"]
    reasons: list[NonEmpty]


class DraftValue(msgspec.Struct, frozen=True, kw_only=True):
    name: NonEmpty
    value: str


class DraftInput(msgspec.Struct, frozen=True, kw_only=True):
    values: list[DraftValue]
    note: str


class DraftAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The drafter's answer: sample inputs, one value per placeholder each."""

    inputs: list[DraftInput]


def tag(name: str, body: str) -> str:
    return f"<{name}>\n{body}\n</{name}>"


def judge_user(task: str, sample: Sample, a: str, b: str) -> str:
    """The judge's user message for one order (``a`` shown first)."""
    parts = [tag("task", task)]
    if sample.expected:
        parts.append(tag("expected", sample.expected))
    if sample.criteria:
        parts.append(tag("criteria", "\n".join(f"- {c}" for c in sample.criteria)))
    parts += [tag("output_a", a), tag("output_b", b)]
    return "\n\n".join(parts)


def draft_user(original: str, candidate: str, names: list[str], count: int = DRAFTS) -> str:
    """The drafter's user message: both versions (their placeholders) and the names."""
    parts = [tag("template", original)]
    if candidate != original:
        parts.append(tag("template_rewritten", candidate))
    parts.append(tag("placeholders", "\n".join(names)))
    parts.append(f"Write {count} inputs.")
    return "\n\n".join(parts)


def drafted_samples(answer: DraftAnswer, names: list[str], count: int = DRAFTS) -> list[Sample]:
    """The drafted inputs that give every placeholder a value (at most ``count``)."""
    out: list[Sample] = []
    for item in answer.inputs:
        values = {v.name.strip(): v.value for v in item.values}
        if all(n in values for n in names):
            out.append(Sample(vars={n: values[n] for n in names}, criteria=[]))
        if len(out) >= count:
            break
    return out
