"""Grounding: what the LLM Designer is given from the library, within a token budget.

The library service retrieves, for a prompt, the most similar past optimizations (their
original and their rewrite: *examples*) and the most relevant passages (the user's prompt
files and, when configured, xAI Collections hits: *passages*). :func:`select` keeps the few
that fit ``[library] examples_tokens``: kept rewrites first, then by similarity; examples
before passages. :func:`render` writes them as the Designer's ``<examples>`` and
``<library>`` sections; :func:`grounding_of` is what the result says it used.

Tokens: loading the ``o200k_base`` vocabulary of :mod:`promptd.daemon.tools.tokens` (the
one ``promptd trim`` uses) costs seconds of CPU with the GIL held, which would stall the
daemon's retrieval; so the daemon counts with the documented estimate, UTF-8 bytes / 3, which
errs high (English prose is ~4 bytes a token): the budget is never exceeded, and is used to
about 75%. Once the vocabulary is loaded (:func:`wait_tokenizer`, as the bench does) the
counts are exact.
Pure functions otherwise, no I/O: the service calls them after its searches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Final

import msgspec

from ..values import Finding, Grounding, Related

MAX_EXAMPLES: Final = 3
MAX_PASSAGES: Final = 3
MAX_ITEM_CHARS: Final = 4000  # one example or passage is cut here before it is counted
_TAG_OVERHEAD: Final = 16  # the tags and labels around one item, in tokens


class Material(msgspec.Struct, frozen=True, kw_only=True):
    """One candidate for the Designer: an example (a past rewrite) or a passage."""

    ref: str  # "opt:ID" | "file:PATH" | "collection:ID/DOC"
    kind: str  # example | passage
    source: str  # history | library | collection
    similarity: int  # 0-100
    text: str  # example: the original prompt; passage: its text
    result: str = ""  # example: the rewrite
    kept: bool = False
    tokens: int = 0  # set by :func:`select`
    query: str = ""  # the search_library query that found it ("": up front)


class Retrieval(msgspec.Struct, kw_only=True):
    """What the library found for one run: shown to the author, and for the Designer."""

    related: list[Related] = msgspec.field(default_factory=list)
    materials: list[Material] = msgspec.field(default_factory=list)  # within the budget
    note: str = ""  # why there is less (or no) grounding: index not ready, Collections down


class Lookup(msgspec.Struct, kw_only=True):
    """What one ``search_library`` lookup of the Designer found."""

    query: str
    materials: list[Material] = msgspec.field(default_factory=list)
    note: str = ""
    duration_ms: int = 0


def _order(m: Material) -> tuple[int, int, int]:
    return (m.kind == "example", m.kept, m.similarity)


_loaded = threading.Event()
_loading = threading.Lock()


def _load_tokenizer() -> None:
    from ..tools.tokens import count

    count("warm up")
    _loaded.set()


def warm_tokenizer() -> None:
    """Start loading the ``o200k_base`` vocabulary in a thread of its own (once)."""
    if not _loaded.is_set() and _loading.acquire(blocking=False):
        threading.Thread(target=_load_tokenizer, name="promptd-tokenizer", daemon=True).start()


def wait_tokenizer(timeout_s: float) -> bool:
    """Load the vocabulary (in its thread) and wait for it; False when it took too long."""
    warm_tokenizer()
    return _loaded.wait(timeout_s)


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in ``o200k_base`` once the vocabulary is loaded, else UTF-8
    bytes / 3, an estimate that errs high (see the module's docstring)."""
    if _loaded.is_set():
        from ..tools.tokens import count

        return count(text)
    return (len(text.encode("utf-8")) + 2) // 3


def _body(m: Material) -> str:
    if m.kind == "example":
        return f"Original:\n{m.text[:MAX_ITEM_CHARS]}\nRewrite:\n{m.result[:MAX_ITEM_CHARS]}"
    return m.text[:MAX_ITEM_CHARS]


