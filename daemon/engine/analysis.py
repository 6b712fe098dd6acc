"""Sentence and keyword analysis of a prompt: the offline Deconstructor's work.

:func:`analyze` splits a prompt into sentences and labels each one (role, task, audience,
constraint, output format, example, input, context, heading). The rules, the offline
Designer and the router all read the same :class:`Analysis`, computed once per prompt.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Final

import msgspec

from .guards import placeholder_name, placeholder_spans
from .text import (
    FILLER,
    FIXED_FORMS,
    FORMAT_WORDS,
    IMPERATIVES,
    INPUT_NAMES,
    LENGTH_WORDS,
    Sentence,
    split_sentences,
    words,
)
from .types import Deconstruction

_ROLE: Final = re.compile(
    r"^(?:you are|you're|act as|acting as|as an? (?!result|example|reminder|rule|alternative)|"
    r"your role|imagine you are|pretend (?:to be|you are)|assume the role|take the role)",
    re.I,
)
_EXAMPLE: Final = re.compile(
    r"^(?:examples?\b|e\.g\.|for example|for instance|sample\b|input\s*:|output\s*:|q\s*:|a\s*:"
    r"|user\s*:|assistant\s*:|->|=>)",
    re.I,
)
_AUDIENCE: Final = re.compile(
    r"\b(?:for|to|aimed at|targeting|targeted at|suitable for|read by)\s+(?:an?\s+|the\s+|my\s+|"
    r"our\s+)?(?:\{\{?\s*audience\s*\}?\}|(?:non-technical |technical |general |young |new |"
    r"senior |junior |busy |first-time |\w+-year-old )?(?:beginners?|children|kids|teens|"
    r"teenagers|students?|experts?|developers?|engineers?|executives?|managers?|customers?|"
    r"clients?|users?|readers?|audiences?|novices?|professionals?|stakeholders?|investors?|"
    r"employees?|colleagues?|team|parents?|patients?|doctors?|lawyers?|scientists?|"
    r"researchers?|newcomers?|adults?|people|public|newbies|non-experts?|laypeople|"
    r"grandparents?|seniors?|board|recruiters?|hiring managers?|fans?|subscribers?|"
    r"data scientists?|analysts?|marketers?|\w+-year-olds?|retirees?|toddlers?|"
    r"(?:\w+ )?(?:audience|readers|viewers|listeners)))\b"
    r"|\baudience\b|\breaders? (?:are|is|will be)\b|\{\{?\s*audience\s*\}?\}",
    re.I,
)
_CONSTRAINT: Final = re.compile(
    r"\b(?:must|should|shall|never|don'?t|do not|avoid|only|at most|at least|no more than|"
    r"no longer than|limit|make sure|ensure|always|without|keep it|keep the|keep each|stay|"
    r"under \d+|within|exactly|maximum|minimum|required|forbidden|not allowed|"
    r"in (?:english|french|german|spanish|italian|portuguese|japanese|chinese)|tone|style|"
    r"formal|casual|concise|brief|short|detailed)\b",
    re.I,
)
_CONSTRAINT_START: Final = re.compile(
    r"^(?:use|keep|avoid|don'?t|do not|never|always|make sure|make it|make them|ensure|be |"
    r"stay|limit|include|mention|cite|focus|write in|respond in|answer in|reply in|no |only |"
    r"remember|note|important|stick to|refrain|try to|aim for|prefer|assume|cover|mention|"
    r"explain (?:it )?(?:like|as if)|pretend)\b",
    re.I,
)
_FORMAT_START: Final = re.compile(
    r"^(?:(?:answer|respond|reply)(?=\s+(?:with|in|as|using|only|briefly|concisely|"
    r"in|by|yes|no|\d)\b)|return|output|format|give the (?:answer|result|output)|"
    r"the (?:answer|output|result|response) (?:should|must)|present|structure|print|"
    r"your (?:answer|output|response))",
    re.I,
)
_REQUEST: Final = re.compile(
    r"^(?:i (?:need|want|would like|'d like)|i'm looking for|help me|tell me|show me|"
    r"your (?:task|job|goal) is|the (?:task|goal) is|can you|could you|would you|"
    r"we need|let'?s|please)\b"
    r"|\b(?:(?:i|we) (?:want|need|would like|'d like) to (?:know|understand|find out|learn)|"
    r"(?:i|we) need (?:a|an|some|your|help|you)|help (?:me|us)|tell (?:me|us)|"
    r"(?:i|we) would (?:really )?appreciate|what (?:should|would|is|are)|"
    r"whether (?:we|i) should)\b",
    re.I,
)
_HEADING: Final = re.compile(r"^(?:#{1,6}\s+\S.*|[A-Z][\w /&-]{0,40}:)$")
_LABEL: Final = re.compile(r"^([A-Z][\w /&-]{0,30}):\s*(\S.*)$", re.S)
_CLASSIFY: Final = re.compile(
    r"\b(?:classify|classification|categori[sz]e|label (?:each|every|the|it|them)|tag each|"
    r"extract|extraction|pull out|sentiment|which category|assign (?:a|one) (?:label|category))",
    re.I,
)

_NOT_TASK_VERBS: Final = frozenset(
    {
        "use",
        "keep",
        "avoid",
        "include",
        "make",
        "be",
        "format",
        "return",
        "output",
        "limit",
        "ensure",
        "focus",
        "mention",
        "cite",
        "start",
        "end",
        "note",
        "remember",
        "set",
        "stop",
        "act",
        "play",
        "consider",
        "think",
        "help",
    }
)

_EMPHASIS_LABELS: Final = frozenset(
    {"important", "note", "nb", "warning", "remember", "reminder", "rule", "tip", "caution"}
)


class Labeled(msgspec.Struct, frozen=True):
    sentence: Sentence
    kinds: frozenset[str]

    @property
    def text(self) -> str:
        return self.sentence.text


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    sentences: tuple[Labeled, ...]
    placeholders: tuple[tuple[str, str, int, int], ...]  # (token, style, start, end)
    word_count: int
    structured: bool  # has headings, lists or labeled lines already
    lines: int
    has_format: bool  # says what the answer should look like
    has_length: bool
    has_audience: bool
    has_examples: bool
    is_classification: bool  # a classification or extraction task

    def of(self, kind: str) -> list[Labeled]:
        return [s for s in self.sentences if kind in s.kinds]

    @property
    def tasks(self) -> list[Labeled]:
        return self.of("task")

    @property
    def has_role(self) -> bool:
        return bool(self.of("role"))

    def constrained(self) -> list[Labeled]:
        """Sentences that state a constraint: those labeled so, and tasks that carry one
        ("Restore the photo, keep the grain"), so splitting a clause off earns nothing."""
        return [
            s
            for s in self.sentences
            if "constraint" in s.kinds or ("task" in s.kinds and _CONSTRAINT.search(s.text))
        ]

    def input_placeholders(self) -> list[tuple[str, str, int, int]]:
        """Placeholders that stand for outside text (code, email, document, ...)."""
        out = []
        for ph in self.placeholders:
            name = placeholder_name(ph[0]).split(".")[-1]
            if INPUT_NAMES.match(name):
                out.append(ph)
        return out


_LEAD: Final = re.compile(
    r"^(?:(?:could|would|can|will|you|please|then|also|now|first|and)\s+)+", re.I
)


def _is_count(match: re.Match[str]) -> bool:
    """A length ("200 words", "three items"), not a shape like "a table" or "JSON"."""
    return bool(
        re.match(
            r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a single)\b",
            match.group(0),
            re.I,
        )
    )


def _first_word(text: str) -> str:
    cleaned = FILLER.sub("", text).strip(" ,;:-*>•\t0123456789.)!")
    cleaned = _LEAD.sub("", cleaned)
    m = re.match(r"[A-Za-z']+", cleaned)
    return m.group(0).lower() if m else ""


def _clause_verbs(text: str) -> list[str]:
    """The first word of each clause after the first (", tell me ...", "; fix ...")."""
    return [_first_word(part) for part in re.split(r"[,;:]\s*|\s+(?:and|then)\s+", text)[1:]]


def _label(sentence: Sentence, section: str, has_input_ph: bool) -> frozenset[str]:
    text = sentence.text.strip()
    bare = re.sub(r"^(?:[-*•>]|\d+[.)])\s+", "", text)
    kinds: set[str] = set()
    if _HEADING.match(text) and not _LABEL.match(text):
        kinds.add("heading")
        return frozenset(kinds)
    if section in ("example", "examples") or _EXAMPLE.match(bare):
        kinds.add("example")
        return frozenset(kinds)
    if section in ("input", "code", "text", "data", "document") or has_input_ph:
        kinds.add("input")
    label = _LABEL.match(bare)
    if label and label.group(1).lower() in _EMPHASIS_LABELS:
        # "IMPORTANT: answer in JSON" is an instruction with a label of emphasis.
        kinds.add("constraint")
        bare = label.group(2)
        label = None
    if label and label.group(1).lower() in ("role", "persona"):
        kinds.add("role")
    elif label and label.group(1).lower() in ("task", "instructions", "instruction", "goal"):
        kinds.add("task")
    elif label and label.group(1).lower() in ("format", "output", "output format", "response"):
        kinds.add("format")
    elif label and label.group(1).lower() in ("audience",):
        kinds.add("audience")
    elif label and label.group(1).lower() in ("context", "background"):
        kinds.add("context")
    elif label and label.group(1).lower() in ("constraints", "rules", "requirements"):
        kinds.add("constraint")
    elif (
        label
        and len(label.group(1).split()) <= 3
        and not _ROLE.match(bare)
        and _first_word(label.group(1)) not in IMPERATIVES
    ):
        # "Review: ...", "Text: ...": a labeled piece of input or context, not an instruction.
        kinds.add("input" if "{" in bare or "<" in bare or '"' in bare else "context")
        return frozenset(kinds)
    if _ROLE.match(bare):
        kinds.add("role")
        # "You are X. Write ..." stays a role; "As a chef, write ..." is also a task.
        if re.match(r"^as an? [^,]+,\s*(\w+)", bare, re.I):
            verb = re.match(r"^as an? [^,]+,\s*(\w+)", bare, re.I)
            if verb and verb.group(1).lower() in IMPERATIVES:
                kinds.add("task")
        return frozenset(kinds)
    first = _first_word(bare)
    cleaned = _LEAD.sub("", FILLER.sub("", bare).strip(" ,;:!"))
    starts_constraint = bool(_CONSTRAINT_START.match(cleaned))
    starts_format = bool(_FORMAT_START.match(cleaned))
    is_request = (
        bool(_REQUEST.search(bare))
        or bare.endswith("?")
        or any(v in IMPERATIVES and v not in _NOT_TASK_VERBS for v in _clause_verbs(bare))
    )
    is_task = (
        (
            first in IMPERATIVES
            and first not in _NOT_TASK_VERBS
            and not starts_constraint
            and not starts_format
        )
        or (is_request and not starts_format and not starts_constraint)
        or section == "task"
        or "task" in kinds
    )
    shape = FORMAT_WORDS.search(bare)
    if (
        starts_format
        or section in ("output", "output format", "format")
        or (shape is not None and not is_task and not (starts_constraint and _is_count(shape)))
    ):
        kinds.add("format")
    if (
        starts_constraint
        or section in ("constraints", "rules", "guidelines", "requirements")
        or ((_CONSTRAINT.search(bare) or LENGTH_WORDS.search(bare)) and not is_task)
    ):
        kinds.add("constraint")
    if is_task:
        kinds.add("task")
    if _AUDIENCE.search(bare):
        kinds.add("audience")
    if not kinds:
        kinds.add("context")
    return frozenset(kinds)


@lru_cache(maxsize=256)
def analyze(text: str) -> Analysis:
    """Label every sentence of ``text`` (cached: the rules and agents share one analysis)."""
    phs = tuple(placeholder_spans(text))
    input_ph = [
        (s, e) for tok, _st, s, e in phs if INPUT_NAMES.match(placeholder_name(tok).split(".")[-1])
    ]
    starts = [s for s, _e in input_ph]
    labeled: list[Labeled] = []
    section = ""
    structured = False
    for sentence in split_sentences(text):
        head = re.match(r"^#{1,6}\s+(.*)$|^([A-Z][\w /&-]{0,40}):$", sentence.text)
        if head:
            section = (head.group(1) or head.group(2) or "").strip().lower().rstrip(":")
            structured = True
        elif re.match(r"^(?:[-*•]|\d+[.)])\s+", sentence.text):
            structured = True
        # Placeholders are sorted and disjoint: only the last one starting before the
        # sentence's end can overlap it.
        i = bisect.bisect_left(starts, sentence.end) - 1
        has_input = i >= 0 and input_ph[i][1] > sentence.start
        labeled.append(Labeled(sentence, _label(sentence, section, has_input)))
    prose = " ".join(x.text for x in labeled if "example" not in x.kinds)
    return Analysis(
        text=text,
        has_format=any("format" in x.kinds for x in labeled)
        or bool(FORMAT_WORDS.search(prose) or FIXED_FORMS.search(prose))
        or bool(re.search(r"^#{1,6}[ \t]*(?:output|format|response|answer)", text, re.I | re.M)),
        has_length=bool(LENGTH_WORDS.search(text) or FIXED_FORMS.search(text)),
        has_audience=bool(_AUDIENCE.search(text)),
        has_examples=any("example" in x.kinds for x in labeled)
        or bool(
            re.search(
                r"^#{1,6}[ \t]*examples?|^examples?[ \t]*:|\bfor example\b|\be\.g\.",
                text,
                re.I | re.M,
            )
        ),
        is_classification=bool(_CLASSIFY.search(text)),
        sentences=tuple(labeled),
        placeholders=phs,
        word_count=len(words(text)),
        structured=structured
        or len(_labeled_lines(text)) >= 2
        or len([ln for ln in text.split("\n") if ln.strip()]) >= 3
        or "```" in text
        or _has_tag_block(text),
        lines=text.count("\n") + 1,
    )


def _has_tag_block(text: str) -> bool:
    """A line "<name>" followed later by a line "</name>": a delimited input block."""
    opened: set[str] = set()
    for m in re.finditer(r"^[ \t]*<(/?)([A-Za-z_][\w-]{0,40})>[ \t]*$", text, re.M):
        if not m.group(1):
            opened.add(m.group(2))
        elif m.group(2) in opened:
            return True
    return False


def _labeled_lines(text: str) -> list[str]:
    return [
        m.group(1)
        for m in re.finditer(r"^([A-Z][\w ]{0,30}):[ \t]*\S", text, re.M)
        if _first_word(m.group(1)) not in IMPERATIVES
    ]


def deconstruct(text: str) -> Deconstruction:
    """The offline Deconstructor: verbatim pieces of the prompt, by what they are."""
    a = analyze(text)

    def join(kind: str) -> list[str]:
        return [s.text for s in a.of(kind)]

    audience = ""
    m = _AUDIENCE.search(text)
    if m:
        audience = m.group(0)
    fences = re.findall(r"```.*?```", text, re.S)
    inputs = [s.text for s in a.of("input")] + fences
    return Deconstruction(
        role=" ".join(join("role")),
        tasks=join("task"),
        audience=audience,
        context=" ".join(join("context")),
        constraints=[
            s for s in join("constraint") if s not in join("task") and s not in join("format")
        ],
        output_format=" ".join(join("format")),
        examples=join("example"),
        input_data=inputs,
        placeholders=list(dict.fromkeys(p[0] for p in a.placeholders)),
    )
