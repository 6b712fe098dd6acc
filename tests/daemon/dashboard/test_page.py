"""How the page is delivered (the overview's numbers inside it, one script and one style
sheet that a browser may keep, nothing served from an older daemon's version), and the
budget alerts and verdicts it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from promptd.daemon.client import DaemonClient
from promptd.daemon.events import BudgetAlert, BudgetSet, OptimizationRejected
from promptd.daemon.server import queries
from promptd.daemon.server.app import Daemon

from .conftest import dashboard_of, running_daemon

DOGS = "please kindly write some stuff about dogs for {audience} </script><b>!!!"


def _client(daemon: Daemon) -> httpx.AsyncClient:
    dash = dashboard_of(daemon)
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{dash.port}",
        headers={"Cookie": f"{dash.guard.cookie}={dash.guard.token}"},
        timeout=10.0,
    )


async def test_the_page_carries_the_overview_it_would_fetch(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        async with await DaemonClient.connect(daemon.paths) as client:
            await client.call("optimize", {"text": DOGS})
        page = (await c.get("/")).text
        fetched = (await c.get("/api/overview")).json()
    blocks = re.findall(
        r'<script type="application/json" id="overview-data">(.*?)</script>', page, re.S
    )
    assert len(blocks) == 1  # a "</script>" in the data would have ended it early
    carried = json.loads(blocks[0])
    assert carried["optimizations"]["total"] == fetched["optimizations"]["total"] == 1
    assert carried["last_seq"] == fetched["last_seq"]
    assert "<" not in blocks[0]
    assert page.rstrip().endswith("</html>")


async def test_one_script_and_one_style_sheet_kept_for_good(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        page = (await c.get("/")).text
        named = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
        assert sorted(Path(u).name for u in named) == ["app.css", "app.js"]
        script = next(u for u in named if u.endswith(".js"))
        first = await c.get(script)
        assert first.status_code == 200 and first.headers["content-type"].startswith(
            "text/javascript"
        )
        assert "immutable" in first.headers["cache-control"]
        assert b"uPlot" in first.content and b"renderOverview" in first.content
        again = await c.get(script, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assets = dashboard_of(daemon).assets
        assert assets is not None
        stale = await c.get(script.replace(assets.version, "0" * 16))
        assert stale.status_code == 404 and "reload the page" in stale.json()["error"]
        api = await c.get("/api/overview")
        assert api.headers["cache-control"] == "no-store"  # data is never kept


async def test_alerts_and_verdicts_come_from_the_log(promptd_home: Path) -> None:
    day = queries.periods()[0]
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        async with await DaemonClient.connect(daemon.paths) as client:
            done = await client.call("optimize", {"text": DOGS})
        core = daemon.core
        assert core is not None and core.store is not None
        await core.store.append(
            [
                BudgetSet(daily_ticks=10**8, alert_pct=80),
                BudgetAlert(
                    period="day",
                    period_key=day,
                    spent_ticks=85 * 10**6,
                    budget_ticks=10**8,
                    reset_at="2026-12-04T00:00+00:00",
                ),
                OptimizationRejected(opt_id=done["id"], why="lost my tone"),
            ]
        )
        overview = (await c.get("/api/overview")).json()
        rows = (await c.get("/api/history")).json()["items"]
        detail = (await c.get(f"/api/optimizations/{done['id']}")).json()
    (alert,) = overview["alerts"]
    assert (alert["period"], alert["period_key"], alert["threshold_pct"]) == ("day", day, 80)
    assert (alert["spent_usd"], alert["budget_usd"]) == (0.0085, 0.01)
    assert alert["reset_at"] == "2026-12-04T00:00+00:00" and alert["text"].startswith(
        "budget alert: the daily budget"
    )
    acceptance = overview["acceptance"]
    assert (acceptance["kept"], acceptance["rejected"], acceptance["rate"]) == (0, 1, 0.0)
    assert [r["verdict"] for r in rows] == ["rejected"]
    assert detail["verdict"]["verdict"] == "rejected"
    assert detail["verdict"]["why"] == "lost my tone"
