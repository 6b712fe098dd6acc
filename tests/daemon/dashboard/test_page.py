"""How the page is delivered (the overview drawn inside it, charts and all, one script that a
browser may keep, nothing served from an older daemon's version), and the budget alerts and
verdicts it shows."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

from promptd.daemon.client import DaemonClient
from promptd.daemon.dashboard import charts
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


def _chart(page: str, node_id: str) -> tuple[dict, str]:
    """The numbers a chart keeps (``data-chart``) and its SVG."""
    found = re.search(rf'<div class="chart" id="{node_id}" data-chart="([^"]*)">(.*?)</div>', page)
    assert found, f"no {node_id} in the page"
    return json.loads(found.group(1).replace("&quot;", '"')), found.group(2)


async def test_the_page_comes_with_the_overview_drawn(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        async with await DaemonClient.connect(daemon.paths) as client:
            await client.call("optimize", {"text": DOGS})
            costs = await client.call("costs")
        page = (await c.get("/")).text
        numbers = (await c.get("/api/overview")).json()
        fragment = await c.get("/api/overview.html")
    # the first screen needs no script: tiles, charts (SVG) and tables are in the HTML
    cards = re.findall(r'<div class="card">(.*?)</div></div>', page)
    assert len(cards) == 6 and "Optimizations" in cards[4] and ">1<" in cards[4]
    spend, svg = _chart(page, "chart-spend")
    assert spend == {
        "days": numbers["spend"]["days"],
        "series": {
            "spend": numbers["spend"]["spend_usd"],
            "forecast": numbers["spend"]["forecast_usd"],
        },
    }
    for row in costs["by_day"]:
        assert (
            dict(zip(spend["days"], spend["series"]["spend"], strict=True))[row["key"]]
            == (row["cost_usd"])
        )
    assert svg.startswith("<svg") and svg.count('class="line nofill"') == 2  # spend, forecast
    sources, _ = _chart(page, "chart-sources")
    assert sum(sources["series"]["API"]) == 1
    assert 'id="findings"' in page and 'id="scores"' in page and 'id="provider"' in page
    # live updates take the same HTML, and nothing from the log runs as markup
    assert fragment.headers["content-type"].startswith("text/html")
    assert fragment.text in page
    assert "<script" not in fragment.text and " style=" not in page
    scripts = re.findall(r"<script[^>]*>", page)  # the page's script, and data
    assert len(scripts) == 2 and 'id="first-answers"' in scripts[1]
    assert page.rstrip().endswith("</html>")
    # the one inline style sheet is allowed by its digest, and nothing else inline
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in dashboard_of(daemon).page_csp
    assert "svg.pygal-chart" in style  # the charts' style, once for all of them


async def test_the_page_carries_the_first_answers_its_sections_would_fetch(
    promptd_home: Path,
) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        async with await DaemonClient.connect(daemon.paths) as client:
            await client.call("optimize", {"text": DOGS})
        page = (await c.get("/")).text
        urls = ["/api/history?", "/api/batches", "/api/audit?limit=50", "/api/backups"]
        fetched = {url: (await c.get(url)).json() for url in urls}
    blocks = re.findall(
        r'<script type="application/json" id="first-answers">(.*?)</script>', page, re.S
    )
    assert len(blocks) == 1  # the prompt's "</script>" would have ended it early
    assert "<" not in blocks[0]
    carried = json.loads(blocks[0])
    assert carried == fetched
    assert "</script>" in carried["/api/history?"]["items"][0]["preview"]


async def test_the_overview_is_drawn_again_only_when_its_numbers_change(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    line = charts.line

    def counting(*args: object, **kwargs: object) -> str:
        svg = line(*args, **kwargs)  # type: ignore[arg-type]
        drawn.append(svg)
        return svg

    monkeypatch.setattr(charts, "line", counting)
    async with (
        running_daemon(promptd_home) as daemon,
        _client(daemon) as c,
        await DaemonClient.connect(daemon.paths) as client,
    ):
        await client.call("optimize", {"text": DOGS})
        first = (await c.get("/api/overview.html")).text
        assert len(drawn) == 4  # spend, sources, engines, cache
        assert (await c.get("/")).text.count(first) == 1
        assert len(drawn) == 4  # the same numbers: the same drawing
        await client.call("optimize", {"text": DOGS + " again"})
        second = (await c.get("/api/overview.html")).text
    assert len(drawn) == 8 and second != first
    assert '>2</div><div class="sub">completed, all time' in second


async def test_one_script_kept_for_good(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        page = (await c.get("/")).text
        named = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
        assert [Path(u).name for u in named] == ["app.js"]
        (script,) = named
        first = await c.get(script)
        assert first.status_code == 200 and first.headers["content-type"].startswith(
            "text/javascript"
        )
        assert "immutable" in first.headers["cache-control"]
        assert b"/api/overview.html" in first.content
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
