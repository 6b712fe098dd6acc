"""Trim: fit a prompt into a token budget without cutting what matters.

Cuts, in this order, and stops as soon as the prompt fits: filler and politeness (the
engine's filler rules, :func:`~promptd.daemon.engine.offline.edits.remove_filler`), courtesy
sentences, repeated sentences, wordy phrases ("in order to" -> "to"), then spare
whitespace. Never cut: placeholders, code (fenced or inline), quoted text, numbers, URLs and
constraint sentences (never / do not / avoid / must / only / always ...). Every cut is
checked against that list and undone if it touched one. When the prompt cannot fit without
touching protected content, the best trim comes back with how far over it is and why.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Final

from ..config import EngineConfig
from ..engine.guards import check_input, placeholder_spans
from ..engine.offline.edits import capitalize, remove_filler, tidy
from ..engine.text import blocks, split_sentences
from ..errors import InputError
from . import tokens
from .types import Removal, TrimResult

CONSTRAINT: Final = re.compile(
    r"\b(?:never|do not|don'?t|does not|doesn'?t|must|mustn'?t|avoid|only|always|"
    r"should not|shouldn'?t|cannot|can'?t|no more than|no fewer than|at most|at least|"
    r"without|exactly|required?)\b",
    re.I,
)
_FENCED: Final = re.compile(r"(```|~~~).*?(?:\1|\Z)", re.S)  # a fence, wherever it opens
_INLINE_CODE: Final = re.compile(r"`[^`\n]+`")
_QUOTED: Final = re.compile(r"\"[^\"\n]*\"|“[^“”\n]*”|'[^'\n]{2,}'(?!\w)")
_NUMBER: Final = re.compile(r"\d+(?:[.,]\d+)*")
_URL: Final = re.compile(r"https?://\S+")
_COURTESY: Final = re.compile(
    r"^(?:thanks?(?: you)?(?: (?:so|very) much)?(?: in advance)?(?: for (?:your|the) help)?|"
    r"many thanks|cheers|best(?: regards)?|regards|kind regards|have a (?:nice|great|good) day|"
    r"i hope (?:this|that) (?:makes sense|helps|is clear)|"
    r"i (?:really )?appreciate (?:it|your help)|"
    r"looking forward to (?:it|your (?:answer|reply|response|help))|"
    r"i hope you can help(?: me)?(?: with this)?|hope (?:this|that) helps)[\s,.!]*$",
    re.I,
)
_WORDY: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(p, re.I), r)
    for p, r in (
        (r"\bin order to\b", "to"),
        (r"\bdue to the fact that\b", "because"),
        (r"\bat this point in time\b", "now"),
        (r"\bfor the purpose of\b", "for"),
        (r"\bin the event that\b", "if"),
        (r"\bit is important to note that\s*", ""),
        (r"\bplease note that\s*", ""),
        (r"\bmake sure (?:that )?you\s+", ""),
        (r"\bmake sure to\s+", ""),
        (r"\bbe sure to\s+", ""),
        (r"\ba (?:lot|large number) of\b", "many"),
        (r"\bthe majority of\b", "most"),
        (r"\b(?:is|are) able to\b", "can"),
        (r"\bhas the ability to\b", "can"),
        (r"\bin a (\w+) (?:manner|way)\b", r"\1ly"),
        (r"\b(?:very|quite|extremely|super) (?=\w)", ""),
    )
)


def protected(text: str) -> Counter[tuple[str, str]]:
    """What trim never cuts, as (kind, text): placeholder, code, quote, number, url, constraint."""
    items: Counter[tuple[str, str]] = Counter()
    items.update(("placeholder", tok) for tok, _st, _s, _e in placeholder_spans(text))
    items.update(("code", m.group(0)) for m in _FENCED.finditer(text))
    items.update(("code", m.group(0)) for m in _INLINE_CODE.finditer(text))
    items.update(("quote", m.group(0)) for m in _QUOTED.finditer(text))
    items.update(("number", m.group(0)) for m in _NUMBER.finditer(text))
    items.update(("url", m.group(0)) for m in _URL.finditer(text))
    items.update(("constraint", s.text) for s in split_sentences(text) if is_constraint(s.text))
    return items


def is_constraint(sentence: str) -> bool:
    """A sentence that states a rule: never / do not / avoid / must / only / always ..."""
    return bool(CONSTRAINT.search(sentence))


def _intact(before: Counter[tuple[str, str]], text: str) -> bool:
    """Every protected item of the original is still in ``text``, as many times."""
    after = protected(text)
    for (kind, item), n in before.items():
        if kind == "constraint":
            if text.count(item) < n:
                return False
        elif after[(kind, item)] < n:
            return False
    return True


def trim(
    text: str, max_tokens: int, model: str = "", config: EngineConfig | None = None
) -> TrimResult:
    """``text`` cut down to ``max_tokens`` tokens of ``model``'s tokenizer, if it can be."""
    check_input(text, config)
    if max_tokens < 1:
        raise InputError(f"--max-tokens must be at least 1 (got {max_tokens}); give the budget")
    encoding, estimate = tokens.encoding_for(model)

    def count(t: str) -> int:
        return tokens.count(t, encoding)

    before_items = protected(text)
    current = text
    n = tokens_before = count(text)
    removals: list[Removal] = []
    for kind, edit in _EDITS:
        if n <= max_tokens:
            break
        for cut in edit(current):
            candidate, removed = _apply(current, cut), cut[3]
            if candidate == current or not _intact(before_items, candidate):
                continue
            m = count(candidate)
            if m >= n:
                continue
            removals.append(Removal(kind=_kind(kind, removed), text=removed, tokens=n - m))
            current, n = candidate, m
            if n <= max_tokens:
                break
    fits = n <= max_tokens
    reason = ""
    if not fits:
        kept = sum(count(item) for (_k, item) in before_items)
        over = n - max_tokens
        reason = (
            f"{over} token{'s' if over != 1 else ''} over: no filler, repetition or wordiness "
            "is left to cut, "
            "and trim never cuts placeholders, code, quotes, numbers or constraint sentences "
            f"(about {kept} tokens here); shorten the task yourself or raise --max-tokens"
        )
    return TrimResult(
        trimmed=current,
        tokens_before=tokens_before,
        tokens_after=n,
        max_tokens=max_tokens,
        fits=fits,
        over_by=max(0, n - max_tokens),
        encoding=encoding,
        model=model,
        estimate=estimate,
        removals=removals,
        reason=reason,
    )


