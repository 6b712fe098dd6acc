"""The evaluations of an optimization in the dashboard's history detail, in a real browser
(Debian's Chromium driven by Playwright) against a real daemon and event log.

Skipped, saying why, when Chromium or Playwright is missing (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.events import EvaluationCompleted, EvalVerdict
from promptd.daemon.paths import resolve
from promptd.daemon.projections import open_log

from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, promptd, sync_api

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("dash")
    yield folder
    if process.running_pid(resolve(folder)) is not None:
        promptd(folder, "stop", "--timeout", "10")


def test_the_detail_lists_the_evaluations_with_their_reasons(home: Path) -> None:
    done = promptd(home, "optimize", "write some stuff about dogs for {audience}!!!", "--json")
    assert done.returncode == 0, done.stderr
    opt_id = json.loads(done.stdout)["id"]
    assert promptd(home, "stop").returncode == 0
    log = open_log(resolve(home).events)  # an evaluation as `promptd eval ID` records it
    try:
        log.append(
            EvaluationCompleted(
                eval_id="ev_browser",
                opt_id=opt_id,
                target_model="grok-4.3",
                judge_model="grok-4-judge",
                planned=2,
                wins=1,
                ties=1,
                score=0.75,
                low=0.3,
                high=0.95,
                cost_ticks=25 * 10**6,
                verdicts=[
                    EvalVerdict(index=0, verdict="win", reasons=["original as A: B is clearer"]),
                    EvalVerdict(index=1, verdict="tie", reasons=["candidate as A: same"]),
                ],
            )
        )
    finally:
        log.close()
    shown = promptd(home, "dashboard", "--json", "--no-open")
    assert shown.returncode == 0, shown.stderr
    url = json.loads(shown.stdout)["url"]
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.wait_for_selector("body[data-state=ready]", timeout=15_000)
            page.click(f'#history-table tr[data-id="{opt_id}"]')
            page.wait_for_selector("#detail .eval-reasons li", timeout=5_000)
            detail = page.locator("#detail").inner_text()
            reasons = page.locator("#detail .eval-reasons li").all_inner_texts()
        finally:
            browser.close()
    assert errors == []
    assert "Evaluations (promptd eval)" in detail
    assert "ev_browser" in detail and "1/1/0" in detail and "75% (30-95%)" in detail
    assert "grok-4-judge" in detail
    assert reasons == [
        "ev_browser sample 1 win: original as A: B is clearer",
        "ev_browser sample 2 tie: candidate as A: same",
    ]
