"""``lint(text)``: the Diagnoser's findings and the rubric score, pure and fast.

This is what ``promptd lint``, the language server's diagnostics and the daemon's ``lint``
method show. :func:`detect_type` resolves ``auto`` to a concrete prompt type.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

import msgspec

from ..config import EngineConfig
from ..errors import InputError
from ..values import PROMPT_TYPES, Finding, Scores
from .analysis import analyze
from .checks import diagnose
from .guards import check_input, mask_placeholders
from .scoring import score

_SIGNALS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "code": (
        (
            r"\b(?:function|method|class|bug|refactor|implement|unit tests?|compile[sr]?|"
            r"regex|regular expression|script|snippet|stack ?trace|traceback|exception|"
            r"endpoint|variable|algorithm|recursion|pull request|code review|type hints?|"
            r"lint|async|repository|repo|commit|library|module|package|cli|sql query)\b",
            2.0,
        ),
        (r"\b(?:code|coding|program|programming|debug|debugging)\b", 2.5),
        (
            r"\b(?:python|javascript|typescript|java|golang|rust|c\+\+|c#|ruby|php|kotlin|swift|"
            r"bash|sql|haskell|elixir|lua|perl|scala)\b",
            2.0,
        ),
        (r"```|\bdef \w+\(|\bfunction \w+\(|=>|\{code\}|\{snippet\}|\{diff\}|;\s*$", 3.0),
    ),
    "technical": (
        (
            r"\b(?:api|server|deploy(?:ment)?|configure|configuration|kubernetes|k8s|docker|"
            r"architecture|database|network|latency|throughput|infrastructure|cloud|aws|gcp|"
            r"azure|linux|install|setup|troubleshoot|protocol|dns|tcp|http|tls|ssl|cache|"
            r"caching|scal(?:e|ing|ability)|cluster|migration|schema|security|encryption|"
            r"authentication|oauth|nginx|terraform|ci/cd|pipeline|monitoring|logging|"
            r"documentation|technical|system design|load balanc\w+|replication|backup)\b",
            2.0,
        ),
        (r"\b(?:how does|how do|explain how|step-by-step guide|runbook|readme)\b", 1.0),
    ),
    "creative": (
        (
            r"\b(?:story|stories|poem|poetry|haiku|limerick|sonnet|song|lyrics|fiction|"
            r"character|narrative|novel|screenplay|script for a|plot|fairy tale|fable|"
            r"imaginative|creative|slogan|tagline|jingle|rhyme|verse|stanza|metaphor|"
            r"dialogue|scene|villain|hero|fantasy|sci-fi|science fiction|bedtime|speech|toast|"
            r"wedding|blog post|greeting card|joke|riddle|taglines|slogans|poems|songs)\b",
            2.5,
        ),
        (r"\b(?:imagine|invent|brainstorm|whimsical|funny|humorous|vivid|fun|playful)\b", 1.0),
    ),
    "general": (
        (
            r"\b(?:(?:write|draft|compose)\s+(?:an?\s+|the\s+|my\s+)?(?:[\w-]+\s+)?"
            r"(?:email|letter|cover letter|message|"
            r"note|invitation|bio|thank-you|apology)|recipes?|travel|itinerary|trip|gift|"
            r"birthday|dinner|workout|diet|vacation|hobby|landlord|neighbou?r)\b",
            2.5,
        ),
    ),
    "analytical": (
        (
            r"\b(?:analy[sz]e|analysis|compare|comparison|evaluate|assess|assessment|pros and "
            r"cons|trade-?offs?|trends?|data|dataset|statistics|statistical|metrics?|kpis?|"
            r"forecast|predict|risks?|mitigations?|impact|"
            r"correlation|root cause|swot|insights?|survey|findings|benchmark|ranking|rank|"
            r"score|review the|critique|argument|evidence|report on|market|revenue|churn)\b",
            2.0,
        ),
        (r"\b(?:why|which is better|what are the implications|impact of)\b", 1.0),
        (r"\b(?:classify|classification|categori[sz]e|sentiment|extract|label each)\b", 3.0),
    ),
}
# One pass over the text: every signal is a named group "<type>_<index>".
_WEIGHTS: Final[dict[str, tuple[str, float]]] = {
    f"{ptype}_{i}": (ptype, weight)
    for ptype, signals in _SIGNALS.items()
    for i, (_pattern, weight) in enumerate(signals)
}
_SCAN: Final = re.compile(
    "|".join(
        f"(?P<{ptype}_{i}>{pattern})"
        for ptype, signals in _SIGNALS.items()
        for i, (pattern, _weight) in enumerate(signals)
    ),
    re.M,  # matched against the lower-cased text: faster than re.I
)
_TYPE_WORDS: Final = {
    ptype: re.compile("|".join(p for p, _w in signals), re.I) for ptype, signals in _SIGNALS.items()
}


def detect_type(text: str) -> tuple[str, float]:
    """The most likely prompt type of ``text`` and a confidence in [0, 1].

    Keyword evidence per type; ``general`` when nothing stands out.
    """
    prose = mask_placeholders(text[:20_000])
    hits: Counter[str] = Counter()
    for m in _SCAN.finditer(prose.lower()):
        if m.lastgroup:
            hits[m.lastgroup] += 1
    scores: dict[str, float] = dict.fromkeys(_SIGNALS, 0.0)
    for group, n in hits.items():
        ptype, weight = _WEIGHTS[group]
        scores[ptype] += weight * min(n, 4)
    # Placeholder names are evidence too: {code}, {dataset}, {story_idea}.
    for tok in re.findall(r"(?<!\{)\{+\s*\$?([A-Za-z_]\w*)", text[:20_000]):
        for ptype, pattern in _TYPE_WORDS.items():
            if pattern.search(tok.replace("_", " ")):
                scores[ptype] += 1.5
    best = max(scores, key=lambda k: (scores[k], -list(scores).index(k)))
    top = scores[best]
    if top < 2.0:
        return "general", 0.5 if top == 0 else 0.4
    ordered = sorted(scores.values(), reverse=True)
    margin = (top - ordered[1]) / top
    return best, round(min(0.95, 0.5 + margin / 2 + min(top, 10) / 40), 2)


def resolve_type(prompt_type: str, text: str) -> tuple[str, bool]:
    """``(type, detected)``: ``auto`` is detected from ``text``; other names are checked."""
    if prompt_type in ("", "auto"):
        return detect_type(text)[0], True
    if prompt_type not in PROMPT_TYPES:
        raise InputError(
            f"unknown prompt type {prompt_type!r}; use auto, " + ", ".join(PROMPT_TYPES)
        )
    return prompt_type, False


class LintReport(msgspec.Struct, frozen=True, kw_only=True):
    """What lint gives: the type used, the findings, the rubric scores and their reasons."""

    prompt_type: str
    detected: bool
    findings: list[Finding]
    score: int
    scores: Scores
    reasons: list[str] = msgspec.field(default_factory=list)

    @property
    def worst(self) -> str:
        """The most severe severity present ("" when there are no findings)."""
        for sev in ("error", "warning", "info", "hint"):
            if any(f.severity == sev for f in self.findings):
                return sev
        return ""


def lint(text: str, prompt_type: str = "auto", config: EngineConfig | None = None) -> LintReport:
    """Diagnose ``text`` offline. Raises :class:`InputError` for empty, binary or huge input."""
    check_input(text, config)
    ptype, detected = resolve_type(prompt_type, text)
    analysis = analyze(text)
    findings = diagnose(text, ptype)
    rubric = score(text, ptype, findings, analysis)
    return LintReport(
        prompt_type=ptype,
        detected=detected,
        findings=findings,
        score=rubric.scores.total,
        scores=rubric.scores,
        reasons=rubric.reasons,
    )
