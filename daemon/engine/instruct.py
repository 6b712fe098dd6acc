"""Rewrite with an instruction: ``promptd optimize --instruct "more formal, under 100 words"``.

:func:`parse` splits the instruction at commas, semicolons and "and" into parts and reads
each part as the directives the offline rules know:

=================  ===================================================================
``shorter``        "shorter", "concise", "brief", "tighter": cut filler, politeness,
                   repetition and wordiness (the trim tool's cuts and protections)
``max_words``      "under 100 words", "at most 80 words": the prompt's own length
``max_sentences``  "under 5 sentences", "at most 3 sentences"
``formal``         "more formal", "professional": contractions and slang spelled out
``casual``         "casual", "friendly", "conversational": common contractions
``bullets``        "bullets", "bullet points": the instructions as a bulleted list
``numbered``       "numbered list", "steps": the instructions as numbered steps
``format``         "JSON", "a table", "YAML", "CSV", "markdown": the answer's format
``answer_words``   "answers under 50 words": a length for the model's answer
=================  ===================================================================

A part that mentions the answer ("answer in bullet points", "responses under 50 words")
asks for something of the model's answer, and becomes an instruction added to the prompt.
A part the rules do not know is unmet, with the reason, on the offline engine; the LLM
Designer is given the whole instruction as the author's explicit wish.

:func:`apply_offline` makes the changes; every step keeps the guards (placeholders,
intent, content, structure): a shorter prompt loses filler, never an instruction or a
constraint, and a step that would break a guard is left out and reported.
:func:`assess` checks what can be measured on any engine's result (a length, a list, a
format): the pipeline reports what is still unmet and tells the LLM Designer on its retry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

import msgspec

from ..config import EngineConfig
from ..values import Change
from . import guards, layout
from .analysis import analyze
from .offline.design import data_spans
from .offline.edits import _free, _protected, calm_shouting, capitalize, remove_filler
from .text import split_sentences

_SPLIT: Final = re.compile(r"\s*(?:[,;\n]|\band\b|\bthen\b|\bplus\b)\s*", re.I)
_STRICT: Final = r"(?:under|below|less than|fewer than)"
_LOOSE: Final = r"(?:at most|no more than|not more than|max(?:imum)?(?: of)?|within|up to|<=?)"
_NUM: Final = r"(\d{1,5})"
_YAML_LINE: Final = re.compile(r"^(?:-[ \t]+)?[\w.\"'-]+:(?:[ \t].*)?$|^-[ \t]+\S.*$|^#.*$")


def _limit(unit: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:(?P<strict>{_STRICT})|{_LOOSE})\s+{_NUM}\s+{unit}s?\b"
        rf"|{_NUM}\s+{unit}s?\s+(?:or (?:less|fewer)|max(?:imum)?|at most|tops)\b"
        rf"|{_NUM}[- ]{unit} (?:limit|max(?:imum)?)\b",
        re.I,
    )


_WORDS: Final = _limit("word")
_SENTENCES: Final = _limit("sentence")
_SHORTER: Final = re.compile(
    r"\b(?:shorter|short|concise|brief(?:er)?|terse|tighter|trim(?:med)?|condensed?|compact|"
    r"succinct|less wordy|fewer words|cut (?:the )?(?:filler|fluff))\b",
    re.I,
)
_FORMAL: Final = re.compile(r"(?<!in)\b(?:formal|professional|polished)\b", re.I)
_CASUAL: Final = re.compile(
    r"\b(?:casual|informal|friendly|conversational|relaxed|less formal)\b", re.I
)
_BULLETS: Final = re.compile(r"\b(?:bullets?|bullet[- ]points?|bulleted|bullet list)\b", re.I)
_NUMBERED: Final = re.compile(r"\b(?:numbered|ordered list|steps|step[- ]by[- ]step)\b", re.I)
_FORMATS: Final = {
    "json": (re.compile(r"\bjson\b", re.I), "Answer with valid JSON only, with no text around it."),
    "table": (re.compile(r"\btable\b", re.I), "Present the answer as a markdown table."),
    "yaml": (re.compile(r"\bya?ml\b", re.I), "Answer with valid YAML only."),
    "csv": (re.compile(r"\bcsv\b", re.I), "Answer as CSV with a header row."),
    "markdown": (re.compile(r"\bmarkdown\b", re.I), "Format the answer in Markdown."),
}
_ANSWER: Final = re.compile(
    r"\b(?:answers?|responses?|repl(?:y|ies)|outputs?|results?|summar(?:y|ies)|"
    r"it should (?:answer|reply|respond))\b",
    re.I,
)
_FORMAL_EDITS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(rf"\b{p}\b", re.I), r)
    for p, r in (
        (r"can't", "cannot"),
        (r"won't", "will not"),
        (r"don't", "do not"),
        (r"doesn't", "does not"),
        (r"didn't", "did not"),
        (r"isn't", "is not"),
        (r"aren't", "are not"),
        (r"wasn't", "was not"),
        (r"shouldn't", "should not"),
        (r"wouldn't", "would not"),
        (r"couldn't", "could not"),
        (r"mustn't", "must not"),
        (r"it's", "it is"),
        (r"that's", "that is"),
        (r"there's", "there is"),
        (r"you're", "you are"),
        (r"we're", "we are"),
        (r"they're", "they are"),
        (r"you'll", "you will"),
        (r"I'm", "I am"),
        (r"gonna", "going to"),
        (r"wanna", "want to"),
        (r"gotta", "have to"),
        (r"kinda", "somewhat"),
        (r"sorta", "somewhat"),
        (r"pls|plz", "please"),
        (r"thx", "thanks"),
    )
)
_CASUAL_EDITS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(rf"\b{p}\b", re.I), r)
    for p, r in (
        (r"do not", "don't"),
        (r"does not", "doesn't"),
        (r"is not", "isn't"),
        (r"are not", "aren't"),
        (r"will not", "won't"),
        (r"cannot", "can't"),
        (r"it is", "it's"),
        (r"you are", "you're"),
        (r"that is", "that's"),
    )
)


class Directive(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the instruction asks: ``kind`` (see the module docstring), the ``part`` of
    the instruction it came from, and its value (a limit or a format name)."""

    kind: str
    part: str
    limit: int = 0
    fmt: str = ""


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    instruction: str
    directives: list[Directive]
    unknown: list[str]  # parts no rule reads


