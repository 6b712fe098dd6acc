"""The daemon's pushed state reaches the editor: showMessage for alerts, promptd/status."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from lsprotocol import types
from pygls.lsp.server import LanguageServer

from promptd.daemon import api
from promptd.lsp import protocol
from promptd.lsp.daemon_link import DaemonLink
from promptd.lsp.session import Session

NOTICE = api.StatusNotice(
    engine="llm",
    provider="xai",
    model="grok-4",
    circuit="open",
    today_usd=1.25,
    month_usd=3.5,
    daily_budget_usd=2.0,
    monthly_budget_usd=None,
    message="xAI is failing: the breaker is open; answers come from cache or offline",
    level="warning",
    event="circuit.changed",
)


def test_link_decodes_status_pushes_and_ignores_the_rest(promptd_home: Any) -> None:
    from promptd.daemon.paths import resolve

    seen: list[api.StatusNotice] = []
    link = DaemonLink(resolve(), on_notice=seen.append)
    link._notification("batch.progress", b"{}")
    link._notification("status", b"not json")
    link._notification("status", msgspec.json.encode(NOTICE))
    assert seen == [NOTICE]


@pytest.fixture
def session() -> tuple[Session, list[tuple[str, Any]]]:
    server = LanguageServer("promptd-test", "0")
    sent: list[tuple[str, Any]] = []
    server.window_show_message = lambda params: sent.append(("show", params))  # type: ignore[method-assign]
    server.protocol.notify = lambda method, params=None: sent.append((method, params))  # type: ignore[method-assign]
    return Session(server), sent


def test_an_alert_is_shown_and_the_status_bar_updated(
    session: tuple[Session, list[tuple[str, Any]]],
) -> None:
    sess, sent = session
    sess.status.on_notice(NOTICE)
    shown = [p for kind, p in sent if kind == "show"]
    assert len(shown) == 1
    assert shown[0].type == types.MessageType.Warning
    assert "breaker is open" in shown[0].message
    status = [p for kind, p in sent if kind == protocol.NOTIFY_STATUS]
    assert status[-1]["circuit"] == "open"
    assert status[-1]["spend_today_usd"] == 1.25
    assert status[-1]["engine"] == "llm" and status[-1]["connected"] is True


def test_a_plain_state_update_only_updates_the_status_bar(
    session: tuple[Session, list[tuple[str, Any]]],
) -> None:
    sess, sent = session
    sess.status.on_notice(msgspec.structs.replace(NOTICE, message="", circuit="closed"))
    assert [kind for kind, _ in sent] == [protocol.NOTIFY_STATUS]


async def test_a_connection_made_while_the_server_shuts_down_is_closed(daemon: None) -> None:
    """The background connect can still be under way when the editor says shutdown; the
    connection it makes must not outlive the link (nobody would close it)."""
    from promptd.daemon.errors import DaemonError
    from promptd.daemon.paths import resolve

    link = DaemonLink(resolve())
    connecting = asyncio.ensure_future(link.client(autostart=False))
    await asyncio.sleep(0)  # the connect is under way
    await link.close()
    with pytest.raises(DaemonError, match="shutting down"):
        await connecting
    assert not link.connected
    with pytest.raises(DaemonError, match="shutting down"):
        await link.client(autostart=False)


async def test_a_daemon_that_goes_away_leaves_no_socket_open(daemon: None) -> None:
    """When the daemon stops, the link lets go of its end of the socket at once (left to the
    garbage collector, it surfaced as an unclosed-socket warning much later)."""
    from promptd.daemon.paths import resolve
    from tests.lsp.harness import promptd
    from tests.waiting import until

    link = DaemonLink(resolve(), retry_max_s=0.2)
    client = await link.client(autostart=False)
    promptd("stop")
    await until(lambda: not link.connected, 10, "the link to see the daemon go")
    await until(lambda: client._writer.transport.is_closing(), 10, "our end of the socket closed")
    await link.close()
