"""Prompts in Python source: string literals found with a small lexer.

The lexer follows Python's tokenizer rules for what matters here (comments, string
prefixes, single/triple quotes, escapes, implicit concatenation inside brackets) and runs
in C-speed regular expressions: ``tokenize`` and ``ast`` take 200 ms on a 5,000-line file,
this takes a few, so diagnostics keep up with typing. It works on code that does not parse
yet (an unterminated string ends the scan; everything before it is still found).
Offsets are code points of the document text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

from . import heuristics as h
from .model import Piece, Prompt, Style
from .normalize import normalize

# The next quote, or a comment that holds one (comments without quotes are skipped in C).
_NEXT: Final = re.compile(r"#[^\n'\"]*(?=['\"])|['\"]")
_COMMENT: Final = re.compile(r"#[^\n]*")
_TRIPLE: Final = {
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*"""', re.DOTALL),
    "'''": re.compile(r"(?:[^'\\]|\\.|'(?!''))*'''", re.DOTALL),
}
_SINGLE: Final = {
    '"': re.compile(r'(?:[^"\\\r\n]|\\(?:\r\n|[\s\S]))*"'),
    "'": re.compile(r"(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'"),
}
_VALID_PREFIXES: Final = frozenset({"", "r", "u", "b", "f", "br", "rb", "fr", "rf"})
_RETURN: Final = re.compile(r"\breturn\s*\(?\s*$")
_DEF: Final = re.compile(r"^[ \t]*(?:async\s+)?def\s+(\w+)", re.MULTILINE)
_ESCAPE: Final = re.compile(
    r"\\(\r\n|\n|[\\'\"abfnrtv]|[0-7]{1,3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\})"
)
_SIMPLE_ESCAPES: Final = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    prefix: str
    quote: str
    body_start: int
    body_end: int
    depth: int  # bracket depth before the token
    gap: str  # code between the previous token (string or comment) and this one


def _lex(text: str) -> Iterator[_Token]:
    """String tokens of ``text``, with the bracket depth and the code before each."""
    pos = 0
    depth = 0
    gap_start = 0
    while True:
        match = _NEXT.search(text, pos)
        if match is None:
            return
        at = match.start()
        if text[at] == "#":
            depth += _depth_change(_code(text[pos:at]))
            eol = text.find("\n", at)
            pos = len(text) if eol < 0 else eol
            continue
        # A quote: read back over the prefix letters.
        prefix_start = at
        while prefix_start > pos and at - prefix_start < 2 and text[prefix_start - 1] in "rRbBuUfF":
            prefix_start -= 1
        if prefix_start > 0 and (text[prefix_start - 1].isalnum() or text[prefix_start - 1] == "_"):
            prefix_start = at  # the letters belong to a name: no prefix
        prefix = text[prefix_start:at]
        depth += _depth_change(_code(text[pos:prefix_start]))
        quote = text[at : at + 3]
        if quote in _TRIPLE:
            body = _TRIPLE[quote].match(text, at + 3)
        else:
            quote = text[at]
            body = _SINGLE[quote].match(text, at + 1)
        if body is None:
            return  # unterminated: the rest of the file is not reliable yet
        end = body.end()
        if prefix.lower() in _VALID_PREFIXES:
            yield _Token(
                start=prefix_start,
                end=end,
                prefix=prefix,
                quote=quote,
                body_start=at + len(quote),
                body_end=end - len(quote),
                depth=depth,
                gap=text[gap_start:prefix_start],
            )
        gap_start = end
        pos = end


def _code(segment: str) -> str:
    """``segment`` without its comments (brackets in comments do not count)."""
    return _COMMENT.sub("", segment) if "#" in segment else segment


def _depth_change(code: str) -> int:
    count = code.count
    return count("(") + count("[") + count("{") - count(")") - count("]") - count("}")


def _strip_comments(code: str) -> str:
    return re.sub(r"#[^\n]*", "", code)