def parse(instruction: str) -> Parsed:
    """The directives of ``instruction`` and the parts the offline rules cannot read."""
    directives: list[Directive] = []
    unknown: list[str] = []
    for raw in _SPLIT.split(instruction.strip()):
        part = raw.strip(" .!")
        if not part:
            continue
        found = _read(part)
        if found:
            directives += found
        else:
            unknown.append(part)
    return Parsed(instruction=instruction.strip(), directives=directives, unknown=unknown)


def _read(part: str) -> list[Directive]:
    out: list[Directive] = []
    answer = bool(_ANSWER.search(part))
    for pattern, kind in ((_WORDS, "words"), (_SENTENCES, "sentences")):
        m = pattern.search(part)
        if m:
            n = int(next(g for g in m.groups()[1:] if g is not None))
            limit = n - 1 if m.group("strict") else n
            if kind == "words" and answer:
                out.append(Directive(kind="answer_words", part=part, limit=n))
            elif limit > 0:
                out.append(Directive(kind=f"max_{kind}", part=part, limit=limit))
    if _SHORTER.search(part) and not out and not answer:
        out.append(Directive(kind="shorter", part=part))
    if _CASUAL.search(part):
        out.append(Directive(kind="casual", part=part))
    elif _FORMAL.search(part):
        out.append(Directive(kind="formal", part=part))
    for name, (pattern, _line) in _FORMATS.items():
        if pattern.search(part):
            out.append(Directive(kind="format", part=part, fmt=name))
    if _BULLETS.search(part):
        out.append(
            Directive(kind="format", part=part, fmt="bullets")
            if answer
            else Directive(kind="bullets", part=part)
        )
    elif _NUMBERED.search(part):
        out.append(
            Directive(kind="format", part=part, fmt="numbered")
            if answer
            else Directive(kind="numbered", part=part)
        )
    return out


def count_words(text: str) -> int:
    """Words as a person counts them: runs of non-space (a placeholder is one word)."""
    return len(text.split())


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


# --- offline changes --------------------------------------------------------------------


