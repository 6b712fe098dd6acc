"""The Evaluator's rubric: a deterministic 0-100 score on four criteria, each explained.

* clarity: filler, shouting, negative-only wording, long or duplicated sentences, conflicts
  and ambiguous openings cost points;
* specificity: vague terms cost points; numbers, an explicit length, a named audience or
  language earn them;
* structure: separate lines or sections, lists, delimited inputs and a stated output format;
* completeness: a task, an output format, a role where the type needs one, context or an
  audience, constraints and (for classification) examples.

``total`` is the weighted mean (clarity 30%, specificity 25%, structure 20%,
completeness 25%).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

import msgspec

from ..values import Finding, Scores
from .analysis import Analysis, Labeled, analyze
from .checks import diagnose, near_duplicate, wordset
from .delimiters import is_delimited
from .preserve import is_image_prompt

WEIGHTS: Final = {"clarity": 30, "specificity": 25, "structure": 20, "completeness": 25}

_CLARITY_COST: Final = {
    "PD001": 35,
    "PD004": 15,
    "PD005": 6,
    "PD009": 12,
    "PD012": 8,
    "PD013": 3,
    "PD014": 6,
    "PD015": 12,
    "PD016": 6,
    "PD019": 5,
    "PD011": 8,
}
_CLARITY_CAP: Final = {"PD005": 18, "PD013": 12, "PD016": 18, "PD012": 16}


# Generic text that fits any prompt and so tells the model nothing: a rewrite earns no
# points for it, it costs clarity.
_BOILERPLATE: Final = re.compile(
    r"\ba direct answer in plain prose\b|\bin short paragraphs\b|\bthe key points as bullets\b|"
    r"\bany assumptions or caveats\b|\bthe conclusion in one or two sentences\b|"
    r"\byou are an? (?:helpful|experienced|expert) (?:assistant|engineer|ai)\.|"
    r"\b(?:be|make sure (?:to be|it is)) (?:clear|accurate|helpful) and (?:concise|helpful|"
    r"accurate|clear)\b|\bthink step by step\b|\btake a deep breath\b",
    re.I,
)
# A heading with nothing under it (the next line is another heading, or the end).
_TAG_LINE: Final = re.compile(r"</?[A-Za-z_][\w-]{0,40}>")
_XML_OPEN: Final = re.compile(r"^<([A-Za-z_][\w-]{0,40})>[ \t]*$", re.M)


def _xml_section(text: str) -> bool:
    """``text`` has an XML section: an opening tag alone on its line, closed on a later one."""
    return any(
        re.search(rf"^</{re.escape(m.group(1))}>[ \t]*$", text[m.end() :], re.M)
        for m in _XML_OPEN.finditer(text)
    )


_EMPTY_SECTION: Final = re.compile(r"^#{1,6}[ \t]+\S[^\n]*(?:\n[ \t]*)*(?=\n#{1,6}[ \t]|\Z)", re.M)


def strip_boilerplate(text: str) -> str:
    """``text`` without the sentences of generic boilerplate and the sections they empty."""
    out: list[str] = []
    for line in text.split("\n"):
        if _BOILERPLATE.search(line):
            kept = [x for x in re.split(r"(?<=[.!?])\s+", line) if not _BOILERPLATE.search(x)]
            line = " ".join(kept)
            if re.fullmatch(r"\s*(?:(?:[-*•]|\d+[.)])\s*)?", line):
                continue
        out.append(line)
    stripped = "\n".join(out)
    previous = ""
    while previous != stripped:
        previous = stripped
        stripped = _EMPTY_SECTION.sub("", stripped)
    return re.sub(r"\n{3,}", "\n\n", stripped).strip() or text


def _distinct(sentences: list[Labeled]) -> int:
    """How many of ``sentences`` say something new (near-duplicates count once)."""
    kept: list[set[str]] = []
    for s in sentences:
        ws = wordset(s.text)
        if not any(near_duplicate(ws, k) for k in kept):
            kept.append(ws)
    return len(kept)


class Rubric(msgspec.Struct, frozen=True, kw_only=True):
    scores: Scores
    reasons: list[str]  # one line per criterion


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


def score(
    text: str,
    prompt_type: str,
    findings: list[Finding] | None = None,
    analysis: Analysis | None = None,
) -> Rubric:
    """Score ``text`` as a ``prompt_type`` prompt, explaining each criterion.

    Boilerplate earns nothing: the text is scored without it (and without the sections it
    leaves empty), then each generic phrase costs clarity.
    """
    boiler = [m.group(0) for m in _BOILERPLATE.finditer(text)]
    empty = len(_EMPTY_SECTION.findall(text))
    if boiler:
        text = strip_boilerplate(text)
        analysis, findings = None, None
    image = is_image_prompt(text)
    a = analysis or analyze(text)
    found = findings if findings is not None else diagnose(text, prompt_type)
    counts = Counter(f.code for f in found)

    # clarity
    lost = 0
    for code, n in counts.items():
        cost = _CLARITY_COST.get(code, 0) * n
        lost += min(cost, _CLARITY_CAP.get(code, cost))
    if boiler:
        lost += min(6 * len(boiler), 18)
    clarity = _clamp(100 - lost)
    why_clarity = (
        "clear wording"
        if not lost
        else "costs: "
        + ", ".join(
            [f"{code}×{n}" for code, n in sorted(counts.items()) if code in _CLARITY_COST]
            + ([f"boilerplate×{len(boiler)}"] if boiler else [])
        )
    )

    # specificity
    vague = counts.get("PD003", 0)
    spec = 55.0 - min(vague * 7, 35)
    bonus: list[str] = []
    if re.search(r"\d", re.sub(r"\{[^{}]*\}", "", text)):
        spec += 10
        bonus.append("numbers")
    if a.has_length:
        spec += 10
        bonus.append("length")
    if a.has_audience:
        spec += 8
        bonus.append("audience")
    if a.has_format:
        spec += 10
        bonus.append("output format")
    constraints = _distinct(a.constrained())
    if constraints:
        # saying the same rule twice is not more specific
        spec += min(4 * constraints, 12)
        bonus.append("constraints")
    if counts.get("PD021"):
        spec -= 25
    if counts.get("PD020"):
        spec -= 5
    specificity = _clamp(spec)
    why_spec = (f"{vague} vague term(s)" if vague else "no vague terms") + (
        "; has " + ", ".join(bonus) if bonus else "; no numbers, length, audience or format"
    )

    # structure
    struct = 45.0
    notes: list[str] = []
    prose_sentences = [
        x
        for x in a.sentences
        if not x.kinds & {"heading", "example"} and not _TAG_LINE.fullmatch(x.text.strip())
    ]
    short = len(prose_sentences) <= 3 and a.word_count <= 40
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if len(lines) > 1:
        struct += 15
        notes.append("separate lines")
    # a markdown heading, a "Label:" line, or an XML section (<tag> ... </tag> on own lines)
    if re.search(r"^#{1,6}[ \t]|^[A-Z][\w ]{0,30}:[ \t]*$", text, re.M) or _xml_section(text):
        struct += 15
        notes.append("sections")
    if re.search(r"^[ \t]*(?:[-*•]|\d+[.)])[ \t]", text, re.M):
        struct += 10
        notes.append("lists")
    inputs = a.input_placeholders()
    if inputs:
        delimited = sum(1 for _t, _s, s, e in inputs if is_delimited(text, s, e))
        struct += 15 if delimited == len(inputs) else -10
        notes.append("delimited input" if delimited == len(inputs) else "undelimited input")
    if a.has_format:
        struct += 5
    struct -= 20 * counts.get("PD022", 0)
    if short:
        # A prompt of a few sentences needs no sections: headings added to it earn nothing;
        # only a delimited (or undelimited) input still counts.
        struct = 85.0 + (-10 if any(n == "undelimited input" for n in notes) else 0)
        notes = [n for n in notes if "input" in n] + ["short enough to need no sections"]
    if image:
        # An image prompt is a description: sections and lists do not make it better.
        struct, notes = 85.0, ["an image description"]
    if empty:
        struct -= 15 * empty
        notes.append(f"{empty} empty section(s)")
    structure = _clamp(struct)
    why_struct = ", ".join(notes) if notes else "one block of prose"

    # completeness
    comp = 0
    have: list[str] = []
    missing: list[str] = []
    parts: list[tuple[str, int, bool]] = [
        ("task", 35, bool(a.tasks)),
        ("output format", 20, a.has_format or image),  # an image prompt has no answer shape
        ("role", 10, a.has_role or prompt_type in ("general", "creative")),
        (
            "audience or context",
            15,
            a.has_audience or bool(a.of("context")) or bool(inputs) or bool(a.placeholders),
        ),
        ("constraints", 10, bool(a.constrained()) or a.has_length),
        ("examples", 10, a.has_examples or not a.is_classification),
    ]
    for name, points, ok in parts:
        if ok:
            comp += points
            have.append(name)
        else:
            missing.append(name)
    completeness = _clamp(comp)
    why_comp = "has " + ", ".join(have) if have else "nothing"
    if missing:
        why_comp += "; missing " + ", ".join(missing)

    total = _clamp(
        (
            clarity * WEIGHTS["clarity"]
            + specificity * WEIGHTS["specificity"]
            + structure * WEIGHTS["structure"]
            + completeness * WEIGHTS["completeness"]
        )
        / 100
    )
    scores = Scores(
        clarity=clarity,
        specificity=specificity,
        structure=structure,
        completeness=completeness,
        total=total,
    )
    reasons = [
        f"clarity {clarity}: {why_clarity}",
        f"specificity {specificity}: {why_spec}",
        f"structure {structure}: {why_struct}",
        f"completeness {completeness}: {why_comp}",
    ]
    return Rubric(scores=scores, reasons=reasons)
