"""The daemon's state in the editor: the status bar, pushed alerts, history, start and stop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import msgspec
from lsprotocol import types

from promptd.daemon import api
from promptd.daemon.errors import DaemonError, PromptdError

from .. import protocol
from ..errors import Failed
from ..features import alerts
from ..features.detect import find_at

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)

OPEN_DASHBOARD = "Open dashboard"


class StatusFlow:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.state: dict[str, Any] = {
            "connected": False,
            "engine": "",
            "model": "",
            "circuit": "",
            "spend_today_usd": 0.0,
            "daily_budget_usd": None,
            "message": "",
        }
        self.alerted: set[str] = set()  # budget alerts shown (for the server's whole life)
        self.dashboard_url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def history(self, args: list[Any]) -> list[dict[str, Any]]:
        """promptd.showHistory [uri?, range?]: the daemon's history (of the prompt there)."""
        session = self.session
        text: str | None = None
        if len(args) >= 2 and isinstance(args[0], str):
            rng = session.range_argument(args[1])
            doc = session.document(args[0])
            start, end = doc.index.offsets(rng, session.encoding)
            prompts = session.analyzer.prompts(doc, session.settings.min_words)
            prompt = find_at(prompts, start, end)
            text = prompt.content if prompt is not None else doc.text[start:end] or None
        try:
            result = await session.link.call(
                "history", api.HistoryParams(limit=20, text=text), result_type=api.HistoryResult
            )
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        items = [msgspec.to_builtins(item) for item in result.items]
        if not items:
            session.show(types.MessageType.Info, "promptd: no optimizations yet")
        else:
            last = result.items[0]
            session.show(
                types.MessageType.Info,
                f"promptd: {len(items)} optimization(s); last {last.at}: "
                f"{last.score_before} → {last.score_after} ({last.preview})",
            )
        return items

    async def show_status(self) -> dict[str, Any]:
        """promptd.showStatus: the daemon's status (or why there is none), also pushed."""
        try:
            status = await self.session.link.call(
                "status", {}, result_type=api.StatusResult, autostart=False
            )
        except PromptdError as exc:
            self.state.update(connected=False, message=str(exc))
            self.notify()
            return dict(self.state)
        self.state.update(
            connected=True,
            engine=status.engine,
            model=status.provider.model,
            circuit=status.provider.circuit,
            spend_today_usd=status.spend.today_usd,
            daily_budget_usd=status.spend.daily_budget_usd,
            message="",
        )
        self.dashboard_url = status.dashboard_url
        self.notify()
        out = msgspec.to_builtins(status)
        assert isinstance(out, dict)
        return out

    async def start_daemon(self) -> dict[str, Any]:
        try:
            await self.session.link.client(autostart=True)
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        self.session.show(types.MessageType.Info, "promptd: the daemon is running")
        return await self.show_status()

    async def stop_daemon(self) -> dict[str, Any]:
        link = self.session.link
        if not link.connected:
            try:
                await link.client(autostart=False)
            except DaemonError:
                self.session.show(types.MessageType.Info, "promptd: the daemon is not running")
                return {"stopped": False}
        await link.stop_daemon()
        self.session.show(types.MessageType.Info, "promptd: the daemon stopped")
        return {"stopped": True}

    # --- pushed by the daemon link -----------------------------------------------------------

    def on_state(self, connected: bool, message: str) -> None:
        self.state.update(connected=connected, message="" if connected else message)
        self.notify()
        if connected:
            asyncio.get_running_loop().create_task(self.show_status())

    def on_notice(self, notice: api.StatusNotice) -> None:
        self.state.update(
            connected=True,
            engine=notice.engine,
            model=notice.model,
            circuit=notice.circuit,
            spend_today_usd=notice.today_usd,
            daily_budget_usd=notice.daily_budget_usd,
            message=notice.message,
        )
        if notice.event == "budget.alert":
            self._budget_alert(notice)
        elif notice.message:
            level = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}
            self.session.show(
                level.get(notice.level, types.MessageType.Info),
                f"promptd: {alerts.strip(notice.message)}",
            )
        self.notify()

    def _budget_alert(self, notice: api.StatusNotice) -> None:
        """Show a budget alert once per period and threshold, with "Open dashboard" when the
        daemon serves one and the editor can open it."""
        key = alerts.alert_key(notice.message, notice.alert_id)
        if not notice.message or key in self.alerted:
            return
        self.alerted.add(key)
        message = f"promptd: {alerts.strip(notice.message)}"
        window = self.session.caps().window
        if not (self.dashboard_url and window and window.show_document):
            self.session.show(types.MessageType.Warning, message)
            return
        task = asyncio.get_running_loop().create_task(self._offer_dashboard(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _offer_dashboard(self, message: str) -> None:
        server = self.session.server
        action = types.MessageActionItem(title=OPEN_DASHBOARD)
        try:
            chosen = await server.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Warning, message=message, actions=[action]
                )
            )
            if chosen is not None and chosen.title == OPEN_DASHBOARD:
                await server.window_show_document_async(
                    types.ShowDocumentParams(uri=self.dashboard_url, external=True)
                )
        except Exception as exc:
            log.warning("budget alert with a dashboard action failed: %s", exc)

    def notify(self) -> None:
        try:
            self.session.server.protocol.notify(protocol.NOTIFY_STATUS, dict(self.state))
        except Exception:
            log.exception("promptd/status notification failed")
