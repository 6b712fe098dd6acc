"""``promptd lsp``: create the language server and register its handlers.

Each handler is a line that calls a flow of the :class:`~promptd.lsp.session.Session`; the
answers are computed by the pure functions in :mod:`promptd.lsp.features`. A failing handler
is logged and answers its fallback (nothing, or an empty list); it never takes the server
down. The stdio loop is :func:`promptd.lsp.pygls_compat.start_io`, which survives malformed
frames and answers every request it cannot take with a JSON-RPC error.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from promptd.daemon import __version__

from . import protocol, pygls_compat
from .session import Session, guarded

log = logging.getLogger(__name__)


class PromptdServer(LanguageServer):
    """pygls's server, with errors outside a request logged instead of shown as popups."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        pygls_compat.report(self, f"internal error: {error}")


def create_server() -> tuple[LanguageServer, Session]:
    server = PromptdServer(
        protocol.SERVER_NAME,
        __version__,
        text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
    )
    session = Session(server)
    docs, optimizer, status = session.docs, session.optimizer, session.status

    @server.feature(types.INITIALIZE)
    @guarded(lambda: None)
    def initialize(params: types.InitializeParams) -> None:
        docs.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    @guarded(lambda: None)
    async def initialized(params: types.InitializedParams) -> None:
        session.link.start_background(autostart=False)
        await docs.pull_settings()

    @server.feature(types.SHUTDOWN)
    @guarded(lambda: None)
    async def shutdown(params: None) -> None:
        await session.shutdown()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(lambda: None)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        docs.open(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(lambda: None)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        docs.change(params)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded(lambda: None)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        docs.save(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(lambda: None)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        docs.close(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(lambda: None)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        if params.settings:
            docs.apply_settings(params.settings)
        else:
            await docs.pull_settings()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.RefactorExtract,
            ],
            resolve_provider=True,
        ),
    )
    @guarded(list)
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return await docs.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(action: types.CodeAction) -> types.CodeAction:
        if session.tools.owns(action):
            return await session.tools.resolve(action)
        return await optimizer.resolve(action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(lambda: None)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        return await docs.hover(params)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    @guarded(list)
    async def code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        return await docs.code_lenses(params)

    @server.command(protocol.CMD_OPTIMIZE)
    async def optimize(*args: Any) -> dict[str, Any]:
        return await optimizer.command(list(args), selection=False)

    @server.command(protocol.CMD_OPTIMIZE_SELECTION)
    async def optimize_selection(*args: Any) -> dict[str, Any]:
        return await optimizer.command(list(args), selection=True)

    @server.command(protocol.CMD_SHOW_HISTORY)
    async def show_history(*args: Any) -> list[dict[str, Any]]:
        return await status.history(list(args))

    @server.command(protocol.CMD_SHOW_STATUS)
    async def show_status(*args: Any) -> dict[str, Any]:
        return await status.show_status()

    @server.command(protocol.CMD_START_DAEMON)
    async def start_daemon(*args: Any) -> dict[str, Any]:
        return await status.start_daemon()

    @server.command(protocol.CMD_STOP_DAEMON)
    async def stop_daemon(*args: Any) -> dict[str, Any]:
        return await status.stop_daemon()

    @server.command(protocol.CMD_EXTRACT_VARIABLES)
    async def extract_variables(*args: Any) -> dict[str, Any]:
        return await session.tools.command("templatize", list(args))

    @server.command(protocol.CMD_TRIM)
    async def trim(*args: Any) -> dict[str, Any]:
        return await session.tools.command("trim", list(args))

    library = session.library

    @server.command(protocol.CMD_SIMILAR_PROMPTS)
    async def similar_prompts(*args: Any) -> dict[str, Any]:
        return await library.similar_command(list(args))

    @server.command(protocol.CMD_SEARCH_LIBRARY)
    async def search_library(*args: Any) -> dict[str, Any]:
        return await library.search_command(list(args))

    @server.command(protocol.CMD_INSERT_TEXT)
    async def insert_text(*args: Any) -> dict[str, Any]:
        return await library.insert_command(list(args))

    return server, session


def main() -> None:
    """Run the language server on stdio until the editor says exit."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="promptd-lsp %(levelname)s %(message)s"
    )
    server, _ = create_server()
    problems = pygls_compat.missing(server)
    if problems:
        needs = ", ".join(problems)
        log.error("this pygls lacks what promptd needs (%s); reinstall promptd", needs)
    pygls_compat.start_io(server)


if __name__ == "__main__":
    main()
