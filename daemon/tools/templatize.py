"""Templatize: pull the literal values that change between uses out of a prompt.

Proper names, numbers with units, dates, emails, URLs, quoted inputs and pasted documents
(long fenced or delimited blocks) become placeholders in the prompt's own syntax (found with
:func:`~promptd.daemon.engine.guards.placeholder_spans`), or ``{{name}}`` when it has none.
Names are snake_case from the context ("customer_name", "word_limit", "document"), unique,
and never an existing placeholder's. Instruction words, format words and the task stay.

The guard: :func:`fill` of the template with the table gives the original byte for byte, and
the existing placeholders are untouched; :func:`check` refuses, and :func:`templatize` with it, with
:class:`~promptd.daemon.errors.GuardError` otherwise.

    >>> r = templatize("Write to Jane Doe in under 120 words.")
    >>> r.template
    'Write to {{recipient_name}} in under {{word_limit}} words.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

import msgspec

from ..config import EngineConfig
from ..engine.guards import check_input, placeholder_name, placeholder_spans
from ..engine.text import IMPERATIVES, wordlist
from ..errors import GuardError
from .types import TemplatizeResult, Variable

_FORMATS: Final = {
    "jinja": "{{{{{}}}}}",
    "jinja_spaced": "{{{{ {} }}}}",
    "brace": "{{{}}}",
    "dollar": "${{{}}}",
    "php": "{{${}}}",
    "percent": "%({})s",
    "tag": "<{}>",
    "angle": "<<{}>>",
    "bracket": "[[{}]]",
    "shell": "${}",
}

_FENCE: Final = re.compile(r"(?m)^(```|~~~)[^\n]*\n(?P<body>(?:.*\n)*?)\1[ \t]*$")
_TRIPLE: Final = re.compile(r"(\"\"\"|''')(?P<body>.+?)\1", re.S)
_TAGGED: Final = re.compile(r"<(?P<tag>[A-Za-z_][\w-]{0,30})>(?P<body>.+?)</(?P=tag)>", re.S)
_LABELLED_DOC: Final = re.compile(
    r"(?m)^(?P<label>[A-Za-z][\w ]{0,30}):[ \t]*\n+(?P<body>(?:[^\n]+\n?){1,200})"
)
_URL: Final = re.compile(r"\bhttps?://[^\s<>\"'`)\]]+[^\s<>\"'`)\].,;:!?]")
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MONTH: Final = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE: Final = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|"
    + _MONTH
    + r"\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2}(?:st|nd|rd|th)? "
    + _MONTH
    + r",? \d{4}|"
    + _MONTH
    + r" \d{4})\b"
)
_MONTH_ONLY: Final = re.compile(
    r"\b(?:in|during|until|by|since|for|from)\s+(?P<month>" + _MONTH + r")\b(?![ ]\d)"
)
_YEAR: Final = re.compile(
    r"\b(?:in|during|until|by|since|for|from|of)\s+(?P<year>(?:19|20)\d{2})\b(?![-/.]\d)"
)
_MONEY: Final = re.compile(r"(?<![\w.])[$€£](?P<num>\d[\d,]*(?:\.\d+)?)(?![\w.]\d)")
_UNITS: Final = {
    "word": "word",
    "character": "character",
    "char": "character",
    "sentence": "sentence",
    "paragraph": "paragraph",
    "page": "page",
    "line": "line",
    "bullet point": "bullet",
    "bullet": "bullet",
    "item": "item",
    "point": "point",
    "step": "step",
    "example": "example",
    "section": "section",
    "slide": "slide",
    "minute": "minute",
    "second": "second",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
    "token": "token",
    "question": "question",
    "idea": "idea",
    "tip": "tip",
    "option": "option",
    "tweet": "tweet",
    "headline": "headline",
    "variation": "variation",
    "version": "version",
    "%": "percent",
    "percent": "percent",
    "usd": "amount",
    "eur": "amount",
    "dollar": "amount",
    "euro": "amount",
    "km": "distance",
    "kg": "weight",
}
_NUMBER: Final = re.compile(
    r"(?<![\w.,/-])(?P<num>\d+(?:[.,]\d+)*)(?P<unit>\s*%|\s+(?:"
    + "|".join(sorted((re.escape(u) for u in _UNITS if u != "%"), key=len, reverse=True))
    + r")(?:e?s)?)(?![\w])",
    re.I,
)
_LIMIT: Final = re.compile(
    r"(?:under|at most|no more than|up to|fewer than|less than|maximum(?: of)?|max(?:imum)?\.?|"
    r"within|not exceed(?:ing)?|limit(?:ed)? to|or less|or fewer)\s*$",
    re.I,
)
_MINIMUM: Final = re.compile(
    r"(?:at least|no fewer than|no less than|minimum(?: of)?|over)\s*$", re.I
)
_QUOTE: Final = re.compile(r"\"(?P<body>[^\"\n]{1,400})\"|“(?P<curly>[^“”\n]{1,400})”")
_CAP_RUN: Final = re.compile(
    r"(?<![\w'’.@/-])(?:(?:Dr|Mr|Mrs|Ms|Prof|St)\.[ ])?"
    r"(?:[A-Z][a-z]+(?:['’][A-Za-z]+)?|[A-Z]{2,}[a-z]*)"
    r"(?:[ ](?:(?:of|de|van|von|da|and|&)[ ])?(?:[A-Z][a-z]+(?:['’][A-Za-z]+)?|[A-Z]\.|[A-Z]{2,}))*"
    r"(?![\w'’@-])"
)
# Capitalized words that are instructions, formats, languages or common words, never names.
_NOT_NAMES: Final = wordlist(
    """
    I I'm I've I'd I'll A An The This That These Those It Its You Your We Our They Their He She
    His Her My Me Us Them Please Write Make Use Give List Explain Summarize Describe Create Do
    Don't Never Always Only Must Avoid Keep Include Return Answer Respond Reply Output Format
    Note Important Task Context Role Input Example Examples Rules Step Steps If When Then And Or
    But For With Without In On At To From By As Of Be Is Are Not No Yes OK Ok Okay Hello Hi Dear
    Thanks Thank JSON YAML CSV XML HTML CSS SQL Markdown TOML API URL PDF AI LLM Python
    JavaScript TypeScript Java Rust Go Ruby PHP Swift Kotlin Bash English French German Spanish
    Italian Portuguese Dutch Japanese Chinese Korean Russian Arabic Hindi Monday Tuesday
    Wednesday Thursday Friday Saturday Sunday January February March April June July August
    September October November December Q A Here There What Why How Who Where Which
    Below Above Following Each Every All Some Any One Two Three First Second Finally Also
    Act Assume Consider Imagine Translate Rewrite Classify Generate Provide Ensure Check Fix
    Review Analyze Analyse Compare Draft Compose Suggest Find Tell Show Help Let Start End
    Section Title Summary Conclusion Introduction Bullet Bullets Table Code Text Document
    """
)
_ROLE_NOUNS: Final = wordlist(
    """
    customer client user company brand product author recipient sender manager candidate
    student patient city country team project book movie film song album artist employee
    colleague boss teacher doctor speaker guest host organization organisation school
    university restaurant hotel store shop app service person friend partner vendor supplier
    character hero protagonist location place destination venue event conference course
    """
)
_QUOTE_NOUNS: Final = wordlist(
    """
    title headline phrase slogan tagline keyword keywords topic subject question sentence
    word name query term message quote statement text input claim request command prompt
    """
)
_VERBS: Final = IMPERATIVES | wordlist(
    "meet email call contact ask thank greet invite visit introduce message congratulate"
)
_VERB_NOUNS: Final = {"titled": "title", "named": "name", "called": "name", "entitled": "title"}
_REFERENCE: Final = re.compile(r"(?<![\w&])#(?P<num>\d{2,})\b")
_FORMAT_CONTEXT: Final = re.compile(
    r"\b(?:answer|respond|reply|output|return|print|label|classify|choose|pick|select|"
    r"format|start (?:with|by)|begin with|end with|say|mark|tag|one of|either|"
    r"yes or no|true or false)\b",
    re.I,
)


class _Candidate(msgspec.Struct, frozen=True):
    start: int
    end: int
    kind: str
    name: str


def templatize(text: str, config: EngineConfig | None = None) -> TemplatizeResult:
    """The template of ``text`` and the table of the values it pulled out.

    Raises :class:`~promptd.daemon.errors.InputError` for an empty or binary prompt and
    :class:`~promptd.daemon.errors.GuardError` when the template would not fill back exactly.
    """
    check_input(text, config)
    spans = placeholder_spans(text)
    existing = list(dict.fromkeys(tok for tok, _st, _s, _e in spans))
    style = _style(spans)
    taken = {placeholder_name(tok).lower() for tok in existing}
    protected = [(s, e) for _t, _st, s, e in spans]
    chosen: list[_Candidate] = []
    for cand in _candidates(text):
        if cand.end <= cand.start or not text[cand.start : cand.end].strip():
            continue
        if _overlaps(cand.start, cand.end, protected):
            continue
        chosen.append(cand)
        protected.append((cand.start, cand.end))
    for cand in list(chosen):
        if cand.kind == "name":  # the same name elsewhere, even at the start of a sentence
            value = re.escape(text[cand.start : cand.end])
            for m in re.finditer(rf"(?<![\w'’-]){value}(?![\w'’-])", text):
                if not _overlaps(m.start(), m.end(), protected):
                    chosen.append(_Candidate(m.start(), m.end(), "name", cand.name))
                    protected.append((m.start(), m.end()))
    chosen.sort(key=lambda c: c.start)
    while True:
        result, clashes = _build(text, chosen, style, taken, existing)
        if not clashes:
            break
        # a placeholder that merges with the text around it (``$`` + ``{amount}``): keep the
        # value as it is there instead
        chosen = [c for i, c in enumerate(chosen) if i not in clashes]
    check(text, result)
    return result


def _build(
    text: str, chosen: Sequence[_Candidate], style: str, taken: set[str], existing: list[str]
) -> tuple[TemplatizeResult, set[int]]:
    """The template for the ``chosen`` values, and the indexes of those whose placeholder
    would not read back as itself in the template."""
    variables: dict[tuple[str, str], Variable] = {}  # (kind, value) -> variable
    names: set[str] = set(taken)
    parts: list[str] = []
    where: dict[tuple[int, int], int] = {}  # span of each inserted placeholder -> its index
    pos = out = 0
    for i, cand in enumerate(chosen):
        value = text[cand.start : cand.end]
        var = variables.get((cand.kind, value))
        if var is None:
            name = _unique(cand.name, names, text, style)
            names.add(name)
            var = Variable(name=name, placeholder=_token(style, name), value=value, kind=cand.kind)
            variables[(cand.kind, value)] = var
        else:
            var.occurrences += 1
        parts.append(text[pos : cand.start])
        out += cand.start - pos
        parts.append(var.placeholder)
        where[(out, out + len(var.placeholder))] = i
        out += len(var.placeholder)
        pos = cand.end
    parts.append(text[pos:])
    template = "".join(parts)
    found = {(s, e) for _t, _st, s, e in placeholder_spans(template)}
    clashes = {i for span, i in where.items() if span not in found}
    result = TemplatizeResult(
        template=template,
        style=style.removesuffix("_spaced"),
        variables=list(variables.values()),
        existing=existing,
    )
    return result, clashes


def fill(template: str, variables: Sequence[Variable]) -> str:
    """``template`` with each variable's placeholder replaced by its value, in one pass."""
    if not variables:
        return template
    by_token = {v.placeholder: v.value for v in variables}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(by_token, key=len, reverse=True)))
    return pattern.sub(lambda m: by_token[m.group(0)], template)


