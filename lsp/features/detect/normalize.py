"""From a literal's value to the prompt text the engine sees, and back.

A multi-line literal in indented code usually carries the code's indentation and a
newline after the opening quote. The engine gets the text without them; the rewrite puts
them back, so the literal keeps the look of the code around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

_LEAD: Final = re.compile(r"[ \t]*(?:\r\n|\r|\n)(?:[ \t]*(?:\r\n|\r|\n))*")
_TRAIL: Final = re.compile(r"(?:\r\n|\r|\n)[ \t\r\n]*\Z")
_LINE: Final = re.compile(r"[^\n]*(?:\n|\Z)")


def normalize(
    value: str, offsets: Sequence[int], *, multiline_literal: bool
) -> tuple[str, list[int], str, str, str, bool]:
    """``(content, content_offsets, lead, trail, indent, first_line_exempt)``.

    ``offsets`` has one entry per character of ``value`` plus one for its end.
    """
    if not multiline_literal or "\n" not in value:
        return value, list(offsets), "", "", "", True
    lead_match = _LEAD.match(value)
    lead = lead_match.group() if lead_match else ""
    trail_match = _TRAIL.search(value, len(lead))
    trail = trail_match.group() if trail_match else ""
    middle_end = len(value) - len(trail)
    middle = value[len(lead) : middle_end]
    exempt = not lead
    lines = middle.split("\n")
    candidates = lines[1:] if exempt else lines
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in candidates if line.strip()]
    indent = _common_prefix(indents) if indents else ""
    base = len(lead)
    if not indent:
        content_offsets = list(offsets[base:middle_end])
        content_offsets.append(offsets[middle_end])
        return middle, content_offsets, lead, trail, "", exempt
    out: list[str] = []
    content_offsets = []
    pos = base
    for number, line in enumerate(lines):
        strip = 0
        if (number > 0 or not exempt) and line.startswith(indent):
            strip = len(indent)
        elif (number > 0 or not exempt) and not line.strip():
            strip = len(line)
        kept = line[strip:]
        out.append(kept)
        content_offsets.extend(offsets[pos + strip : pos + len(line)])
        pos += len(line)
        if number < len(lines) - 1:
            out.append("\n")
            content_offsets.append(offsets[pos])
            pos += 1
    content_offsets.append(offsets[middle_end])
    return "".join(out), content_offsets, lead, trail, indent, exempt


def _common_prefix(items: list[str]) -> str:
    first, last = min(items), max(items)
    size = 0
    while size < len(first) and size < len(last) and first[size] == last[size]:
        size += 1
    return first[:size]


def denormalize(
    content: str, *, lead: str, trail: str, indent: str, first_line_exempt: bool
) -> str:
    """The literal value for new ``content``: lead, indentation and trail put back."""
    if indent:
        lines = content.split("\n")
        content = "\n".join(
            line if (i == 0 and first_line_exempt) or not line.strip() else indent + line
            for i, line in enumerate(lines)
        )
    return lead + content + trail
