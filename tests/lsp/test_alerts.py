"""Budget alerts pushed by the daemon show once per period and threshold, whatever the
reconnects; with a dashboard, as a message with an "Open dashboard" action."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from promptd.daemon import api
from promptd.lsp.features.alerts import alert_key
from tests.lsp.inprocess import InProcess


def alert(period: str = "2026-12-03", pct: int = 80, used: int = 81) -> api.StatusNotice:
    return api.StatusNotice(
        engine="llm",
        provider="xai",
        model="grok-4",
        circuit="closed",
        today_usd=0.405,
        month_usd=1.0,
        daily_budget_usd=0.5,
        monthly_budget_usd=None,
        message=(
            f"promptd: budget alert: the daily budget of $0.50 for {period} is {used}% used "
            f"($0.405 spent; alert at {pct}%); it resets at {period}T24:00:00+00:00"
        ),
        level="warning",
        event="budget.alert",
    )


@pytest.fixture
async def ed(promptd_home: object) -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    yield editor
    await editor.shutdown()


def test_the_key_is_the_period_and_threshold() -> None:
    assert alert_key(alert().message) == "daily:2026-12-03:80"
    assert alert_key(alert(used=95).message) == alert_key(alert().message)
    assert alert_key(alert(pct=90).message) != alert_key(alert().message)
    assert alert_key("something else") == "something else"


async def test_an_alert_shows_once_even_across_reconnects(ed: InProcess) -> None:
    link = ed.session.link
    link._notification("status", msgspec.json.encode(alert()))
    await ed.wait(lambda: any("budget alert" in m for m in ed.shown()), "the alert")
    (shown,) = [m for m in ed.shown() if "budget alert" in m]
    assert shown.startswith("promptd: budget alert: the daily budget of $0.50 for 2026-12-03")
    assert "80%" in shown and "resets at" in shown and "promptd: promptd:" not in shown
    ed.session._on_state(False, "the daemon connection was lost; reconnecting")
    link._notification("status", msgspec.json.encode(alert(used=83)))
    link._notification("status", msgspec.json.encode(alert(pct=90, used=91)))
    link._notification("status", msgspec.json.encode(alert(period="2026-12-04")))
    await ed.wait(lambda: len([m for m in ed.shown() if "budget alert" in m]) == 3, "3 alerts")
    shown_all = [m for m in ed.shown() if "budget alert" in m]
    assert sum("alert at 80%" in m and "2026-12-03" in m for m in shown_all) == 1


async def test_with_a_dashboard_the_alert_offers_to_open_it(ed: InProcess) -> None:
    ed.session.status.dashboard_url = "http://127.0.0.1:8765/?token=t"
    ed.session.link._notification("status", msgspec.json.encode(alert()))
    request = await ed.wait(
        lambda: next(
            (r for r in ed.server_requests if r["method"] == "window/showMessageRequest"), None
        ),
        "the message request",
    )
    assert request["params"]["actions"] == [{"title": "Open dashboard"}]
    assert "budget alert" in request["params"]["message"]
    assert request["params"]["type"] == 2  # Warning