def check(original: str, result: TemplatizeResult) -> None:
    """Refuse a template that does not fill back to ``original`` byte for byte."""
    if fill(result.template, result.variables) != original:
        raise GuardError(
            "templatize could not make a template that fills back to the prompt exactly; "
            "the prompt is unchanged: report it with the prompt attached"
        )
    before = [tok for tok, _st, _s, _e in placeholder_spans(original)]
    new = {v.placeholder for v in result.variables}
    after = [tok for tok, _st, _s, _e in placeholder_spans(result.template) if tok not in new]
    if before != after:
        raise GuardError(
            "templatize would have changed the prompt's own placeholders; "
            "the prompt is unchanged: report it with the prompt attached"
        )


def _style(spans: Sequence[tuple[str, str, int, int]]) -> str:
    """The placeholder syntax the prompt uses most (``jinja`` when it has none)."""
    if not spans:
        return "jinja"
    counts: dict[str, int] = {}
    for _tok, st, _s, _e in spans:
        if st in _FORMATS:  # not {% %} blocks: they are logic, not fields
            counts[st] = counts.get(st, 0) + 1
    if not counts:
        return "jinja"
    style = max(counts, key=lambda k: counts[k])
    if style == "jinja":
        spaced = sum(1 for tok, st, _s, _e in spans if st == "jinja" and tok.startswith("{{ "))
        if spaced * 2 > counts["jinja"]:
            return "jinja_spaced"
    return style