class Applied(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    changes: list[Change]
    unmet: list[str]


def cut_filler(text: str) -> tuple[str, list[Change]]:
    """``text`` without filler, politeness and wordiness: the trim tool's cuts and checks,
    which never touch placeholders, code, quotes, numbers or constraint sentences, and never
    a line of the text the prompt works on (a letter template, a CSV, key-value lines).
    Repeated sentences stay: parallel items ("Character 2: ... Give a name.") are not
    repetition."""
    from ..tools import trim

    data = _data_lines(text)
    pieces: list[tuple[str, str]] = []
    current = text
    # filler words inside rules too ("please never ..."): trim keeps a rule's sentence whole
    spans = _code_spans(text) + data_spans(text)
    for s in reversed(split_sentences(text)):
        if not _free(spans, s.start, s.end):
            continue
        new, removed = remove_filler(s.text)
        if removed and new:
            new = capitalize(new) if s.text[:1].isupper() else new
            current = current[: s.start] + new + current[s.end :]
            pieces += [("filler", r.strip(" ,")) for r in removed]
    keep = trim.protected(current)
    for kind, edit in trim._EDITS:  # the trim tool's edits, in its order
        if kind == "repetition":
            continue
        for cut in edit(current):
            candidate = trim._apply(current, cut)
            if candidate == current or not trim._intact(keep, candidate):
                continue
            if any(line not in candidate for line in data):
                continue
            pieces.append((trim._kind(kind, cut[3]), cut[3]))
            current = candidate
    if not pieces:
        return text, []
    shown = ", ".join(f'"{t}"' for _k, t in pieces[:8])
    more = f" and {len(pieces) - 8} more" if len(pieces) > 8 else ""
    kinds = ", ".join(dict.fromkeys(k for k, _t in pieces))
    return current.strip("\n"), [
        # PD013 (filler): the content guard excuses the quoted pieces this change removed
        Change(description=f"Cut {kinds}: {shown}{more}.", findings=["PD013"], kind="remove")
    ]


def _data_lines(text: str) -> list[str]:
    """The lines of the text the prompt works on (key-value, template, quoted-in lines)."""
    out: list[str] = []
    for a, b in data_spans(text):
        out += [ln.strip() for ln in text[a:b].split("\n") if ln.strip()]
    return out


def apply_offline(text: str, parsed: Parsed, config: EngineConfig | None = None) -> Applied:
    """The offline engine's rewrite of ``text`` by ``parsed`` (only what it asks)."""
    changes: list[Change] = []
    unmet = [
        f"{part}: the offline rules do not know this; use --engine llm" for part in parsed.unknown
    ]
    current = text
    kinds = {d.kind for d in parsed.directives}
    if {"formal", "casual"} <= kinds:
        casual = next(d for d in parsed.directives if d.kind == "casual")
        unmet.append(f"{casual.part}: contradicts the formal tone also asked; kept formal")
    for d in parsed.directives:
        if d.kind == "casual" and "formal" in kinds:
            continue
        edit = _EDITS[d.kind]
        new, what = edit(current, d)
        if new == current:
            continue
        step_changes = [*what]
        broken = guards.check(current, new, config, changes=step_changes)
        if broken:
            unmet.append(f"{d.part}: left out, it would break the {broken[0].guard} guard")
            continue
        current = new
        changes += step_changes
    return Applied(text=current, changes=changes, unmet=unmet)


def _shorter(text: str, d: Directive) -> tuple[str, list[Change]]:
    new, changes = cut_filler(text)
    return new, [_tagged(c, d) for c in changes]


def _max_units(text: str, d: Directive) -> tuple[str, list[Change]]:
    count = count_words if d.kind == "max_words" else count_sentences
    if count(text) <= d.limit:
        return text, []
    return _shorter(text, d)


def _tagged(change: Change, d: Directive) -> Change:
    return msgspec.structs.replace(
        change,
        description=f'For "{d.part}": {change.description[:1].lower()}{change.description[1:]}',
    )


def _substitute(text: str, edits: tuple[tuple[re.Pattern[str], str], ...]) -> tuple[str, list[str]]:
    """``edits`` applied to the prose of ``text``: never inside placeholders, code, quotes."""
    done: list[str] = []
    for pattern, repl in edits:
        spans = _protected(text) + _code_spans(text) + data_spans(text)
        pieces: list[str] = []
        pos = 0
        for m in pattern.finditer(text):
            if not _free(spans, m.start(), m.end()):
                continue
            new = repl if not m.group(0)[:1].isupper() else repl[:1].upper() + repl[1:]
            pieces += [text[pos : m.start()], new]
            done.append(f"{m.group(0)} → {new}")
            pos = m.end()
        text = "".join(pieces) + text[pos:]
    return text, done


def formal_spelling(text: str) -> str:
    """``text`` with the contractions and slang that "more formal" spells out, spelled out."""
    return _substitute(text, _FORMAL_EDITS)[0]


def _code_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"(```|~~~).*?(?:\1|\Z)", text, re.S)]