def _decode(text: str, token: _Token) -> tuple[str, list[int], list[str]]:
    """The value of one literal, the document offset of each character, its fields."""
    prefix = token.prefix.lower()
    raw = "r" in prefix
    fstring = "f" in prefix
    out: list[str] = []
    offsets: list[int] = []
    fields: list[str] = []
    i = token.body_start
    end = token.body_end
    while i < end:
        ch = text[i]
        if fstring and ch in "{}":
            if i + 1 < end and text[i + 1] == ch:
                out.append(ch)
                offsets.append(i)
                i += 2
                continue
            if ch == "{":
                close = _field_end(text, i, end)
                field = text[i:close]
                fields.append(field)
                out.extend(field)
                offsets.extend(range(i, close))
                i = close
                continue
        if ch == "\\" and not raw:
            esc = _ESCAPE.match(text, i)
            if esc is not None:
                value = _escape_value(esc.group(1), prefix)
                out.append(value)
                offsets.extend([i] * len(value))
                i = esc.end()
                continue
        out.append(ch)
        offsets.append(i)
        i += 1
    offsets.append(end)
    return "".join(out), offsets, fields


def _field_end(text: str, start: int, end: int) -> int:
    """The offset after the ``}`` closing the f-string field opened at ``start``."""
    depth = 0
    quote = ""
    i = start
    while i < end:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return end


def _escape_value(esc: str, prefix: str) -> str:
    if esc in ("\n", "\r\n"):
        return ""
    if esc in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[esc]
    if esc[0] in "01234567":
        return chr(int(esc, 8))
    if esc[0] == "x":
        return chr(int(esc[1:], 16))
    if "b" in prefix:
        return "\\" + esc
    if esc[0] in "uU":
        code = int(esc[1:], 16)
        return chr(code) if code <= 0x10FFFF else "\\" + esc
    if esc[0] == "N":
        import unicodedata

        try:
            return unicodedata.lookup(esc[2:-1])
        except KeyError:
            return "\\" + esc
    return "\\" + esc


def _groups(tokens: list[_Token]) -> Iterator[list[_Token]]:
    """Implicitly concatenated literals: adjacent strings with only space or comments
    between them, on one line or inside brackets."""
    group: list[_Token] = []
    for token in tokens:
        if group:
            between = _strip_comments(token.gap)
            joined = not between.strip() and (token.depth > 0 or "\n" not in between)
            joined = joined and "\\" not in between.replace("\\\n", "")
            if joined:
                group.append(token)
                continue
            yield group
        group = [token]
    if group:
        yield group


def detect(text: str, min_words: int, eol: str = "\n") -> list[Prompt]:
    tokens = list(_lex(text))
    prompts: list[Prompt] = []
    previous: list[_Token] = []
    for group in _groups(tokens):
        found = _classify(text, group, previous, min_words, eol)
        if found is not None:
            prompts.append(found)
        previous = group
    return prompts


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, len(text) if end < 0 else end


def _trailing_name(code: str) -> str:
    """The dotted name at the end of ``code`` ("client.chat" in "x = client.chat")."""
    i = len(code)
    while i > 0 and (code[i - 1].isalnum() or code[i - 1] in "_."):
        i -= 1
    return code[i:].strip(".")


def _assigned_name(code: str) -> str:
    """The name before a final ``=`` / ``+=`` (assignment or keyword argument), or ""."""
    code = code.rstrip(" \t\r\n([")
    if not code.endswith("="):
        return ""
    code = code[:-1]
    if code.endswith(("=", "!", "<", ">")):  # a comparison, not an assignment
        return ""
    code = code.rstrip("+|").rstrip(" \t")
    line = code[code.rfind("\n") + 1 :]
    if ":" in line and "(" not in line.rsplit(":", 1)[1]:  # x: str = ...
        code = code[: len(code) - len(line)] + line.split(":", 1)[0].rstrip()
    return _trailing_name(code)