def _token(style: str, name: str) -> str:
    return _FORMATS.get(style, _FORMATS["jinja"]).format(name)


def _unique(base: str, names: set[str], text: str, style: str) -> str:
    """``base``, or ``base_2``, ``base_3``...: free, and its token not already in the text."""
    name, n = base, 1
    while name.lower() in names or _token(style, name) in text:
        n += 1
        name = f"{base}_{n}"
    return name


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _snake(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    name = "_".join(words[:4])
    return name if name and not name[0].isdigit() else ""


def _words_before(text: str, start: int, n: int = 4) -> list[str]:
    line_start = text.rfind("\n", max(0, start - 80), start) + 1
    window = text[max(line_start, start - 80) : start]  # a bounded look back: long lines
    return re.findall(r"[A-Za-z]+", window.lower())[-n:]


def _line_label(text: str, start: int) -> str:
    """``customer_name`` for a value after ``Customer name:`` at the start of its line."""
    line_start = text.rfind("\n", 0, start) + 1
    m = re.match(r"\s*[-*]?\s*([A-Za-z][\w ]{0,30}?)\s*:\s*$", text[line_start:start])
    return _snake(m.group(1)) if m else ""


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start)) + 1
    right_dot, right_nl = text.find(". ", end), text.find("\n", end)
    stops = [p for p in (right_dot, right_nl) if p >= 0]
    return text[left : min(stops) if stops else len(text)]


