"""The offline Diagnoser: one check per rule of :mod:`promptd.daemon.engine.rules`.

:func:`diagnose` runs every check that applies to the prompt type and returns findings sorted
by position. Checks are pure functions of the text and its :class:`~.analysis.Analysis`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Final

from ..values import Finding, Span
from .analysis import Analysis, Labeled, analyze
from .delimiters import is_delimited
from .guards import mask_placeholders
from .preserve import is_image_prompt
from .rules import BY_NAME, Rule
from .text import (
    ACRONYMS,
    FILLER,
    IMPERATIVES,
    PROGRAMMING,
    PRONOUNS,
    SHOUT_WORDS,
    VAGUE,
    VERSION,
    LineIndex,
    is_filler,
    languages,
    wordlist,
    words,
)

Check = Callable[[Analysis, str, "_Ctx"], Iterator[Finding]]


_FENCED: Final = re.compile(r"```.*?(?:```|$)", re.S)
_INLINE_CODE: Final = re.compile(r"`[^`\n]*`")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _mask_code(text: str) -> str:
    """``text`` with fenced blocks (closed or not) and inline code spans blanked out."""
    return _INLINE_CODE.sub(_blank, _FENCED.sub(_blank, text))


class _Ctx:
    """Per-run helpers: spans with line/col, and text with placeholders/code masked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = LineIndex(text)
        masked = _mask_code(mask_placeholders(text))
        masked = re.sub(r"\bhttps?://\S+", _blank, masked)
        self.prose = masked  # same length as text: spans stay valid
        self._quoted: str | None = None

    def span(self, start: int, end: int) -> Span:
        line, col = self.index.line_col(start)
        return Span(start=start, end=end, line=line, col=col)

    def quoted(self) -> str:
        """Prose with quoted strings masked too (for rules about the author's own words)."""
        if self._quoted is None:
            self._quoted = re.sub(r"\"[^\"\n]*\"|“[^“”\n]*”", _blank, self.prose)
        return self._quoted


_CHECKS: list[tuple[Rule, Check]] = []


def _check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        _CHECKS.append((BY_NAME[name], fn))
        return fn

    return register