def _tone(edits: tuple[tuple[re.Pattern[str], str], ...], label: str) -> _Edit:
    def edit(text: str, d: Directive) -> tuple[str, list[Change]]:
        # one pattern at a time, each kept only when the guards still hold ("I'd" spelled
        # out must not cost the content guard a word of the sentence)
        new, done = text, list[str]()
        for one in edits:
            candidate, found = _substitute(new, (one,))
            if found and not guards.check(new, candidate):
                new, done = candidate, done + found
        if not done:
            return text, []
        shown = ", ".join(dict.fromkeys(done[:8]))
        return new, [Change(description=f'For "{d.part}": a {label} tone: {shown}.', kind="edit")]

    return edit


def _formal(text: str, d: Directive) -> tuple[str, list[Change]]:
    """Shouting calmed ("DONT ... !!!"), then contractions and slang spelled out."""
    lines = text.split("\n")
    calmed: list[str] = []
    fence = False
    data = data_spans(text)
    pos = 0
    for i, line in enumerate(lines):
        start, pos = pos, pos + len(line) + 1
        if re.match(r"^[ \t]*(```|~~~)", line):
            fence = not fence
        if not fence and _free(data, start, start + len(line)):
            lines[i], found = calm_shouting(line)
            calmed += found
    new, changes = _tone(_FORMAL_EDITS, "formal")("\n".join(lines), d)
    if calmed and not changes:
        changes = [Change(description=f'For "{d.part}": a formal tone.', kind="edit")]
    if calmed:
        shown = ", ".join(f'"{c}"' for c in dict.fromkeys(calmed))
        first = changes[0]
        changes[0] = msgspec.structs.replace(
            first, description=first.description.rstrip(".") + f"; calmed shouting ({shown})."
        )
    return new, changes


def _list(text: str, d: Directive) -> tuple[str, list[Change]]:
    """The prose instructions of the untitled text as a list; the first sentence (the task)
    stays the lead line, and the role too."""
    mark = "- " if d.kind == "bullets" else ""
    new = text
    made = 0
    for c in layout.chunks(text):
        if c.kind == "xml":
            continue
        for para in layout.paragraphs(c.body):
            sentences = layout.prose_sentences(para)
            lead = sentences[:1]
            if lead and layout.is_role(lead[0]) and len(sentences) > 1:
                lead = sentences[:2]
            items = sentences[len(lead) :]
            if len(items) < 2:
                continue
            lines = [f"{mark or f'{i}. '}{s}" for i, s in enumerate(items, 1)]
            new = new.replace(para, " ".join(lead) + "\n\n" + "\n".join(lines), 1)
            made += len(items)
    if not made:
        return text, []
    what = "a bulleted list" if mark else "numbered steps"
    return new, [
        Change(description=f'For "{d.part}": made {made} instructions {what}.', kind="structure")
    ]


def _answer_format(text: str, d: Directive) -> tuple[str, list[Change]]:
    line = _format_line(d)
    if _asks_format(text, d) or is_document(text):
        return text, []
    return _append(text, line), [
        Change(description=f'For "{d.part}": asked for the answer\'s format: "{line}"', kind="add")
    ]


def _answer_words(text: str, d: Directive) -> tuple[str, list[Change]]:
    if analyze(text).has_length or is_document(text):
        return text, []
    line = f"Keep the answer under {d.limit} words."
    return _append(text, line), [
        Change(description=f'For "{d.part}": asked for a length: "{line}"', kind="add")
    ]


def _format_line(d: Directive) -> str:
    if d.fmt == "bullets":
        return "Answer as a bulleted list."
    if d.fmt == "numbered":
        return "Answer as a numbered list."
    return _FORMATS[d.fmt][1]


def _asks_format(text: str, d: Directive) -> bool:
    if d.fmt in _FORMATS:
        return bool(_FORMATS[d.fmt][0].search(text))
    pattern = _BULLETS if d.fmt == "bullets" else _NUMBERED
    return bool(pattern.search(text)) or (d.fmt == "numbered" and "numbered" in text.lower())


