"""Similar past prompts from the daemon's library: hover lines, the lens title, picks.

The daemon's ``library.search`` answers :class:`~promptd.daemon.library.types.SearchHit`
items; only past optimizations are offered here (they have an optimized prompt to insert).
Pure functions; the I/O (deadlines, the cache by prompt hash) is
:mod:`promptd.lsp.flows.library`.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from promptd.daemon.library.types import SearchHit

HOVER_HITS: Final = 3
MIN_SIMILARITY: Final = 30  # below this word overlap a hit is not "similar"
PICK_HITS: Final = 10


def key(text: str) -> str:
    """The cache key of a prompt text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def similar(hits: list[SearchHit], text: str) -> list[SearchHit]:
    """The past optimizations among ``hits`` similar enough to be worth showing (best
    first), not counting a rejected rewrite."""
    return [
        h
        for h in hits
        if h.kind == "optimization"
        and h.result
        and not h.rejected
        and h.similarity >= MIN_SIMILARITY
    ]


def opt_id(hit: SearchHit) -> str:
    return hit.ref.split(":", 1)[1] if ":" in hit.ref else hit.ref


def describe(hit: SearchHit) -> str:
    """One line about a hit: similarity, score, date, kept, id."""
    parts = [f"{hit.similarity}% similar", f"score {hit.score}"]
    if hit.at:
        parts.append(hit.at[:10])
    if hit.kept:
        parts.append("kept")
    parts.append(opt_id(hit))
    return " · ".join(parts)


def hover_lines(hits: list[SearchHit], *, markdown: bool) -> str:
    """The hover section listing the few most similar past prompts ("" when none)."""
    if not hits:
        return ""
    bold = "**" if markdown else ""
    lines = [f"{bold}Similar past prompts{bold}"]
    for hit in hits[:HOVER_HITS]:
        preview = " ".join(hit.text.split())
        if len(preview) > 60:
            preview = preview[:59] + "…"
        lines.append(f"- {describe(hit)}: {preview}")
    return "\n".join(lines)


def lens_title(count: int) -> str:
    return f"{count} similar prompt" + ("" if count == 1 else "s")


def picks(hits: list[SearchHit]) -> list[dict[str, Any]]:
    """What a client lists to choose from: label, detail, and the optimized text to insert."""
    return [
        {
            "id": opt_id(hit),
            "label": " ".join(hit.result.split())[:80],
            "detail": describe(hit),
            "text": hit.result,
        }
        for hit in hits[:PICK_HITS]
    ]
