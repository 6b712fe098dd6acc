"""The server's flows: each acts on the shared :class:`~promptd.lsp.session.Session`.

documents (documents, settings, diagnostics, actions, hover, lens), optimize (through the
daemon, with progress and cancel), status (the daemon's state, history, start and stop).
"""

from __future__ import annotations

__all__ = ["documents", "optimize", "status"]