def _context(text: str, group: list[_Token], previous: list[_Token]) -> tuple[str, str]:
    """(reason, name) from the code before the literal, or ("", "")."""
    first = group[0]
    tail = _strip_comments(first.gap[-400:])[-160:]
    stripped = tail.rstrip(" \t\r\n")
    bare = stripped.rstrip("(")
    if previous and tail.strip(" \t\r\n(") == ":":  # {"key": "value"}
        key_token = previous[0]
        key = text[key_token.body_start : key_token.body_end]
        if key == "content":
            return "role", key
        return ("name", key) if h.is_prompt_name(key) else ("", "")
    if stripped.endswith("("):
        name = _trailing_name(stripped[:-1].rstrip())
        if name:
            if h.is_excluded_call(name):
                return "excluded", name
            if h.is_prompt_name(name.rsplit(".", 1)[-1]):
                return "name", name
            # prompt = dedent("..."): the assigned name decides
            stripped = stripped[: len(stripped) - 1].rstrip()[: -len(name)]
            bare = stripped.rstrip(" \t\r\n(")
    name = _assigned_name(stripped)
    if name:
        name = name.rsplit(".", 1)[-1]
        if name in h.NOT_PROMPT_KWARGS or h.is_excluded_name(name):
            return "excluded", name
        return ("name", name) if h.is_prompt_name(name) else ("", "")
    if bare.endswith("return") and _RETURN.search(tail):
        defs = list(_DEF.finditer(text, max(0, first.start - 5000), first.start))
        if defs and h.is_prompt_name(defs[-1].group(1)):
            return "name", defs[-1].group(1)
    return "", ""


def _is_statement(text: str, first: _Token) -> bool:
    """A string on its own at statement level (a docstring)."""
    if first.depth > 0:
        return False
    line_start, _ = _line_bounds(text, first.start)
    return not text[line_start : first.start].strip()


def _classify(
    text: str, group: list[_Token], previous: list[_Token], min_words: int, eol: str
) -> Prompt | None:
    first = group[0]
    line_start, own_line_end = _line_bounds(text, first.start)
    above_start, _ = _line_bounds(text, max(0, line_start - 1))
    above = text[above_start:line_start] if line_start > 0 else ""
    same_line = text[line_start:own_line_end]
    if h.has_ignore(above) or h.has_ignore(same_line):
        return None
    reason, name = _context(text, group, previous)
    if h.has_marker(above) or h.has_marker(same_line):
        reason = "marker"
    if reason == "excluded":
        return None
    statement = not reason and _is_statement(text, first)
    return _build(text, group, reason, name, statement, min_words, eol)


def _build(
    text: str,
    group: list[_Token],
    reason: str,
    name: str,
    statement: bool,
    min_words: int,
    eol: str,
) -> Prompt | None:
    """The prompt of a classified literal group ("" reason: a prompt if natural prose)."""
    first, last = group[0], group[-1]
    values: list[str] = []
    offsets: list[int] = []
    fields: list[str] = []
    for token in group:
        value, token_offsets, token_fields = _decode(text, token)
        values.append(value)
        offsets.extend(token_offsets[:-1])
        fields.extend(token_fields)
    offsets.append(last.body_end)
    value = "".join(values)

    if not reason:
        if statement or not h.looks_natural(value, min_words):
            return None
        reason = "natural"
    if not value.strip():
        return None

    pieces = tuple(_piece(text, t) for t in group)
    bytes_literal = any("b" in t.prefix.lower() for t in group)
    content, content_offsets, lead, trail, indent, exempt = normalize(
        value, offsets, multiline_literal=any(len(t.quote) == 3 for t in group)
    )
    if not content.strip():
        return None
    style = Style(
        language="python",
        pieces=pieces,
        kind="string",
        fields=tuple(fields),
        lead=lead,
        trail=trail,
        indent=indent,
        first_line_exempt=exempt,
        eol=eol,
    )
    return Prompt(
        start=first.start,
        end=last.end,
        content=content,
        offsets=content_offsets,
        style=style,
        reason=reason,
        name=name,
        editable=not bytes_literal,
        why_not="a bytes literal holds bytes, not text: promptd does not rewrite it"
        if bytes_literal
        else "",
    )


def _piece(text: str, token: _Token) -> Piece:
    line_start = text.rfind("\n", 0, token.start) + 1
    before = text[line_start : token.start]
    return Piece(
        start=token.start,
        end=token.end,
        prefix=token.prefix,
        quote=token.quote,
        column=token.start - line_start,
        line_indent=before[: len(before) - len(before.lstrip(" \t"))],
        own_line=not before.strip(),
    )


