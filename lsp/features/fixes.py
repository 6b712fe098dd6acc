"""Local quick fixes: findings the prompt text itself can fix without the engine.

Each fix returns the prompt's new content; the literal is then re-rendered, so escaping
and quoting stay right. Only mechanical fixes live here (filler words, shouting, repeated
sentences); anything that needs judgment is left to "Optimize prompt".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from promptd.daemon.values import Finding

FixFn = Callable[[str, int, int], str | None]


def _sentence_start(before: str) -> bool:
    head = before.rstrip(" \t")
    return not head or head[-1] in ".!?:\n"


def _remove(text: str, start: int, end: int) -> str | None:
    """Remove text[start:end], leaving one space at most and a capital at a sentence start."""
    if start >= end:
        return None
    before, after = text[:start], text[end:]
    if before.endswith((" ", "\t")) and (not after or after[0] in " \t,.;:!?\n"):
        before = before.rstrip(" \t")
        if after[:1] in (" ", "\t") and before and before[-1] not in "\n":
            after = " " + after.lstrip(" \t")
    if _sentence_start(before):
        if not before.strip() or before.endswith("\n"):
            after = after.lstrip(" \t")
        stripped = after.lstrip(" \t")
        if stripped[:1].islower():
            offset = len(after) - len(stripped)
            after = after[:offset] + stripped[0].upper() + stripped[1:]
    return before + after


def _calm(text: str, start: int, end: int) -> str | None:
    chunk = text[start:end]
    if re.fullmatch(r"!{2,}|\?{2,}", chunk):
        replacement = chunk[0]
    elif chunk.isupper():
        replacement = chunk.lower()
        head = text[:start].rstrip()
        if not head or head[-1] in ".!?\n":
            replacement = replacement[:1].upper() + replacement[1:]
    else:
        return None
    return text[:start] + replacement + text[end:]


def _drop_sentence(text: str, start: int, end: int) -> str | None:
    while end < len(text) and text[end] in " \t":
        end += 1
    return _remove(text, start, end)


FIXES: Final[dict[str, tuple[str, FixFn]]] = {
    "PD012": ("Tone down the shouting", _calm),
    "PD013": ("Remove the filler", _remove),
    "PD019": ("Remove the repeated sentence", _drop_sentence),
}


def quick_fix(content: str, finding: Finding) -> tuple[str, str] | None:
    """(title, new content) when ``finding`` has a local fix, else None."""
    entry = FIXES.get(finding.code)
    if entry is None or finding.span is None:
        return None
    title, fn = entry
    new = fn(content, finding.span.start, finding.span.end)
    if new is None or new == content or not new.strip():
        return None
    return title, new
