"""The language server's features as pure functions over documents and settings.

detect (finding prompts), literals (writing text back as a valid literal), analysis
(cached detection + lint), diagnostics, fixes (local quick fixes), actions, hover, lens,
optimize (targets and edits), settings, documents (positions). No I/O here: the daemon link
is :mod:`promptd.lsp.daemon_link`, the flows that use these are in :mod:`promptd.lsp.flows`.
"""

from __future__ import annotations

__all__ = [
    "actions",
    "analysis",
    "detect",
    "diagnostics",
    "documents",
    "fixes",
    "hover",
    "lens",
    "literals",
    "optimize",
    "settings",
]
