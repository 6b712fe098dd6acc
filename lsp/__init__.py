"""promptd's language server: a thin stdio client of the daemon.

``promptd.lsp.server.main()`` runs it (``promptd lsp``); :mod:`promptd.lsp.protocol` holds the
command
ids, settings keys and custom notifications editors rely on; :mod:`promptd.lsp.features` holds
the pure functions (detection, literal editing, diagnostics, actions, hover, lens).
"""

from __future__ import annotations

__all__ = ["protocol", "server"]
