"""The Designer's ``search_library`` tool: agentic retrieval over OpenAI-compatible tools.

Where the endpoint takes ``tools`` (xAI and OpenAI do; many local servers do), the Designer's
request carries :data:`SEARCH_TOOL` and the model decides what to look up. Each lookup is one
more round trip (the answer that asks, then the answer that uses it), so a run makes at most
:data:`MAX_LOOKUPS`; after that the tool stays declared with ``tool_choice: none``. A run
that looks nothing up keeps its two sequential round trips (one on the fast route).

An endpoint that refuses tools (a 400, 422 or 500 naming them) is asked again without
them; :class:`ToolMode` remembers the refusal per model of that endpoint, like
:class:`~promptd.daemon.providers.agents.JsonMode` does for json_schema. The Designer
still has the library's examples and passages retrieved up front
(:mod:`promptd.daemon.library.grounding`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

import msgspec

from .base import ToolCall

TOOL_NAME: Final = "search_library"
MAX_LOOKUPS: Final = 2
MAX_QUERY_CHARS: Final = 300
SEARCH_TOOL: Final[dict[str, Any]] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": (
            "Search the author's prompt library: rewrites of similar prompts they kept, their "
            "prompt files and their document collections (style guides, domain notes). Use it "
            "only when the examples and passages you were given do not cover what this rewrite "
            "needs. At most two searches."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "a few keywords to search for"}
            },
            "required": ["query"],
        },
    },
}
_log = logging.getLogger("promptd.providers")


class ToolMode:
    """Which models of one endpoint take tools; shared by every run of one engine."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.refused: set[str] = set()

    def allowed(self, model: str) -> bool:
        return self.enabled and model not in self.refused

    def refuse(self, model: str, why: str) -> None:
        if model not in self.refused:
            self.refused.add(model)
            _log.warning(
                "%s refuses tools (%s): the library is retrieved up front only", model, why
            )


def query_of(call: ToolCall) -> str:
    """The query of a ``search_library`` call ("" when the call is not one, or has none)."""
    if call.name != TOOL_NAME:
        return ""
    try:
        args = msgspec.json.decode(call.arguments or "{}")
    except msgspec.DecodeError:
        return ""
    query = args.get("query") if isinstance(args, dict) else None
    return query.strip()[:MAX_QUERY_CHARS] if isinstance(query, str) else ""