# --- candidates ----------------------------------------------------------------------------


def _candidates(text: str) -> Iterable[_Candidate]:
    """Every value worth pulling out, widest kinds first (blocks, then links, then words)."""
    yield from _blocks(text)
    for m in _URL.finditer(text):
        yield _Candidate(m.start(), m.end(), "url", _line_label(text, m.start()) or "url")
    for m in _EMAIL.finditer(text):
        yield _Candidate(m.start(), m.end(), "email", _line_label(text, m.start()) or "email")
    for m in _DATE.finditer(text):
        yield _Candidate(m.start(), m.end(), "date", _date_name(text, m.start()))
    for m in _MONTH_ONLY.finditer(text):
        yield _Candidate(m.start("month"), m.end("month"), "date", "month")
    for m in _YEAR.finditer(text):
        yield _Candidate(m.start("year"), m.end("year"), "date", "year")
    yield from _quotes(text)
    for m in _MONEY.finditer(text):
        yield _Candidate(m.start(), m.end(), "number", _money_name(text, m.start()))
    for m in _REFERENCE.finditer(text):
        before = _words_before(text, m.start(), 1)
        name = f"{before[0]}_number" if before and len(before[0]) > 2 else "reference_number"
        yield _Candidate(m.start("num"), m.end("num"), "number", name)
    for m in _NUMBER.finditer(text):
        yield _Candidate(m.start("num"), m.end("num"), "number", _number_name(text, m))
    yield from _names(text)


def _blocks(text: str) -> Iterable[_Candidate]:
    for m in _FENCE.finditer(text):
        body = m.group("body")
        if len(body.strip()) >= 40 or body.count("\n") >= 3:
            label = _label_above(text, m.start())
            fence_lang = text[m.start() : m.start("body")].strip("`~ \n")
            name = label or ("code" if fence_lang else "document")
            end = m.start("body") + len(body.rstrip("\n"))
            yield _Candidate(m.start("body"), end, "document", name)
    for m in _TRIPLE.finditer(text):
        if len(m.group("body").strip()) >= 40:
            yield _Candidate(
                m.start("body"),
                m.end("body"),
                "document",
                _label_above(text, m.start()) or "document",
            )
    for m in _TAGGED.finditer(text):
        body = m.group("body")
        if len(body.strip()) >= 40:
            yield _Candidate(
                m.start("body"), m.end("body"), "document", _snake(m.group("tag")) or "document"
            )
    for m in _LABELLED_DOC.finditer(text):
        body = m.group("body")
        label = _snake(m.group("label"))
        if len(body.strip()) >= 200 and label and m.end() >= len(text.rstrip()):
            # a pasted document under a label, at the end of the prompt
            end = m.start("body") + len(body.rstrip())
            yield _Candidate(m.start("body"), end, "document", label)


_LABEL_FILLER: Final = frozenset({"here", "is", "are", "the", "this", "my", "below", "following"})


def _label_above(text: str, start: int) -> str:
    """``article`` for a block under a line ``Article:`` (or ``Here is the article:``)."""
    before = text[:start].rstrip("\n")
    line = before[before.rfind("\n") + 1 :]
    m = re.search(r"(?:the|this|my|following)?\s*([A-Za-z][\w ]{0,30}?)\s*:\s*$", line)
    if not m:
        return ""
    words = re.findall(r"[a-z0-9]+", m.group(1).lower())
    words = [
        w
        for w in words
        if w not in {"here", "is", "are", "the", "this", "my", "below", "following"}
    ]
    return _snake(" ".join(words[-2:]))