# An edit that changes none of these inside one literal's body leaves every token, bracket
# and comment of the file where it was: only that literal's value changes.
_UNSAFE_IN_EDIT: Final = re.compile(r"['\"\\\r\n]")
_BLOCK: Final = 4096


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix (compared in halving blocks, in C)."""
    limit = min(len(a), len(b))
    i, step = 0, _BLOCK
    while step:
        while i + step <= limit and a[i : i + step] == b[i : i + step]:
            i += step
        step //= 2
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit``."""
    n, step = 0, _BLOCK
    while step:
        while (
            n + step <= limit
            and a[len(a) - n - step : len(a) - n] == b[len(b) - n - step : len(b) - n]
        ):
            n += step
        step //= 2
    return n


def _token_of(piece: Piece) -> _Token:
    body_start = piece.start + len(piece.prefix) + len(piece.quote)
    body_end = piece.end - len(piece.quote)
    return _Token(piece.start, piece.end, piece.prefix, piece.quote, body_start, body_end, 0, "")


def _moved(token: _Token, start: int, end: int, delta: int) -> _Token:
    """``token`` after [start, end) changed length by ``delta``."""
    if token.body_start <= start and end <= token.body_end:  # the edited one
        return replace(token, end=token.end + delta, body_end=token.body_end + delta)
    if token.start >= end:
        return replace(
            token,
            start=token.start + delta,
            end=token.end + delta,
            body_start=token.body_start + delta,
            body_end=token.body_end + delta,
        )
    return token


def _shifted(prompt: Prompt, delta: int, line_end: int) -> Prompt:
    """``prompt`` moved by ``delta``; pieces before ``line_end`` (new offsets) are on the
    edited line, so their column moves too."""
    pieces = tuple(
        replace(
            piece,
            start=piece.start + delta,
            end=piece.end + delta,
            column=piece.column + delta if piece.start + delta < line_end else piece.column,
        )
        for piece in prompt.style.pieces
    )
    return replace(
        prompt,
        start=prompt.start + delta,
        end=prompt.end + delta,
        offsets=[offset + delta for offset in prompt.offsets],
        style=replace(prompt.style, pieces=pieces),
    )


def redetect(
    old_text: str, old: list[Prompt], text: str, min_words: int, eol: str = "\n"
) -> list[Prompt] | None:
    """``detect(text)`` from ``detect(old_text) == old`` when ``text`` differs from
    ``old_text`` only inside one prompt's literal body, without quotes, backslashes or line
    breaks in what changed, so no token of the file moves but by an offset: that prompt is
    decoded again and the later ones shifted. None when the edit is not that simple (or may
    change how a neighbour is classified): call :func:`detect`.
    """
    start = _common_prefix(old_text, text)
    limit = min(len(old_text), len(text)) - start
    suffix = _common_suffix(old_text, text, limit)
    old_end, new_end = len(old_text) - suffix, len(text) - suffix
    removed, inserted = old_text[start:old_end], text[start:new_end]
    if _UNSAFE_IN_EDIT.search(removed) or _UNSAFE_IN_EDIT.search(inserted):
        return None
    if start > 0 and old_text[start - 1] == "\\":
        return None  # the edit would change an escape sequence
    at = bisect.bisect_right([p.start for p in old], start) - 1
    if at < 0:
        return None
    prompt = old[at]
    tokens = [_token_of(piece) for piece in prompt.style.pieces]
    if not any(t.body_start <= start and old_end <= t.body_end for t in tokens):
        return None
    # Markers and `def` lines are read from the lines around literals: keep them out.
    line_start, line_end = _line_bounds(text, start)
    old_line = old_text[line_start : _line_bounds(old_text, start)[1]]
    new_line = text[line_start:line_end]
    if any(word in line for line in (old_line, new_line) for word in ("promptd", "def")):
        return None
    after = old_text[prompt.end : prompt.end + 200].lstrip(" \t\r\n")
    if after[:1] in (":", "#", ""):
        return None  # a dict key (it names the next value) or a comment: not simple
    delta = len(inserted) - len(removed)
    moved = [_moved(t, start, old_end, delta) for t in tokens]
    reason = "" if prompt.reason == "natural" else prompt.reason
    rebuilt = _build(text, moved, reason, prompt.name, False, min_words, eol)
    if rebuilt is None:
        return None
    later = [_shifted(p, delta, line_end) for p in old[at + 1 :]] if delta else old[at + 1 :]
    return [*old[:at], rebuilt, *later]
