"""``promptd lsp``: create the language server and register its handlers.

Each handler is a line or two that calls the :class:`~promptd.lsp.session.Session`; the work is
done by the pure functions in :mod:`promptd.lsp.features`. A failing handler is logged and
answers nothing; it never takes the server down.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from promptd.daemon import __version__

from . import protocol
from .session import Session, guarded

log = logging.getLogger(__name__)


def create_server() -> tuple[LanguageServer, Session]:
    server = LanguageServer(
        protocol.SERVER_NAME,
        __version__,
        text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
    )
    session = Session(server)

    @server.feature(types.INITIALIZE)
    @guarded(lambda: None)
    def initialize(params: types.InitializeParams) -> None:
        session.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    @guarded(lambda: None)
    async def initialized(params: types.InitializedParams) -> None:
        session.link.start_background(autostart=False)
        await session.pull_settings()

    @server.feature(types.SHUTDOWN)
    @guarded(lambda: None)
    async def shutdown(params: None) -> None:
        await session.shutdown()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(lambda: None)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        session.open(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(lambda: None)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        session.change(params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(lambda: None)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        session.close(params)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(lambda: None)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        if params.settings:
            session.apply_settings(params.settings)
        else:
            await session.pull_settings()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix],
            resolve_provider=True,
        ),
    )
    @guarded(list)
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return session.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(action: types.CodeAction) -> types.CodeAction:
        return await session.resolve(action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(lambda: None)
    async def hover(params: types.HoverParams) -> types.Hover | None:
        return await session.hover(params)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    @guarded(list)
    def code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        return session.code_lenses(params)

    @server.command(protocol.CMD_OPTIMIZE)
    async def optimize(*args: Any) -> dict[str, Any]:
        return await session.command_optimize(list(args), selection=False)

    @server.command(protocol.CMD_OPTIMIZE_SELECTION)
    async def optimize_selection(*args: Any) -> dict[str, Any]:
        return await session.command_optimize(list(args), selection=True)

    @server.command(protocol.CMD_SHOW_HISTORY)
    async def show_history(*args: Any) -> list[dict[str, Any]]:
        return await session.command_history(list(args))

    @server.command(protocol.CMD_SHOW_STATUS)
    async def show_status(*args: Any) -> dict[str, Any]:
        return await session.command_status()

    @server.command(protocol.CMD_START_DAEMON)
    async def start_daemon(*args: Any) -> dict[str, Any]:
        return await session.command_start_daemon()

    @server.command(protocol.CMD_STOP_DAEMON)
    async def stop_daemon(*args: Any) -> dict[str, Any]:
        return await session.command_stop_daemon()

    return server, session


def main() -> None:
    """Run the language server on stdio until the editor says exit."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="promptd-lsp %(levelname)s %(message)s"
    )
    server, _ = create_server()
    server.start_io()


if __name__ == "__main__":
    main()