def _quotes(text: str) -> Iterable[_Candidate]:
    for m in _QUOTE.finditer(text):
        group = "body" if m.group("body") is not None else "curly"
        body = m.group(group)
        if not body.strip() or _FORMAT_CONTEXT.search(_sentence(text, m.start(), m.end())):
            continue  # an answer option or a format word: part of the instructions
        before = _words_before(text, m.start())
        nouns = [_VERB_NOUNS.get(w, w) for w in before]
        noun = next((w for w in reversed(nouns) if w in _QUOTE_NOUNS), "")
        name = _line_label(text, m.start()) or (noun if noun else "quoted_text")
        yield _Candidate(m.start(group), m.end(group), "quote", name)


def _number_name(text: str, m: re.Match[str]) -> str:
    unit_text = m.group("unit").strip().lower()
    unit = next(
        (
            v
            for k, v in sorted(_UNITS.items(), key=lambda kv: -len(kv[0]))
            if unit_text.startswith(k)
        ),
        "number",
    )
    label = _line_label(text, m.start())
    if label:
        return label
    before = text[max(0, m.start() - 40) : m.start()]
    after = text[m.end() : m.end() + 20]
    if unit in ("percent", "amount", "distance", "weight"):
        return unit
    if _LIMIT.search(before) or re.match(r"\s*or (?:less|fewer)\b", after, re.I):
        return f"{unit}_limit"
    if _MINIMUM.search(before):
        return f"min_{unit}s"
    return f"{unit}_count"


def _money_name(text: str, start: int) -> str:
    before = _words_before(text, start, 3)
    for word in ("budget", "price", "cost", "salary", "fee", "amount", "revenue"):
        if word in before:
            return word
    return _line_label(text, start) or "amount"


def _date_name(text: str, start: int) -> str:
    before = _words_before(text, start, 3)
    if any(w in before for w in ("by", "due", "deadline", "before")):
        return "deadline"
    for word in ("start", "end", "meeting", "launch", "release", "event", "birth"):
        if word in before:
            return f"{word}_date"
    return _line_label(text, start) or "date"


def _names(text: str) -> Iterable[_Candidate]:
    """Proper names: capitalized runs that do not start a sentence or a line."""
    for m in _CAP_RUN.finditer(text):
        words = m.group(0).split(" ")
        while words and (words[0] in _NOT_NAMES or words[0].lower() in _VERBS):
            words = words[1:]
        if not words or all(w in _NOT_NAMES or len(w) < 2 for w in words):
            continue
        start = m.start() + (len(m.group(0)) - len(" ".join(words)))
        end = start + len(" ".join(words))
        if words[-1] in _NOT_NAMES:
            continue
        head = text[:start].rstrip(" \t")
        initial = start == m.start() and (not head or head[-1] in ".!?\n:\"'“(*-#>")
        if initial and not _line_label(text, start):
            continue  # sentence-initial: only a label's value ("Customer: Jane Doe") is a name
        if _words_before(text, start, 1) in (["a"], ["an"]):
            continue  # "a Senior Data Analyst": a role or a title, part of the instructions
        if (
            len(words) == 1
            and re.search(r"(?:an|ese|ish)$", words[0])
            and _words_before(text, start, 1) == ["the"]
            and re.match(r" [a-z]", text[end : end + 2])
        ):
            continue  # "the European market": an adjective, not a name
        if all(w.isupper() for w in words) and len(words) == 1:
            continue  # an acronym
        yield _Candidate(start, end, "name", _name_name(text, start))


def _name_name(text: str, start: int) -> str:
    label = _line_label(text, start)
    if label:
        return label if "name" in label or label in _ROLE_NOUNS else f"{label}_name"
    before = _words_before(text, start, 3)
    noun = next((w for w in reversed(before) if w in _ROLE_NOUNS), "")
    if noun:
        return f"{noun}_name"
    if before and before[-1] in ("named", "called"):
        return "name"
    if before and before[-1] in IMPERATIVES:
        return "topic"  # "Explain Kubernetes ...": what the task is about
    if before and before[-1] in ("in", "near", "visit", "visiting", "around"):
        return "place"
    if before and before[-1] in ("at", "from", "with"):
        return "organization" if before[-1] != "with" else "person_name"
    if before and before[-1] == "to":
        return "recipient_name"
    return "name"