def _append(text: str, line: str) -> str:
    """``line`` after the prompt: on the next line after prose, after a blank line after a
    block (a fence, a list, a table), never glued into it."""
    body = text.rstrip()
    last = body.rsplit("\n", 1)[-1].strip()
    prose = bool(re.match(r"^[\w\"'(]", last)) and last.endswith((".", "!", "?", ":"))
    return body + ("\n" if prose else "\n\n") + line


def is_document(text: str) -> bool:
    """The whole prompt is a JSON or YAML document: a line added after it would break it."""
    body = text.strip()
    if body[:1] in "{[":
        try:
            json.loads(body)
            return True
        except ValueError:
            pass
    lines = [ln for ln in body.split("\n") if ln.strip()]
    data = sum(1 for ln in lines if _YAML_LINE.match(ln) or ln.startswith((" ", "\t")))
    return len(lines) >= 2 and data == len(lines)


_Edit = Callable[[str, Directive], tuple[str, list[Change]]]
_EDITS: Final[dict[str, _Edit]] = {
    "shorter": _shorter,
    "max_words": _max_units,
    "max_sentences": _max_units,
    "formal": _formal,
    "casual": _tone(_CASUAL_EDITS, "casual"),
    "bullets": _list,
    "numbered": _list,
    "format": _answer_format,
    "answer_words": _answer_words,
}


# --- what any engine's result can be checked for ----------------------------------------


def assess(parsed: Parsed, original: str, result: str) -> tuple[list[str], list[str]]:
    """(met, unmet) of the measurable directives on ``result``, each with its figure."""
    met: list[str] = []
    unmet: list[str] = []
    for d in parsed.directives:
        ok, figure = _measure(d, original, result)
        if ok is None:
            continue
        (met if ok else unmet).append(f"{d.part}: {figure}")
    return met, unmet


def _measure(d: Directive, original: str, result: str) -> tuple[bool | None, str]:
    if d.kind == "max_words":
        n = count_words(result)
        ok = n <= d.limit
        return ok, f"{n} words" + ("" if ok else _why_long("words"))
    if d.kind == "max_sentences":
        n = count_sentences(result)
        ok = n <= d.limit
        return ok, f"{n} sentences" + ("" if ok else _why_long("sentences"))
    if d.kind == "shorter":
        before, after = count_words(original), count_words(result)
        if after < before:
            return True, f"{before} → {after} words"
        return False, (
            f"{after} words, no shorter: nothing is left to cut but instructions and "
            "constraints, which are kept"
        )
    if d.kind == "formal":
        _new, left = _substitute(result, _FORMAL_EDITS)
        kept = ", ".join(dict.fromkeys(item.split(" → ")[0] for item in left[:3]))
        return not left, "formal" if not left else (
            f"still informal: {kept} (spelled out it would lose a word the guards keep)"
        )
    if d.kind in ("bullets", "numbered"):
        pattern = r"^[ \t]*[-*•][ \t]+\S" if d.kind == "bullets" else r"^[ \t]*\d+[.)][ \t]+\S"
        if re.search(pattern, result, re.M):
            return True, "a list"
        return False, "no list: the prompt has fewer than two instructions after its task"
    if d.kind == "format":
        ok = _asks_format(result, d)
        if ok:
            return True, f"asks for {d.fmt}"
        if is_document(result):
            return False, f"the prompt is a JSON/YAML document; say {d.fmt} inside it yourself"
        return False, f"does not ask for {d.fmt}"
    if d.kind == "answer_words":
        if re.search(rf"\b{d.limit}\b", result):
            return True, f"asks for under {d.limit} words"
        if is_document(result):
            return False, "the prompt is a JSON/YAML document; set the length inside it yourself"
        return False, "the prompt already sets a length for the answer; change it yourself"
    return None, ""


def _why_long(unit: str) -> str:
    return (
        f", over the limit: the rest is instructions, constraints and inputs, which are never "
        f"cut for length; shorten the task yourself or allow more {unit}"
    )


def unchanged_reason(parsed: Parsed, original: str) -> str:
    """Why a run with this instruction left the prompt as it is."""
    met, unmet = assess(parsed, original, original)
    if not parsed.directives:
        return (
            "nothing in the instruction is something the rules can do (see what was not honoured)"
        )
    if not unmet:
        shown = "; ".join(met) if met else ", ".join(d.part for d in parsed.directives)
        rest = "; the rest is listed as not honoured" if parsed.unknown else ""
        return f"the prompt already meets the instruction ({shown}){rest}"
    return "what the instruction asks could not be done without losing an instruction, a "
    "constraint or the prompt's shape (see what was not honoured)"