def select(
    candidates: Iterable[Material],
    budget_tokens: int,
    *,
    max_examples: int = MAX_EXAMPLES,
    max_passages: int = MAX_PASSAGES,
    count: Callable[[str], int] = count_tokens,
) -> list[Material]:
    """The candidates the Designer gets, best first, within ``budget_tokens`` in all.

    Examples rank before passages, kept rewrites before the others, then the most similar;
    a candidate that does not fit is skipped (a smaller one after it may still fit). The same
    ref is taken once.
    """
    chosen: list[Material] = []
    left = budget_tokens
    seen: set[str] = set()
    room = {"example": max_examples, "passage": max_passages}
    for m in sorted(candidates, key=_order, reverse=True):
        if m.ref in seen or room.get(m.kind, 0) <= 0:
            continue
        tokens = count(_body(m)) + _TAG_OVERHEAD
        if tokens > left:
            continue
        seen.add(m.ref)
        room[m.kind] -= 1
        left -= tokens
        chosen.append(msgspec.structs.replace(m, tokens=tokens))
    return chosen


def render(materials: Sequence[Material]) -> str:
    """The Designer's grounding sections ("" when there is nothing)."""
    examples = [m for m in materials if m.kind == "example"]
    passages = [m for m in materials if m.kind == "passage"]
    parts: list[str] = []
    if examples:
        items = [
            f'<example similarity="{m.similarity}"{" kept" if m.kept else ""}>\n{_body(m)}\n'
            "</example>"
            for m in examples
        ]
        parts.append(
            "<examples>\nRewrites of similar prompts by this author's standards (kept ones "
            "were accepted by the author). Follow their style where it fits; never copy "
            "their content into this prompt.\n" + "\n".join(items) + "\n</examples>"
        )
    if passages:
        items = [
            f'<passage source="{m.source}" ref="{m.ref}">\n{_body(m)}\n</passage>' for m in passages
        ]
        parts.append(
            "<library>\nPassages from the author's library that may bear on this prompt "
            "(style guides, domain notes, prompts). Use them only where they apply.\n"
            + "\n".join(items)
            + "\n</library>"
        )
    return "\n\n".join(parts)


def lookup_answer(found: Lookup) -> str:
    """The tool message the Designer reads for one lookup."""
    if not found.materials:
        why = f" ({found.note})" if found.note else ""
        return f"No results for {found.query!r}{why}."
    return render(found.materials)


def grounding_of(materials: Iterable[Material]) -> list[Grounding]:
    """What the result records of the materials the Designer was given."""
    return [
        Grounding(
            ref=m.ref,
            kind=m.kind,
            source=m.source,
            similarity=m.similarity,
            tokens=m.tokens,
            kept=m.kept,
            query=m.query,
        )
        for m in materials
    ]


def similar_findings(related: Iterable[Related]) -> list[Finding]:
    """``PD023 similar-prompt`` for each similar past optimization the library found: how
    retrieval shows on the offline engine ("you optimized a similar prompt on 12 Nov: score
    88 — see ID")."""
    from ..engine.rules import BY_NAME

    rule = BY_NAME["similar-prompt"]
    out = []
    for r in related:
        if r.kind != "optimization":
            continue
        kept = ", kept" if r.kept else ""
        detail = (
            f"{r.at or 'an earlier day'}: score {r.score}{kept}, {r.similarity}% similar — "
            f"see {r.ref.removeprefix('opt:')}"
        )
        out.append(rule.finding(detail=detail))
    return out


def mark_used(related: Sequence[Related], used: Iterable[Grounding]) -> list[Related]:
    """``related`` with ``used`` set to example or context for what the Designer was given."""
    kinds = {g.ref: ("example" if g.kind == "example" else "context") for g in used}
    return [msgspec.structs.replace(r, used=kinds[r.ref]) if r.ref in kinds else r for r in related]
