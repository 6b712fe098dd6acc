"""The server's shared state, and the three flows that act on it.

A :class:`Session` holds what every flow reads: the open documents, the analysis cache, the
settings, the link to the daemon and the client's capabilities. The work is split by flow:

* :class:`~promptd.lsp.flows.documents.DocumentsFlow`: documents, settings, diagnostics,
  code actions, hover and code lens (offline; they keep working with no daemon);
* :class:`~promptd.lsp.flows.optimize.OptimizeFlow`: optimize through the daemon, with
  work-done progress and cancel;
* :class:`~promptd.lsp.flows.status.StatusFlow`: the daemon's state, history, start and stop.

Everything here is defensive: a feature that fails is logged and answers nothing (see
:func:`guarded`), the others go on.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from promptd.daemon.paths import resolve

from . import pygls_compat
from .daemon_link import DaemonLink
from .errors import BadArguments, Failed
from .features import settings
from .features.analysis import Analyzer
from .features.documents import Document, Documents
from .flows.documents import DocumentsFlow
from .flows.library import LibraryFlow
from .flows.optimize import OptimizeFlow
from .flows.status import StatusFlow
from .flows.tools import ToolsFlow
from .flows.verdicts import VerdictsFlow

log = logging.getLogger(__name__)

__all__ = ["BadArguments", "Failed", "Session", "guarded"]


class Session:
    """State shared by the flows; ``docs``, ``optimizer`` and ``status`` are the flows."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.documents = Documents()
        self.analyzer = Analyzer()
        self.settings = settings.Settings()
        self.status = StatusFlow(self)
        self.verdicts = VerdictsFlow(self)
        self.library = LibraryFlow(self)
        self.link = DaemonLink(resolve(), on_notice=self.status.on_notice, on_state=self._on_state)
        self.docs = DocumentsFlow(self)
        self.optimizer = OptimizeFlow(self)
        self.tools = ToolsFlow(self)

    def _on_state(self, connected: bool, message: str) -> None:
        self.status.on_state(connected, message)
        if connected:
            self.verdicts.flush()

    # --- client capabilities ---------------------------------------------------------------

    @property
    def encoding(self) -> str:
        caps = self.server.protocol.server_capabilities
        encoding = caps.position_encoding if caps is not None else None
        return str(encoding or types.PositionEncodingKind.Utf16)

    def caps(self) -> types.ClientCapabilities:
        return self.server.client_capabilities or types.ClientCapabilities()

    def supports_resolve_edit(self) -> bool:
        td = self.caps().text_document
        code_action = td.code_action if td is not None else None
        if code_action is None or not code_action.data_support:
            return False
        support = code_action.resolve_support
        return support is not None and "edit" in support.properties

    def supports_document_changes(self) -> bool:
        ws = self.caps().workspace
        return bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)

    def supports_progress(self) -> bool:
        window = self.caps().window
        return bool(window and window.work_done_progress)

    def supports_code_links(self) -> bool:
        td = self.caps().text_document
        pd = td.publish_diagnostics if td else None
        return bool(pd and pd.code_description_support)

    def supports_markdown(self) -> bool:
        td = self.caps().text_document
        formats = td.hover.content_format if td and td.hover else None
        return bool(formats and types.MarkupKind.Markdown in formats)

    # --- helpers the flows share ---------------------------------------------------------

    def document(self, uri: str) -> Document:
        doc = self.documents.get(uri)
        if doc is None:
            raise Failed(f"document {uri} is not open in the editor: open it and try again")
        return doc

    def range_argument(self, value: Any) -> types.Range:
        """A command's range argument; BadArguments when it is not an LSP Range."""
        try:
            return pygls_compat.structure(self.server, value, types.Range)
        except JsonRpcInvalidParams as exc:
            raise BadArguments(f"the range argument is not an LSP Range: {value!r}") from exc

    def show(self, kind: types.MessageType, message: str) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def shutdown(self) -> None:
        self.docs.shutdown()
        self.library.shutdown()
        await self.verdicts.drain()
        await self.link.close()


def guarded(fallback: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Catch and log a failing handler, answering ``fallback()``; JSON-RPC errors (Failed,
    BadArguments) and cancellation pass through as the answer."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any) -> Any:
                try:
                    return await fn(*args)
                except (JsonRpcException, asyncio.CancelledError):
                    raise
                except Exception:
                    log.exception("%s failed", fn.__name__)
                    return fallback()

            return run_async

        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            try:
                return fn(*args)
            except JsonRpcException:
                raise
            except Exception:
                log.exception("%s failed", fn.__name__)
                return fallback()

        return run

    return wrap