def _kind(kind: str, removed: str) -> str:
    if kind == "filler" and _COURTESY.match(removed.strip()):
        return "politeness"
    return kind


# An edit proposes cuts as (start, end, replacement or None to cut the span, what went), last
# first: a cut the caller refuses leaves the spans of the cuts still to come valid.
Cut = tuple[int, int, str | None, str]
Edit = Callable[[str], Iterator[Cut]]


def _apply(text: str, cut: Cut) -> str:
    start, end, new, _removed = cut
    return _cut(text, start, end) if new is None else text[:start] + new + text[end:]


def _prose_sentences(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, sentence) of each prose sentence that states no rule, last first."""
    for s in reversed(split_sentences(text)):
        if not is_constraint(s.text):
            yield s.start, s.end, s.text


def _cut(text: str, start: int, end: int) -> str:
    """``text`` without [start, end), and its line when nothing else is left on it."""
    while end < len(text) and text[end] in " \t":
        end += 1
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip() and (end == len(text) or text[end] == "\n"):
        while start > line_start and text[start - 1] in " \t":
            start -= 1  # the last sentence of its line: the space before it goes too
    if not text[line_start:start].strip() and (end == len(text) or text[end] == "\n"):
        start = line_start
        if end < len(text):
            end += 1
        elif start > 0:
            start -= 1  # the last line: the newline before it goes with it
    return text[:start] + text[end:]


def _filler(text: str) -> Iterator[Cut]:
    """Each sentence without its filler and politeness (the engine's filler rules)."""
    for start, end, sentence in _prose_sentences(text):
        new, removed = remove_filler(sentence)
        if not removed:
            continue
        if not new:
            yield start, end, None, sentence
        else:
            yield start, end, new, ", ".join(dict.fromkeys(r.strip(" ,").lower() for r in removed))


def _courtesy(text: str) -> Iterator[Cut]:
    """Sentences that only thank, greet or sign off."""
    for start, end, sentence in _prose_sentences(text):
        if _COURTESY.match(sentence):
            yield start, end, None, sentence


def _repetition(text: str) -> Iterator[Cut]:
    """A sentence said word for word before (rules and sentences with numbers stay)."""
    seen: set[str] = set()
    repeats: list[Cut] = []
    for s in split_sentences(text):
        key = " ".join(re.findall(r"\w+", s.text.lower()))
        if key in seen and not is_constraint(s.text) and not _NUMBER.search(s.text):
            repeats.append((s.start, s.end, None, s.text))
        seen.add(key)
    yield from reversed(repeats)


def _wordiness(text: str) -> Iterator[Cut]:
    """Wordy phrases shortened ("in order to" -> "to"), one sentence at a time."""
    for start, end, sentence in _prose_sentences(text):
        new = sentence
        found: list[str] = []
        for pattern, short in _WORDY:
            found += [m.group(0).strip() for m in pattern.finditer(new)]
            new = pattern.sub(short, new)
        if found:
            new = tidy(new)
            if sentence[:1].isupper():
                new = capitalize(new)
            yield start, end, new, ", ".join(found)


def _whitespace(text: str) -> Iterator[Cut]:
    """Trailing spaces, runs of spaces in prose lines, and more than one blank line."""
    code = [(s, e) for s, e, is_code in blocks(text) if is_code]
    out: list[str] = []
    pos = 0
    for line in text.split("\n"):
        if not any(s <= pos <= e for s, e in code):
            body = line.rstrip()
            indent = len(body) - len(body.lstrip())
            out.append(body[:indent] + re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", body[indent:]))
        else:
            out.append(line)
        pos += len(line) + 1
    new = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    if new != text:
        yield 0, len(text), new, "spare whitespace"


_EDITS: Final[tuple[tuple[str, Edit], ...]] = (
    ("filler", _filler),
    ("politeness", _courtesy),
    ("repetition", _repetition),
    ("wordiness", _wordiness),
    ("whitespace", _whitespace),
)
