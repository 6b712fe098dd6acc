"""The language server's features as pure functions over documents and settings.

detect (finding prompts), literals (writing text back as a valid literal), analysis
(cached detection + lint), diagnostics, fixes (local quick fixes), actions, hover, lens,
optimize (targets and edits), settings, documents (positions), daemon_link (the daemon).
"""

from __future__ import annotations

__all__ = [
    "actions",
    "analysis",
    "daemon_link",
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
