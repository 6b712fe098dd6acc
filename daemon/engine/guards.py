"""Guards that hold for every engine (offline and LLM): placeholders, intent, content,
structure and size. The pipeline runs :func:`check` after every Designer, whatever engine
wrote the rewrite; a rewrite that breaks one is retried once, then refused with the reason.

* :func:`placeholders` finds template fields in every style promptd knows: ``{x}``,
  ``{{x}}``, ``{{ x | f }}``, ``{% ... %}`` blocks, ``${x}``, ``${x:default}``, ``{$X}``,
  ``%(x)s``, ``<<x>>``, ``[[x]]``, ``<x>``/``<X>`` template tags, f-string fields with
  conversions and format specs (``{value!r:>10}``), and ``$x`` where the prompt clearly uses
  it as a field. Each is an atom and they are counted as a multiset: a rewrite keeps every
  one byte for byte, as many times as it occurs; none dropped, split, invented or renamed.
* :func:`check_content` and :func:`check_shape` (:mod:`.preserve`): every instruction and
  constraint survives; JSON, YAML, code, templates, lists and image prompts keep their shape.
* :func:`intent_items` lists what carries the author's meaning (numbers and units, quoted
  strings, code spans, identifiers, URLs, named entities, explicit constraints); a rewrite
  that loses one is rejected with the missing items named.
* :func:`check_size` keeps a rewrite from ballooning; :func:`check_input` refuses inputs over
  the configured cap with :class:`~promptd.daemon.errors.InputError`.

:func:`check` runs all three and returns the violations (empty: the rewrite is acceptable).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Final, Literal

import msgspec

from ..config import EngineConfig
from ..values import Change
from .preserve import lost_content, shape_problems
from .text import ACRONYMS, SHOUT_WORDS, count_tokens, validate_input, wordlist

PlaceholderStyle = Literal[
    "jinja", "block", "dollar", "php", "percent", "brace", "tag", "angle", "bracket", "shell"
]

_PLACEHOLDER: Final = re.compile(
    r"(?P<block>\{%-?[^\n]{1,200}?-?%\}|\{#[^\n]{0,200}?#\})"
    r"|(?P<jinja>\{\{-?\s*[^{}\n]{1,80}?\s*-?\}\})"
    r"|(?P<dollar>\$\{[A-Za-z_][^{}\n]{0,80}\})"
    r"|(?P<php>\{\$[A-Za-z_][\w.\[\]'\"-]{0,80}\})"
    r"|(?P<percent>%\([A-Za-z_]\w{0,80}\)[#0 +-]?\d*(?:\.\d+)?[sdifrxXeEgGcoa])"
    r"|(?P<brace>\{(?:[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\[[^\[\]{}\n]{1,20}\])*|\d+|)"
    r"(?:![rsa])?(?::[^{}\n]{0,30})?\})"
    r"|(?P<angle><<[A-Za-z_][\w .-]{0,60}>>)"
    r"|(?P<bracket>\[\[[A-Za-z_][\w .:-]{0,60}\]\])"
    r"|(?P<tag><(?P<tagname>[A-Za-z_][\w-]{0,40}(?: [\w-]{1,20}){0,4})>)"
    r"|(?P<shell>(?<![\w$\\])\$[A-Za-z_]\w{0,60}\b)"
)

_FENCE_BLOCK: Final = re.compile(r"```.*?(?:```|\Z)", re.S)
_CLOSING_TAG: Final = re.compile(r"</([A-Za-z_][\w-]{0,40}(?: [\w-]{1,20}){0,4})>")

# HTML tags that are markup, not placeholders, when they appear unpaired.
_HTML: Final = wordlist(
    """
    a b i u p br hr em strong code pre div span ul ol li table tr td th img html body head
    title script style section article header footer nav main h1 h2 h3 h4 h5 h6 blockquote
    sub sup small kbd tt s q
    """
)


@lru_cache(maxsize=512)
def _placeholder_matches(text: str) -> tuple[tuple[str, str, int, int], ...]:
    """(token, style, start, end) for each placeholder, in order (cached: asked often)."""
    out: list[tuple[str, str, int, int]] = []
    closing = set(_CLOSING_TAG.findall(text)) if "</" in text else set()
    fences = [m.span() for m in _FENCE_BLOCK.finditer(text)] if "```" in text else []
    shell: list[tuple[str, str, int, int]] = []
    for m in _PLACEHOLDER.finditer(text):
        style = m.lastgroup or ""
        if style == "tagname":
            style = "tag"
        if m.group("shell") is not None:
            if not any(s <= m.start() < e for s, e in fences):
                shell.append((m.group(0), "shell", m.start(), m.end()))
            continue
        if m.group("tag") is not None:
            name = m.group("tagname")
            # A paired tag (<code>...</code>) is a delimiter, not a placeholder.
            if name in closing or name.lower() in _HTML:
                continue
            style = "tag"
        elif m.group("brace") is not None and m.group(0) == "{}":
            # A bare {} in prose is usually a JSON example or a set, not a field.
            continue
        out.append((m.group(0), style, m.start(), m.end()))
    if _clear_shell_use(shell):
        out = sorted(out + shell, key=lambda ph: ph[2])
    return tuple(out)


def _clear_shell_use(found: list[tuple[str, str, int, int]]) -> bool:
    """``$name`` fields count only where the prompt clearly uses them as fields: two or
    more uses, or one spelled like a variable (``$USER_NAME``, ``$first_name``)."""
    if not found:
        return False
    if len(found) >= 2:
        return True
    name = found[0][0][1:]
    return "_" in name or (name.isupper() and len(name) > 1)


def placeholders(text: str) -> list[str]:
    """The distinct placeholders in ``text``, verbatim, in order of first appearance."""
    seen: dict[str, None] = {}
    for token, _style, _s, _e in _placeholder_matches(text):
        seen.setdefault(token, None)
    return list(seen)


def placeholder_spans(text: str) -> list[tuple[str, str, int, int]]:
    """Every placeholder occurrence: (token, style, start, end)."""
    return list(_placeholder_matches(text))


def placeholder_name(token: str) -> str:
    """The bare field name of a placeholder: ``{{ user.name }}`` -> ``user.name``."""
    inner = token.strip("{}$<>[]%#() ").strip()
    if token.startswith("%("):
        inner = token[2 : token.index(")")]
    inner = re.split(r"[!:|\s]", inner, maxsplit=1)[0]
    return inner.lstrip("$-").strip()


def mask_placeholders(text: str, fill: str = " ") -> str:
    """``text`` with each placeholder replaced by spaces (same length, spans stay valid)."""
    parts: list[str] = []
    pos = 0
    for _tok, _style, start, end in _placeholder_matches(text):
        parts.append(text[pos:start])
        parts.append(fill * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# --- intent ------------------------------------------------------------------------------


class IntentItem(msgspec.Struct, frozen=True):
    """One piece of meaning: ``kind`` and ``text`` for people; all ``needles`` must survive."""

    kind: str  # number | quote | code | identifier | url | entity | constraint
    text: str
    needles: tuple[str, ...]


_URL: Final = re.compile(r"\bhttps?://[^\s<>\"'`)\]]+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+\b")
_CODE_SPAN: Final = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)
_QUOTE: Final = re.compile(
    r"\"([^\"\n]{1,200})\"|“([^“”\n]{1,200})”|(?<![\w'])'([^'\n]{2,200})'(?![\w])"
)
_UNIT: Final = (
    r"%|percent|words?|characters?|chars|sentences?|paragraphs?|pages?|lines?|"
    r"bullet points?|bullets?|items?|points?|steps?|examples?|sections?|options?|ideas?|questions?|"
    r"tips?|reasons?|names?|slides?|minutes?|mins?|seconds?|secs?|hours?|days?|weeks?|months?|"
    r"years?|ms|s|kb|mb|gb|tb|k|m|tokens?|px|em|rem|usd|eur|dollars?|euros?|km|kg|g|mg|cm|mm|"
    r"stanzas?|verses?|columns?|rows?|tweets?|emails?|variations?|versions?|headlines?"
)
_NUMBER: Final = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:\s*(" + _UNIT + r"))?(?![\w])", re.I)
_IDENT: Final = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*_\w+|[a-z]+[A-Z]\w*|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\(?\)?|"
    r"[A-Za-z_]\w*\(\))(?![\w])"
)
_CAP_WORD: Final = re.compile(r"\b[A-Z][\w'’&-]*[A-Za-z0-9]\b|\b[A-Z]\b")
_WORD_TOKEN: Final = re.compile(r"[\w'’&-]+|[^\w\s]")
_CONSTRAINT: Final = re.compile(
    r"\b(?:at (?:most|least)|no (?:more|fewer|less) than|exactly|up to|under|over|fewer than|"
    r"less than|more than|maximum(?: of)?|minimum(?: of)?|between)\s+(\d+(?:[.,]\d+)?)"
    r"(?:\s+(?:and|to)\s+(\d+))?"
    r"|\b(?:in|into)\s+(English|French|German|Spanish|Italian|Portuguese|Dutch|Japanese|"
    r"Chinese|Korean|Russian|Arabic|Hindi|Polish|Swedish|Turkish|Ukrainian|Greek|Hebrew)\b"
    r"|\b(JSON|YAML|CSV|XML|Markdown|HTML|TOML|SQL)\b",
    re.I,
)
_NOT_ENTITIES: Final = frozenset({"I", "I'm", "I've", "I'd", "I'll", "OK", "Ok", "A", "AN", "THE"})


def _strip_spans(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * (m.end() - m.start()), text)


def intent_items(text: str) -> list[IntentItem]:
    """What the author wrote that carries meaning and must survive a rewrite."""
    return list(_intent_items(text))


@lru_cache(maxsize=256)
def _intent_items(text: str) -> tuple[IntentItem, ...]:
    items: list[IntentItem] = []
    seen: set[tuple[str, ...]] = set()

    def add(kind: str, shown: str, *needles: str) -> None:
        key = tuple(n.casefold() for n in needles if n.strip())
        if key and key not in seen:
            seen.add(key)
            items.append(IntentItem(kind, shown, key))

    masked = mask_placeholders(text)
    for m in _URL.finditer(masked):
        add("url", m.group(0).rstrip(".,;:"), m.group(0).rstrip(".,;:"))
    rest = _strip_spans(masked, _URL)
    for m in _CODE_SPAN.finditer(rest):
        body = (m.group(1) if m.group(1) is not None else m.group(2) or "").strip()
        if body:
            add("code", body[:60] + ("…" if len(body) > 60 else ""), *_code_needles(body))
    rest = _strip_spans(rest, _CODE_SPAN)
    for m in _QUOTE.finditer(rest):
        body = next(g for g in m.groups() if g is not None).strip()
        if body:
            add("quote", f'"{body}"', body)
    for m in _CONSTRAINT.finditer(rest):
        shown = m.group(0).strip()
        needles = [g for g in m.groups() if g]
        add("constraint", shown, *needles)
    for m in _NUMBER.finditer(rest):
        number, unit = m.group(1), m.group(2)
        if unit:
            add("number", m.group(0), number, _unit_stem(unit))
        else:
            add("number", number, number)
    for m in _IDENT.finditer(rest):
        add("identifier", m.group(0), m.group(0))
    for entity in _entities(rest):
        add("entity", entity, entity)
    return tuple(items)


def _code_needles(body: str) -> tuple[str, ...]:
    # Whitespace inside code may be re-indented; every line's text must survive.
    return tuple(line.strip() for line in body.splitlines() if line.strip())


def _unit_stem(unit: str) -> str:
    unit = unit.lower()
    for suffix in ("es", "s"):
        if len(unit) > 3 and unit.endswith(suffix) and unit not in ("ms", "mins", "secs"):
            return unit[: -len(suffix)] if not unit.endswith("ses") else unit[:-1]
    return unit


def _entities(text: str) -> list[str]:
    """Capitalized words inside a sentence (after a lowercase word or comma), and acronyms."""
    out: list[str] = []
    tokens = list(_WORD_TOKEN.finditer(text))
    for i, tok in enumerate(tokens):
        word = tok.group(0)
        if not word[0].isupper() or word in _NOT_ENTITIES or i == 0:
            continue
        prev = tokens[i - 1].group(0)
        if word.isupper() and len(word) > 1:
            if word.replace("'", "") in SHOUT_WORDS:
                continue
            neighbours = [tokens[j].group(0) for j in (i - 1, i + 1) if 0 <= j < len(tokens)]
            if any(n.isupper() and len(n) > 1 and n not in ACRONYMS for n in neighbours):
                continue  # part of a shouted run
            out.append(word)
        elif (prev[0].islower() or prev == ",") and not prev.endswith((".", "!", "?", ":")):
            out.append(word)
    return out


def missing_intent(original: str, rewritten: str) -> list[IntentItem]:
    """Intent items of ``original`` that ``rewritten`` lost."""
    haystack = re.sub(r"\s+", " ", rewritten).casefold()
    return [
        item
        for item in intent_items(original)
        if not all(re.sub(r"\s+", " ", n) in haystack for n in item.needles)
    ]


# --- size and the combined check ---------------------------------------------------------


class GuardViolation(msgspec.Struct, frozen=True, kw_only=True):
    """A guard the rewrite broke: ``guard`` (placeholders | intent | content | structure |
    size), a message, and the items it names."""

    guard: str
    message: str
    items: list[str] = msgspec.field(default_factory=list)


def check_input(text: str, config: EngineConfig | None = None) -> None:
    """Raise :class:`~promptd.daemon.errors.InputError` for empty, binary or over-cap input."""
    validate_input(text, (config or EngineConfig()).max_input_chars)


def size_limit(original: str, config: EngineConfig | None = None) -> int:
    """The most tokens a rewrite of ``original`` may have."""
    cfg = config or EngineConfig()
    return int(count_tokens(original) * cfg.growth_ratio) + cfg.header_allowance_tokens


def placeholder_counts(text: str) -> Counter[str]:
    """Every placeholder of ``text`` with how often it occurs (the guard's multiset)."""
    return Counter(token for token, _style, _s, _e in _placeholder_matches(text))


def check_placeholders(original: str, rewritten: str) -> GuardViolation | None:
    """Placeholders as a multiset: each one verbatim, as many times as in the original.

    A placeholder is an atom: one split (``${a:b}`` into ``$`` and ``{a:b}``), wrapped
    inside or re-spelled shows up here as one dropped and one invented.
    """
    before, after = placeholder_counts(original), placeholder_counts(rewritten)
    if before == after:
        return None
    parts: list[str] = []
    items: list[str] = []
    dropped = [p for p in before if p not in after]
    invented = [p for p in after if p not in before]
    fewer = [f"{p} ({after[p]} of {n})" for p, n in before.items() if 0 < after[p] < n]
    more = [f"{p} ({n} for {before[p]})" for p, n in after.items() if before[p] and n > before[p]]
    if dropped:
        parts.append("dropped " + ", ".join(dropped))
    if fewer:
        parts.append("dropped uses of " + ", ".join(fewer))
    if invented:
        parts.append("invented " + ", ".join(invented))
    if more:
        parts.append("added uses of " + ", ".join(more))
    items = dropped + [p for p, n in before.items() if 0 < after[p] < n] + invented
    items += [p for p, n in after.items() if before[p] and n > before[p]]
    return GuardViolation(
        guard="placeholders",
        message="placeholders must come out exactly as they went in, each as many times: "
        + "; ".join(parts),
        items=items,
    )


def check_intent(original: str, rewritten: str) -> GuardViolation | None:
    lost = missing_intent(original, rewritten)
    if not lost:
        return None
    shown = [f"{item.kind} {item.text}" for item in lost]
    return GuardViolation(
        guard="intent",
        message="the rewrite lost what the author wrote: " + "; ".join(shown),
        items=[item.text for item in lost],
    )


def check_size(
    original: str, rewritten: str, config: EngineConfig | None = None
) -> GuardViolation | None:
    limit = size_limit(original, config)
    size = count_tokens(rewritten)
    if size <= limit:
        return None
    return GuardViolation(
        guard="size",
        message=f"the rewrite has {size} tokens, more than the limit of {limit} "
        f"({count_tokens(original)} in the original); keep it closer to the original",
        items=[str(size)],
    )


def check_content(
    original: str, rewritten: str, changes: Sequence[Change] = ()
) -> GuardViolation | None:
    """Every instruction, constraint, example and template line of ``original`` survives
    (see :mod:`promptd.daemon.engine.preserve`); removals a listed rule declares are excused."""
    lost = lost_content(original, rewritten, changes)
    if not lost:
        return None
    shown = "; ".join(f'"{s[:80]}"' for s in lost[:5])
    return GuardViolation(
        guard="content",
        message=f"the rewrite lost what the original says: {shown}; keep every instruction, "
        "constraint and example",
        items=lost,
    )


def check_shape(original: str, rewritten: str) -> GuardViolation | None:
    """JSON, YAML, code, output templates, lists and image prompts keep their shape."""
    problems = shape_problems(original, rewritten)
    if not problems:
        return None
    return GuardViolation(
        guard="structure",
        message="the rewrite broke the prompt's shape: "
        + "; ".join(problems)
        + "; make improvements around it, not inside it",
        items=problems,
    )


def check(
    original: str,
    rewritten: str,
    config: EngineConfig | None = None,
    changes: Sequence[Change] = (),
) -> list[GuardViolation]:
    """Every guard violation of ``rewritten`` against ``original`` (empty: all guards hold).

    The guards: ``placeholders`` (a multiset, each an atom), ``intent`` (numbers, names,
    quotes, code, URLs), ``content`` (every instruction and constraint), ``structure`` (JSON,
    YAML, code, templates, lists, image prompts) and ``size``. ``changes`` are the rewrite's
    own account of what it did: a removal by a listed rule (filler, shouting, a repeated
    sentence) that quotes what it removed is not counted as lost content.
    """
    found = [
        check_placeholders(original, rewritten),
        check_intent(original, rewritten),
        check_content(original, rewritten, changes),
        check_shape(original, rewritten),
        check_size(original, rewritten, config),
    ]
    return [v for v in found if v is not None]
