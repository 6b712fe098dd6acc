"""promptd's language server: a thin stdio client of the daemon.

``promptd.lsp.server.main()`` runs it (``promptd lsp``); :mod:`promptd.lsp.protocol` holds the
command ids, settings keys and custom notifications editors rely on. The rest, by layer:

* :mod:`~promptd.lsp.server`: creates the server, registers one-line handlers;
* :mod:`~promptd.lsp.session` and :mod:`~promptd.lsp.flows`: state, and the flows (documents
  and diagnostics; optimize with progress and cancel; the daemon's status);
* :mod:`~promptd.lsp.features`: pure functions (detection, literal editing, diagnostics,
  actions, hover, lens);
* :mod:`~promptd.lsp.daemon_link`: the socket connection to the daemon;
* :mod:`~promptd.lsp.framing` and :mod:`~promptd.lsp.pygls_compat`: the stdio loop that
  survives malformed input, and every private pygls use, in one place.
"""

from __future__ import annotations

__all__ = ["protocol", "server"]
