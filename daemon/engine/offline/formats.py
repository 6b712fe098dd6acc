"""The parts the offline Designer may add, and only when the prompt itself implies them: a
role (the language or platform it names) and an output format (the shape its request asks
for: a SWOT's four sections, a plan, the fixed code and why; never a generic one).
"""

from __future__ import annotations

import re
from typing import Final

from ..analysis import Analysis
from ..preserve import is_image_prompt
from ..text import PROGRAMMING, languages


def role_line(ptype: str, text: str) -> str:
    """A role the prompt itself implies (the language or platform it names), else ""."""
    langs = languages(text)
    prog = [lang for lang in langs if lang in PROGRAMMING]
    if ptype == "code":
        if len(prog) >= 2 and re.search(r"\b(?:convert|translate|port|migrate)\b", text, re.I):
            return f"You are an experienced {prog[0]} and {prog[1]} developer."
        named = prog or langs
        return f"You are an experienced {named[0]} developer." if named else ""
    if langs:
        return f"You are an experienced engineer who knows {langs[0]} well."
    return ""


def _prose(text: str) -> str:
    """Lower-cased text without placeholders (their names are not the author's words)."""
    return re.sub(r"\{[^{}]*\}|\$\{[^{}]*\}|<[A-Z_]+>", " ", text).lower()


def _code_language(text: str) -> str:
    """The language the answer's code is in: a conversion's target, else the first named."""
    prog = [lang for lang in languages(text) if lang in PROGRAMMING]
    target = re.search(r"\b(?:to|into)\s+([\w#+.]+)", text)
    if target:
        named = languages(target.group(1))
        if named and named[0] in PROGRAMMING:
            return named[0]
    return prog[0] if prog else ""


def output_format(ptype: str, a: Analysis, text: str) -> str:
    """The answer's shape as the prompt itself implies it, or "" when it does not.

    Never a generic shape ("plain prose", "key points / caveats"): an image prompt gets
    none, a SWOT its four sections, a plan a plan, a fix the fixed code and why.
    """
    if is_image_prompt(text) or is_persona(text):
        return ""
    if any(re.search(r":\s*[^:]+,[^:]+(?:,|\band\b)", t.text) for t in a.tasks):
        return ""  # the author already named the answer's parts ("progress, risks, next steps")
    low = _prose(text)
    lang = _code_language(text)
    block = f"one fenced {lang} block" if lang else "one fenced code block"
    first = " ".join(s.text for s in a.tasks[:1]).lower()
    if re.search(r"\bswot\b", low):
        return (
            "Four sections, Strengths, Weaknesses, Opportunities and Threats, each a short "
            "bulleted list."
        )
    if re.search(r"\bpros and cons\b", low):
        return "Two bulleted lists, Pros and Cons, then a one-sentence verdict."
    code_work = bool(lang) or re.search(
        r"\b(?:code|function|script|program|method|module|query|regex|snippet|class \w+|"
        r"unit tests?|endpoint)\b",
        low,
    )
    if ptype == "code" and code_work:
        if re.search(r"\b(?:fix|bug|debug|broken|crash\w*)\b", low):
            return (
                f"1. The corrected code in {block}.\n"
                "2. A short explanation: the cause of the bug and how the fix addresses it."
            )
        if re.search(r"\b(?:review|critique|audit)\b", low):
            return (
                "A list of issues, most important first; for each: where it is, why it "
                "matters, and the suggested change."
            )
        if re.search(
            r"\b(?:write|implement|create|generate|refactor|convert|port)\b[^.]{0,40}"
            r"\b(?:function|script|program|method|module|query|regex|code|class|tests?|"
            r"endpoint)\b",
            low,
        ):
            return f"1. The code in {block}.\n2. A short explanation of the main decisions."
        return ""
    transform = re.search(
        r"^\W*(translate|rewrite|rephrase|paraphrase|proofread|shorten|simplify|polish|"
        r"summari[sz]e)\b",
        first,
    )
    if transform:
        verb = transform.group(1)
        if verb == "translate":
            return "The translation only, keeping the original formatting, with no commentary."
        if verb.startswith("summar"):
            return "The summary only, in plain prose, with no preamble."
        return "The revised text only, with no commentary."
    if ptype == "technical" and re.search(
        r"\b(?:write|create|draft)\b[^.]{0,40}\b(?:documentation|docs|runbook|guide|tutorial|"
        r"readme)\b",
        low,
    ):
        return "Markdown with one heading per topic, and examples in fenced code blocks."
    if ptype == "analytical":
        if re.search(r"\b(?:extract\w*|pull out)\b", low):
            return "One line per extracted item, in the order they appear in the input."
        if a.is_classification:
            return "One label per item, one per line."
    artifact = re.search(
        r"\b(?:write|draft|compose|create|prepare|reply|respond)\b[^.?!]{0,200}?\b(email|e-mail|"
        r"letter|message|note|post|tweet|speech|toast|announcement|description|bio|invitation)\b",
        low,
    )
    # "The letter only" would drop any other question the author asked beside it.
    other_question = re.search(
        r"\b(?:what|why|how|which|when|where|who|is it|are there|should)\b[^?.!]*\?", low
    )
    if artifact and len(a.tasks) <= 1 and not other_question:
        what = artifact.group(1)
        if what in ("email", "e-mail"):
            return "The email only: a subject line, then the body, with no commentary."
        return f"The {what} only, ready to use, with no commentary."
    if ptype == "creative":
        short = re.search(r"\b(joke|riddle|pun|slogan|tagline|headline|name)s?\b", low)
        if short:
            return f"The {short.group(1)}s only, one per line, with no commentary."
        if re.search(r"\b(?:poem|poetry|lyrics|song|verse|rhyme)\b", low):
            return "The poem only, with a title on the first line."
        if re.search(r"\b(?:story|tale|fable|piece)\b", low):
            return "The piece only, with a title on the first line."
        return ""
    if re.search(
        r"\b(?:write|draft|compose)\b[^.?!]{0,40}\b(?:stuff|something|piece|article|essay|blog|story|"
        r"text|content)\b",
        low,
    ):
        return "A title on the first line, then the text in plain prose."
    if re.search(r"\b(?:plan|itinerary|schedule|roadmap)\b", low):
        return "The plan as numbered steps in order, each with a one-line explanation."
    if re.search(r"\b(?:step[- ]by[- ]step|steps to|how to|how do i|how can i)\b", low):
        return "Numbered steps in order, each with a one-line explanation."
    asks_for_a_piece = re.search(
        r"\b(?:write|draft|create|make|generate|compose|give me|send|prepare)\b", low
    )
    if a.tasks and all(s.text.rstrip().endswith("?") for s in a.tasks) and not asks_for_a_piece:
        return "A direct answer first, then a short explanation."
    return ""


PERSONA: Final = re.compile(
    r"^\W*(?:i want you to (?:act|be|play|pretend|become|behave)|i would like you to act|"
    r"act as|you will act as|pretend (?:to be|you are)|imagine you are|from now on,? you are)\b"
    r"|\bmy first (?:request|question|command|sentence|suggestion)\b",
    re.I | re.M,
)


def is_persona(text: str) -> bool:
    """An "I want you to act as ..." prompt: its persona and request are its own layout."""
    return bool(PERSONA.search(text))
