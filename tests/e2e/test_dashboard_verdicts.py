"""The dashboard shows budget alerts and the acceptance rate, live, in a real browser.

Real daemons started by the CLI; the alert comes from real LLM runs against a loopback
chat-completions server (no network) crossing a budget set with ``promptd budget``; the
verdicts from ``promptd keep`` and ``promptd reject``. Skipped like the other browser tests
when Chromium or Playwright is missing; a failure leaves a screenshot in
``build/e2e-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptd.daemon import process
from promptd.daemon.paths import resolve
from tests.daemon.providers.loopback import LoopbackServer

from .test_dashboard_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, promptd, sync_api

pytestmark = pytest.mark.slow

LONG = "Write a report on the sales data below, then list the three biggest risks.\n" * 12


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    paths = resolve(tmp_path)
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    yield tmp_path
    if process.running_pid(paths) is not None:
        promptd(tmp_path, "stop", "--timeout", "10")


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed_before = request.session.testsfailed
    yield pg
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", request.node.name)
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert errors == [], errors


def _open(page: Any, home: Path) -> None:
    url = json.loads(promptd(home, "dashboard", "--json").stdout)["url"]
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]", timeout=15_000)
    page.wait_for_selector("#live.on", timeout=5_000)


def _optimize(home: Path, *args: str) -> dict[str, Any]:
    done = promptd(home, "optimize", "--json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_budget_alert_shows_as_a_banner_as_it_is_sent(page: Any, home: Path) -> None:
    paths = resolve(home)
    with LoopbackServer(cost_ticks=None) as server:
        paths.config_file.write_text(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
            'model = "grok-4.3"\n[backup]\nenabled = false\n'
        )
        cost = _optimize(home, "--no-cache", LONG)["cost_usd"]
        assert cost > 0
        budget = round(cost * 2.2, 8)  # the next run crosses 80% of it
        assert promptd(home, "budget", "--daily", str(budget)).returncode == 0
        _open(page, home)
        assert page.locator("#alerts").is_hidden()  # no alert yet: no banner
        crossed = _optimize(home, "--no-cache", LONG + "Be brief.\n")
    assert crossed["alerts"], "the second run should cross the alert threshold"
    banner = page.locator("#alerts .alert[data-period=day]")
    banner.wait_for(timeout=5_000)  # pushed by the live stream: no reload
    text = banner.inner_text()
    today = dt.date.today().isoformat()
    assert "Daily budget at 80%" in text and today in text and "resets" in text
    shown = json.loads(page.get_attribute("#alerts", "data-chart"))
    status = json.loads(promptd(home, "status", "--json").stdout)
    assert [a["text"] for a in shown] == status["spend"]["alerts"]
    (alert,) = shown
    assert alert["budget_usd"] == pytest.approx(budget)
    assert alert["threshold_pct"] == 80 and alert["reset_at"]


def test_the_acceptance_rate_and_each_rows_verdict_follow_keep_and_reject(
    page: Any, home: Path
) -> None:
    kept = _optimize(home, "please kindly write some stuff about dogs for {audience}!!!")["id"]
    rejected = _optimize(home, "fix the bug in this code {code} and explain. use python")["id"]
    assert promptd(home, "keep", kept).returncode == 0
    _open(page, home)
    assert page.inner_text("#acceptance-rate") == "100%"
    row = page.locator(f'#history-table tr[data-id="{kept}"] td.verdict')
    assert row.inner_text() == "kept"
    done = promptd(home, "reject", rejected, "--why", "too long for a commit message")
    assert done.returncode == 0, done.stderr
    page.locator("#acceptance-rate", has_text="50%").wait_for(timeout=5_000)  # live
    page.locator(f'#history-table tr[data-id="{rejected}"] td.verdict.rejected').wait_for()
    drawn = json.loads(page.get_attribute("#acceptance", "data-chart"))
    assert (drawn["kept"], drawn["rejected"], drawn["rate"]) == (1, 1, 0.5)
    assert {r["key"]: (r["kept"], r["rejected"]) for r in drawn["by_engine"]} == {"offline": (1, 1)}
    library = json.loads(promptd(home, "library", "status", "--json").stdout)
    assert library["acceptance_rate"] == drawn["rate"]
    page.click(f'#history-table tr[data-id="{rejected}"]')
    verdict = page.locator("#detail-verdict").inner_text()
    assert verdict.startswith("Rejected by you") and "too long for a commit message" in verdict