@_check("missing-task")
def _missing_task(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if not a.tasks:
        yield BY_NAME["missing-task"].finding(c.span(0, min(len(c.text), 80)))


@_check("missing-output-format")
def _missing_format(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    # An image-generation prompt describes a picture: it has no answer format to give.
    if a.tasks and not a.has_format and a.word_count >= 3 and not is_image_prompt(c.text):
        first = a.tasks[0].sentence
        yield BY_NAME["missing-output-format"].finding(c.span(first.start, first.end))


@_check("vague-term")
def _vague(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    prose = c.quoted()
    for n, m in enumerate(VAGUE.finditer(prose)):
        if n >= 8:
            break
        term = m.group(0).lower()
        after = prose[m.end() : m.end() + 12].lower()
        before = prose[max(0, m.start() - 12) : m.start()].lower()
        if term == "good" and re.match(r"\s+(?:at|morning|luck|afternoon|evening)\b", after):
            continue
        if term in ("thing", "things") and re.search(r"\b(?:the|these|three|two)\s+$", before):
            continue
        if term == "something" and re.search(r"\bor\s+$", before):
            continue
        yield BY_NAME["vague-term"].finding(c.span(m.start(), m.end()), m.group(0))


_CONFLICTS: Final = (
    (
        r"\b(?:brief|short|concise|succinct|terse)\b",
        r"\b(?:detailed|comprehensive|in-depth|in depth|thorough|exhaustive|elaborate)\b",
        "brief vs detailed",
    ),
    (r"\bformal\b", r"\b(?:casual|informal|conversational|chatty|slangy)\b", "formal vs casual"),
    (r"\bserious\b", r"\b(?:funny|humorous|jokey|silly)\b", "serious vs funny"),
    (r"\bsimple\b", r"\b(?:complex|sophisticated|advanced)\b", "simple vs complex"),
)
_LIMIT: Final = re.compile(
    r"\b(?:(at most|no more than|under|less than|fewer than|up to|maximum(?: of)?)|"
    r"(at least|more than|over|minimum(?: of)?)|(exactly))\s+(\d+)\s+([a-z]+)\b"
    r"|\b(in)\s+(\d+)\s+(words?|sentences?|paragraphs?|pages?|bullets?|bullet points|items?|"
    r"lines?|characters?)\b",
    re.I,
)


@_check("conflicting-constraints")
def _conflicts(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    prose = c.quoted()
    for left, right, what in _CONFLICTS:
        m1 = re.search(left, prose, re.I)
        m2 = re.search(right, prose, re.I)
        if m1 and m2:
            # "short paragraphs" with "detailed" is fine: only whole-piece qualifiers clash.
            after = prose[m1.end() : m1.end() + 14].lower()
            if re.match(r"\s+(?:paragraphs?|sentences?|examples?|intro|summary|title)", after):
                continue
            first, second = sorted((m1, m2), key=lambda m: m.start())
            yield BY_NAME["conflicting-constraints"].finding(
                c.span(second.start(), second.end()),
                f'{what} ("{first.group(0)}" and "{second.group(0)}")',
            )
    limits: dict[str, list[tuple[str, int, re.Match[str]]]] = {}
    for m in _LIMIT.finditer(prose):
        raw_unit = m.group(5) or m.group(8)
        unit = raw_unit.lower().rstrip("s").replace("bullet point", "bullet")
        kind = "max" if m.group(1) else "min" if m.group(2) else "exact"
        limits.setdefault(unit, []).append((kind, int(m.group(4) or m.group(7)), m))
    for unit, found in limits.items():
        maxes = [n for k, n, _ in found if k == "max"]
        mins = [n for k, n, _ in found if k == "min"]
        exact = sorted({n for k, n, _ in found if k == "exact"})
        bad = (
            (maxes and mins and min(maxes) < max(mins))
            or len(exact) > 1
            or (exact and maxes and exact[0] > min(maxes))
            or (exact and mins and exact[-1] < max(mins))
        )
        if bad:
            last = found[-1][2]
            shown = " and ".join(f'"{m.group(0).strip()}"' for _, _, m in found)
            yield BY_NAME["conflicting-constraints"].finding(
                c.span(last.start(), last.end()), f"{unit} counts {shown}"
            )


_NEGATIVE: Final = re.compile(
    r"^(?:[-*•]\s*)?(?:please\s+)?(?:(?:don'?t|do not|dont|never|avoid|no)\b)", re.I
)
_POSITIVE_HINT: Final = re.compile(
    r"\b(?:instead|rather|but|prefer|only|except|other than|apart from)\b", re.I
)


@_check("negative-only")
def _negative(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for s in a.sentences:
        if "example" in s.kinds:
            continue
        pos = 0
        cuts = [m.span() for m in re.finditer(r"[,;]|\s(?:and|but)\s", s.text)]
        for cut_start, cut_end in [*cuts, (len(s.text), len(s.text))]:
            raw = s.text[pos:cut_start]
            part = raw.strip()
            lead = len(raw) - len(raw.lstrip())
            rest = part[4:] + s.text[cut_start:]
            # "Use plain language, no jargon": a contrast after a positive instruction
            contrast = pos > 0 and re.match(r"(?:no|not)\b", part, re.I)
            if _NEGATIVE.match(part) and not _POSITIVE_HINT.search(rest) and not contrast:
                start = s.sentence.start + pos + lead
                yield BY_NAME["negative-only"].finding(
                    c.span(start, start + len(part)), part.rstrip(".!")
                )
            pos = cut_end


@_check("missing-role")
def _missing_role(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if not a.has_role and a.tasks:
        yield BY_NAME["missing-role"].finding(c.span(0, min(len(c.text), 40)), ptype)


_WRITING: Final = re.compile(
    r"\b(?:write|draft|compose|create|explain|describe|tell|summari[sz]e|present|pitch|"
    r"blog|article|post|essay|story|newsletter|speech|report|guide|tutorial)\b",
    re.I,
)


@_check("missing-audience")
def _missing_audience(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if a.tasks and not a.has_audience and _WRITING.search(c.prose) and a.word_count >= 4:
        first = a.tasks[0].sentence
        yield BY_NAME["missing-audience"].finding(c.span(first.start, first.end))


_LONG_FORM: Final = re.compile(
    r"\b(?:write|draft|compose|create|generate|produce)\b[^.!?\n]{0,200}?\b(?:piece|article|essay|story|post|"
    r"blog|report|analysis|stuff|content|text|narrative|chapter|novel|speech|letter|overview|"
    r"review|guide|script|poem|song|lyrics|description|summary)\b|\b(?:analy[sz]e|analysis|"
    r"report on|discuss|evaluate|assess)\b",
    re.I,
)


@_check("unbounded-length")
def _unbounded(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if not a.tasks or a.has_length or a.is_classification:
        return  # labels and extracted fields have no length to give
    if ptype in ("creative", "analytical") or _LONG_FORM.search(c.prose):
        first = a.tasks[0].sentence
        yield BY_NAME["unbounded-length"].finding(c.span(first.start, first.end))


@_check("unbalanced-braces")
def _braces(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    text = _mask_code(c.text)
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}":
            if stack:
                stack.pop()
            else:
                yield BY_NAME["unbalanced-braces"].finding(c.span(i, i + 1), "}")
                return
    if stack:
        i = stack[0]
        yield BY_NAME["unbalanced-braces"].finding(c.span(i, i + 1), c.text[i : i + 12].strip())


_STYLE_NAMES: Final = {
    "jinja": "{{x}}",
    "dollar": "${x}",
    "php": "{$x}",
    "percent": "%(x)s",
    "brace": "{x}",
    "tag": "<x>",
    "angle": "<<x>>",
    "bracket": "[[x]]",
    "shell": "$x",
}


@_check("mixed-placeholder-styles")
def _mixed(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    styles: dict[str, tuple[str, int, int]] = {}
    for tok, style, s, e in a.placeholders:
        # {% if %} blocks belong to the same engine as {{ x }}
        styles.setdefault("jinja" if style == "block" else style, (tok, s, e))
    if len(styles) > 1:
        shown = ", ".join(f"{_STYLE_NAMES[st]} ({v[0]})" for st, v in styles.items())
        last = sorted(styles.values(), key=lambda v: v[1])[-1]
        yield BY_NAME["mixed-placeholder-styles"].finding(c.span(last[1], last[2]), shown)


_MARKER: Final = re.compile(
    r"\b(?:TODO|XXX|TBD|FIXME|TKTK)\b|\[(?:insert|add|your|put|fill in)[^\]\n]{0,40}\]"
    r"|\blorem ipsum\b",
    re.I,
)


@_check("unfilled-marker")
def _markers(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for m in _MARKER.finditer(c.prose):
        if m.group(0).isalpha() and not m.group(0).isupper():
            continue  # "todo list" is prose; markers are written in caps
        yield BY_NAME["unfilled-marker"].finding(c.span(m.start(), m.end()), m.group(0))


_CAPS: Final = re.compile(r"\b[A-Z][A-Z'’]+\b(?:[\s,]+\b[A-Z][A-Z'’]*\b)*")


def shouted_runs(text: str) -> list[tuple[int, int]]:
    """Spans of ALL-CAPS shouting (acronyms like JSON or NASA are not shouting)."""
    out: list[tuple[int, int]] = []
    for m in _CAPS.finditer(text):
        run = [w.replace("’", "'") for w in re.findall(r"[A-Z][A-Z'’]+", m.group(0))]
        plain = [w for w in run if w not in ACRONYMS]
        if not plain:
            continue
        if any(w in SHOUT_WORDS for w in plain) or len(plain) >= 3:
            out.append((m.start(), m.end()))
    return out


@_check("shouting")
def _shouting(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    found = [(s, e) for s, e in shouted_runs(c.quoted())]
    found += [(m.start(), m.end()) for m in re.finditer(r"!{2,}|\?{3,}", c.prose)]
    for s, e in sorted(found)[:5]:
        yield BY_NAME["shouting"].finding(c.span(s, e), c.text[s:e])


@_check("filler")
def _filler(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    prose = c.quoted()
    for n, m in enumerate(FILLER.finditer(prose)):
        if n >= 6:
            break
        if not is_filler(prose, m):
            continue
        if _PERSONA_LEAD.match(prose, m.end()):
            continue  # "I want you to act as ...": a persona prompt's framing, not filler
        yield BY_NAME["filler"].finding(c.span(m.start(), m.end()), m.group(0))


_PERSONA_LEAD: Final = re.compile(r"\s+(?:act|be|play|pretend|become|behave|roleplay)\b", re.I)


_CONJ_TASK: Final = re.compile(
    r"(?:,\s*|(?<!\s)\s+)(?:and(?: then)?|then|also|plus)\s+([a-z]+)\b", re.I
)


def split_tasks(sentence: str) -> list[str]:
    """Split one sentence at "and <verb>" / ", then <verb>" into its tasks (one item: none)."""
    parts: list[str] = []
    pos = 0
    for m in _CONJ_TASK.finditer(sentence):
        verb = m.group(1).lower()
        if verb in IMPERATIVES and verb not in ("use", "keep", "make", "be", "include", "note"):
            parts.append(sentence[pos : m.start()])
            pos = m.start(1)
    parts.append(sentence[pos:])
    return [p.strip(" ,.;") for p in parts if p.strip(" ,.;")]


@_check("several-tasks-one-sentence")
def _several(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for s in a.tasks:
        parts = split_tasks(s.text)
        if len(parts) >= 2:
            verbs = [p.split()[0].lower() for p in parts if p.split()]
            yield BY_NAME["several-tasks-one-sentence"].finding(
                c.span(s.sentence.start, s.sentence.end), ", ".join(verbs)
            )


_NOT_NOUN: Final = frozenset(
    {
        "",
        "to",
        "into",
        "for",
        "in",
        "better",
        "more",
        "less",
        "again",
        "up",
        "shorter",
        "longer",
        "faster",
        "please",
        "so",
        "and",
        "as",
        "work",
        "sound",
        "look",
    }
)


@_check("ambiguous-opening-pronoun")
def _pronoun(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if not a.sentences:
        return
    first = a.sentences[0].sentence
    tokens = re.findall(r"[A-Za-z']+", FILLER.sub("", first.text))
    if not tokens:
        return
    lead = tokens[0].lower()
    nxt = tokens[1].lower() if len(tokens) > 1 else ""
    aux = {
        "is",
        "was",
        "are",
        "were",
        "should",
        "needs",
        "need",
        "must",
        "has",
        "have",
        "will",
        "can",
        "does",
        "do",
        "doesn't",
        "isn't",
        "looks",
        "seems",
        "sounds",
        "reads",
        "feels",
        "shouldn't",
        "won't",
        "would",
        "could",
    }
    bad = (lead in ("it", "they", "them", "he", "she")) or (
        lead in ("this", "that", "these", "those") and (nxt in aux or nxt == "")
    )
    after_pronoun = tokens[2].lower() if len(tokens) > 2 else ""
    if (
        not bad
        and lead in IMPERATIVES
        and (nxt in ("it", "them") or (nxt in PRONOUNS and after_pronoun in _NOT_NOUN))
        and not a.placeholders
        and "```" not in c.text
    ):
        bad = True
        lead = nxt
    referent = bool(a.placeholders) or bool(
        re.search(r"```|\"|:\s*\n|\bbelow\b|\bfollowing\b", c.text)
    )
    if not bad and lead in ("this", "that", "these", "those") and not referent:
        bad = True
        lead = f"{tokens[0]} {tokens[1]}" if len(tokens) > 1 else tokens[0]
    if bad:
        m = re.search(re.escape(lead), first.text, re.I)
        s = first.start + (m.start() if m else 0)
        yield BY_NAME["ambiguous-opening-pronoun"].finding(c.span(s, s + len(lead)), lead)


@_check("long-sentence")
def _long(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for s in a.sentences:
        n = len(words(s.text))
        if n > 40 and "example" not in s.kinds:
            yield BY_NAME["long-sentence"].finding(c.span(s.sentence.start, s.sentence.end), str(n))


@_check("undelimited-input")
def _undelimited(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for tok, _style, s, e in a.input_placeholders():
        if not is_delimited(c.text, s, e):
            yield BY_NAME["undelimited-input"].finding(c.span(s, e), tok)


@_check("missing-examples")
def _examples(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    m = re.search(
        r"\b(?:classif\w+|categori[sz]\w+|label\w*|tag each|sentiment|extract\w*|pull out)\b",
        c.quoted(),
        re.I,
    )
    if m and a.is_classification and not a.has_examples:
        what = "extraction" if re.match(r"extract|pull", m.group(0), re.I) else "classification"
        yield BY_NAME["missing-examples"].finding(c.span(m.start(), m.end()), what)


_STOP: Final = wordlist("the and for with that this are was you your its from into then them they")


def wordset(text: str) -> set[str]:
    return {w.lower() for w in words(text) if len(w) > 2 and w.lower() not in _STOP}


def near_duplicate(a: set[str], b: set[str]) -> bool:
    """Two word sets that say nearly the same thing."""
    if min(len(a), len(b)) < 3:
        return False
    inter = len(a & b)
    return inter / min(len(a), len(b)) >= 0.8 and inter / len(a | b) >= 0.6


_ITEM_LINE: Final = re.compile(
    r"^[ \t]*(?:[-*•+]|\d+[.)]|[A-Za-z][.)])[ \t]+"  # a list item
    r"|^[ \t]*(?:\*\*|__)?[\w ()/&'-]{1,40}(?:\*\*|__)?:(?:\*\*|__)?(?:[ \t]|$)"  # Label: ...
    r"|^[ \t]*\|"  # a table row
    r"|^[ \t]+\S"  # an indented line (YAML, an outline)
)


def may_repeat(a: Analysis, s: Labeled) -> bool:
    """Could ``s`` be a mere repetition? Never for a sentence in a list item, a labeled or
    indented line or a table row (parallel items say the same thing about different items:
    "- Layer 1: ... Label it." / "- Layer 2: ... Label it."), nor for one that holds a
    placeholder (removing it would drop a use of the field), nor for examples and headings."""
    if s.kinds & {"heading", "example"}:
        return False
    line_start = a.text.rfind("\n", 0, s.sentence.start) + 1
    line = a.text[line_start : a.text.find("\n", s.sentence.start) % (len(a.text) + 1)]
    if _ITEM_LINE.match(line):
        return False
    return not any(ph[2] < s.sentence.end and s.sentence.start < ph[3] for ph in a.placeholders)


@_check("near-duplicate")
def _duplicates(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    seen: list[tuple[set[str], str]] = []
    for s in a.sentences:
        if not may_repeat(a, s):
            continue
        ws = wordset(s.text)
        if len(ws) < 3:
            continue
        for other, text in seen:
            if near_duplicate(ws, other):
                yield BY_NAME["near-duplicate"].finding(
                    c.span(s.sentence.start, s.sentence.end), text[:60]
                )
                break
        else:
            seen.append((ws, s.text))


@_check("missing-language-version")
def _language(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    if not a.tasks:
        return
    langs = languages(c.text)
    programming = [lang for lang in langs if lang in PROGRAMMING]
    first = a.tasks[0].sentence
    if not langs and ptype == "code":
        yield BY_NAME["missing-language-version"].finding(
            c.span(first.start, first.end), "No programming language is named."
        )
    elif not langs and ptype == "technical":
        yield BY_NAME["missing-language-version"].finding(
            c.span(first.start, first.end), "No language, platform or tool is named."
        )
    elif (
        programming
        and not VERSION.search(c.text)
        and not (ptype == "technical" and len(langs) > len(programming))
    ):
        yield BY_NAME["missing-language-version"].finding(
            c.span(first.start, first.end), f"No {programming[0]} version is given."
        )


@_check("too-short")
def _short(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    n = len(words(mask_placeholders(c.text))) + len(a.placeholders)
    if 0 < n < 4:
        yield BY_NAME["too-short"].finding(
            c.span(0, len(c.text.rstrip())), f"{n} word" if n == 1 else f"{n} words"
        )


@_check("wall-of-text")
def _wall(a: Analysis, ptype: str, c: _Ctx) -> Iterator[Finding]:
    for para in re.finditer(r"[^\n]+", c.text):
        n = len(words(para.group(0)))
        if n > 120:
            yield BY_NAME["wall-of-text"].finding(c.span(para.start(), para.end()), str(n))


def diagnose(text: str, prompt_type: str) -> list[Finding]:
    """Every finding of every rule that applies to ``prompt_type``, sorted by position."""
    return list(_diagnose(text, prompt_type))


@lru_cache(maxsize=256)
def _diagnose(text: str, prompt_type: str) -> tuple[Finding, ...]:
    # Cached: the Diagnoser, the Evaluator and lint all ask about the same texts.
    a = analyze(text)
    ctx = _Ctx(text)
    out: list[Finding] = []
    for rule, check in _CHECKS:
        if prompt_type not in rule.types:
            continue
        out.extend(check(a, prompt_type, ctx))
    return tuple(sorted(out, key=lambda f: (f.span.start if f.span else 0, f.code)))
