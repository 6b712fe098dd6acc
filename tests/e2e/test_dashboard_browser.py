"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
daemon started by the CLI, over a real event log.

Skipped, saying why, when Chromium or Playwright is missing (``.ci/run`` installs Chromium;
Playwright is a test extra; ``playwright install`` is never used). A failing test leaves a
screenshot in ``build/e2e-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from promptd.daemon import process
from promptd.daemon.events import ProviderCallCompleted
from promptd.daemon.paths import Paths, resolve
from promptd.daemon.projections import open_log

CHROMIUM = os.environ.get("PROMPTD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "e2e-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

PROMPTS = [
    "please kindly write some stuff about dogs for {audience}, make it good!!!",
    "fix the bug in this code {code} and explain. use python",
]


def promptd(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run(
        [exe, "--home", str(home), *args], capture_output=True, text=True, timeout=timeout
    )


def _seed_spend(paths: Paths) -> None:
    """Provider calls with costs on three local days, written before the daemon starts."""
    today = dt.date.today()
    log = open_log(paths.events)
    try:
        for back, cents in ((0, 7), (1, 12), (3, 30)):
            day = today - dt.timedelta(days=back)
            log.append(
                ProviderCallCompleted(
                    call_id=f"seed{back}",
                    provider="xai",
                    model="grok-4",
                    latency_ms=800 + back,
                    cost_ticks=cents * 10**8,
                    day=day.isoformat(),
                    month=day.isoformat()[:7],
                )
            )
    finally:
        log.close()


class Site:
    def __init__(self, home: Path, url: str) -> None:
        self.home = home
        self.url = url
        self.base = url.split("?", 1)[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("dash")
    paths = resolve(home)
    paths.events.parent.mkdir(parents=True, exist_ok=True)
    _seed_spend(paths)
    try:
        for text in PROMPTS:
            done = promptd(home, "optimize", text, "--json")  # starts the daemon
            assert done.returncode == 0, done.stderr
        shown = promptd(home, "dashboard", "--json")
        assert shown.returncode == 0, shown.stderr
        yield Site(home, json.loads(shown.stdout)["url"])
    finally:
        pid = process.running_pid(paths)
        if pid is not None:
            promptd(home, "stop", "--timeout", "10")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    outside: list[str] = []
    pg.on(
        "request",
        lambda r: None if r.url.startswith((site.base, "data:")) else outside.append(r.url),
    )
    failed_before = request.session.testsfailed
    yield pg
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", request.node.name)
        pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert errors == [], errors
    assert outside == [], f"the page made outside requests: {outside}"


def _open(page: Any, site: Site) -> None:
    page.goto(site.url)
    page.wait_for_selector("body[data-state=ready]", timeout=15_000)


def test_the_token_leaves_the_url_and_the_charts_draw_what_costs_reports(
    page: Any, site: Site
) -> None:
    _open(page, site)
    assert page.url == site.base  # the token went into a cookie and out of the address bar
    cookie = page.context.cookies()[0]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    costs = json.loads(promptd(site.home, "costs", "--json").stdout)
    drawn = json.loads(page.get_attribute("#chart-spend", "data-chart"))
    by_day = dict(zip(drawn["days"], drawn["series"]["spend"], strict=True))
    assert len(costs["by_day"]) == 3
    for row in costs["by_day"]:
        assert by_day[row["key"]] == pytest.approx(row["cost_usd"]), row["key"]
    # drawn by the daemon (pygal's SVG): a line per series, a point per day with a value
    assert page.locator("#chart-spend svg.pygal-chart .series path.line").count() == 2
    spend_line = page.locator("#chart-spend .series.serie-0 path.line")
    assert spend_line.bounding_box()["width"] > 100  # laid out: visible, not a stray node
    forecast = drawn["series"]["forecast"]
    assert forecast[-1] == pytest.approx(costs["forecast_30d_usd"] / 30)
    today_card = page.locator("#cards .card").first.inner_text()
    assert f"${costs['today_usd']:.2f}" in today_card
    sources = json.loads(page.get_attribute("#chart-sources", "data-chart"))
    assert sum(sources["series"]["CLI"]) == len(PROMPTS)
    provider = json.loads(page.get_attribute("#provider", "data-chart"))
    assert provider[0]["model"] == "grok-4" and provider[0]["calls"] == 3


def test_the_first_load_asks_the_daemon_for_nothing_but_the_live_stream(
    page: Any, site: Site
) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(urlsplit(r.url).path))
    _open(page, site)
    # the overview came drawn in the page, the other sections' first answers with it
    assert [p for p in asked if p.startswith("/api/")] == ["/api/live"], asked
    assert page.locator("#history-table tbody tr[data-id]").count() == len(PROMPTS)
    assert page.locator("#audit-table tbody tr").count() > 0
    # and drawn once the overview is on screen: they do not hold the first screen up
    painted, ready = (
        float(page.get_attribute("body", a) or "nan") for a in ("data-painted-ms", "data-ready-ms")
    )
    assert 0 < painted <= ready


def test_an_optimization_from_the_cli_appears_live(page: Any, site: Site) -> None:
    _open(page, site)
    page.wait_for_selector("#live.on", timeout=5_000)
    done = promptd(site.home, "optimize", "summarize this report {report} quickly", "--json")
    assert done.returncode == 0, done.stderr
    returned = time.monotonic()
    opt_id = json.loads(done.stdout)["id"]
    page.wait_for_selector(f'#history-table tr[data-id="{opt_id}"]', timeout=5_000)
    shown_after = time.monotonic() - returned
    assert shown_after < 2.0, f"the row appeared {shown_after:.2f} s after the CLI returned"
    page.wait_for_selector(
        f'#audit-table tr[data-seq="{page.get_attribute("body", "data-seq")}"]', timeout=5_000
    )


def test_the_diff_view_shows_the_changes_and_their_reasons(page: Any, site: Site) -> None:
    _open(page, site)
    done = json.loads(promptd(site.home, "show", _history_id(site, PROMPTS[0]), "--json").stdout)
    opt = done["optimization"]
    page.click(f'#history-table tr[data-id="{opt["id"]}"]')
    page.wait_for_selector("#diff")
    deleted = page.locator("#diff .delete").all_inner_texts()
    inserted = page.locator("#diff .insert").all_inner_texts()
    assert [d.strip() for d in deleted] == [PROMPTS[0]]
    assert any("dogs" in line for line in inserted)
    changes = page.locator("#detail .changes li").all_inner_texts()
    assert len(changes) == len(opt["changes"])
    for li, change in zip(changes, opt["changes"], strict=True):
        assert change["description"] in li
        for code in change["findings"]:
            assert code in li
    steps = page.locator("#detail table").first.inner_text()
    for agent in ("deconstructor", "diagnoser", "designer", "evaluator"):
        assert agent in steps


def _history_id(site: Site, text: str) -> str:
    items = json.loads(promptd(site.home, "history", "--json", "-n", "50").stdout)["items"]
    return str(next(i["id"] for i in items if text.startswith(i["preview"].rstrip("…"))))


def test_a_request_without_the_token_is_refused(browser: Any, site: Site) -> None:
    context = browser.new_context()
    try:
        pg = context.new_page()
        answer = pg.goto(site.base)
        assert answer is not None and answer.status == 403
        assert "no valid token" in pg.inner_text("body")
        wrong = pg.goto(site.base + "?token=guessed")
        assert wrong is not None and wrong.status == 403
        assert context.cookies() == []
    finally:
        context.close()


def test_reads_well_in_dark_mode_too(browser: Any, site: Site) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(site.url)
        pg.wait_for_selector("body[data-state=ready]", timeout=15_000)
        bg = pg.evaluate("getComputedStyle(document.body).backgroundColor")
        fg = pg.evaluate("getComputedStyle(document.body).color")
        assert _luminance(bg) < 0.1 < 0.6 < _luminance(fg)
        # the charts follow the theme: light labels and a light line on the dark panel
        label = pg.evaluate("getComputedStyle(document.querySelector('#chart-spend text')).fill")
        line = pg.evaluate(
            "getComputedStyle(document.querySelector('#chart-spend .serie-0 path.line')).stroke"
        )
        assert _luminance(label) > 0.4 and _luminance(line) > 0.4, (label, line)
    finally:
        context.close()


def _luminance(css: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _drop(folder: Path, name: str, data: str) -> None:
    part = folder / f"{name}.part"
    part.write_text(data, encoding="utf-8")
    part.rename(folder / name)


def test_a_dropped_batch_and_a_refused_file_appear_live(page: Any, site: Site) -> None:
    _open(page, site)
    page.wait_for_selector("#live.on", timeout=5_000)
    inbox = resolve(site.home).inbox
    rows = "id,prompt\n" + "".join(f"p{i},{PROMPTS[i % 2]} item {i}\n" for i in range(6))
    _drop(inbox, "drop.csv", rows)
    _drop(inbox, "broken.json", "{not json")
    finished = page.wait_for_selector(
        '#batches-finished tr[data-batch] >> text="drop.csv"', timeout=20_000
    )
    assert finished is not None
    row = page.locator("#batches-finished tr[data-batch]", has_text="drop.csv").inner_text()
    assert "completed" in row and "drop.report.md" in row
    refused = page.locator("#batches-failed .batch", has_text="broken.json")
    refused.filter(has_text="JSON").wait_for(timeout=20_000)  # with its error, once written


def test_back_up_now_and_verify_from_the_page(page: Any, site: Site) -> None:
    _open(page, site)
    page.click("#backup-now")
    page.locator("#backup-message.ok", has_text="made and verified").wait_for(timeout=60_000)
    page.locator("#backups-table tr[data-backup]").first.wait_for()  # the list, reloaded
    (backup_id,) = [
        r.get_attribute("data-backup")
        for r in page.locator("#backups-table tr[data-backup]").element_handles()
    ]
    listed = json.loads(promptd(site.home, "backup", "list", "--json").stdout)
    assert [b["id"] for b in listed["backups"]] == [backup_id]
    page.click(f'#backups-table tr[data-backup="{backup_id}"] button')
    page.locator("#backup-message.ok", has_text=f"Backup {backup_id} verified").wait_for()
