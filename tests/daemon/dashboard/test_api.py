"""What the dashboard's JSON API answers, against a real daemon and a real log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx

from promptd.daemon import api
from promptd.daemon.client import DaemonClient
from promptd.daemon.events import (
    BatchFailed,
    BudgetSet,
    OptimizationCompleted,
    ProviderCallCompleted,
)
from promptd.daemon.paths import resolve
from promptd.daemon.server.app import Daemon

from .conftest import dashboard_of, running_daemon

DOGS = (
    "please kindly write some stuff about dogs for {audience}, make it good and DONT be boring!!!"
)
CODE = "fix the bug in this code {code} and explain. use python"


def _client(daemon: Daemon) -> httpx.AsyncClient:
    dash = dashboard_of(daemon)
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{dash.port}",
        headers={"Cookie": f"{dash.guard.cookie}={dash.guard.token}"},
        timeout=10.0,
    )


async def _optimize(daemon: Daemon, text: str, **kw: Any) -> dict[str, Any]:
    async with await DaemonClient.connect(daemon.paths) as client:
        result: dict[str, Any] = await client.call("optimize", {"text": text, **kw})
        return result


async def test_history_search_filters_and_the_diff_with_reasons(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        dogs = await _optimize(daemon, DOGS)
        code = await _optimize(daemon, CODE, prompt_type="technical")
        everything = (await c.get("/api/history")).json()
        assert [r["id"] for r in everything["items"]] == [code["id"], dogs["id"]]
        assert everything["more"] is False
        # the search reads the whole prompt, not just the preview
        found = (await c.get("/api/history", params={"q": "BORING"})).json()
        assert [r["id"] for r in found["items"]] == [dogs["id"]]
        typed = (await c.get("/api/history", params={"type": "technical"})).json()
        assert [r["id"] for r in typed["items"]] == [code["id"]]
        assert (await c.get("/api/history", params={"source": "lsp"})).json()["items"] == []
        assert (await c.get("/api/history", params={"since": "2999-01-01"})).json()["items"] == []
        one = (await c.get("/api/history", params={"limit": 1})).json()
        assert len(one["items"]) == 1 and one["more"] is True
        bad = await c.get("/api/history", params={"since": "yesterday"})
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]

        detail = (await c.get(f"/api/optimizations/{dogs['id']}")).json()
        assert detail["original"] == DOGS and detail["optimized"] == dogs["optimized"]
        inserted = [d["text"] for d in detail["diff"] if d["op"] == "insert"]
        deleted = [d["text"] for d in detail["diff"] if d["op"] == "delete"]
        assert deleted == [DOGS] and "".join(inserted).replace("\n", "") != ""
        assert [c["description"] for c in detail["changes"]] == [
            ch["description"] for ch in dogs["changes"]
        ]
        reasons = [r for ch in detail["changes"] for r in ch["reasons"]]
        assert reasons and all(r["code"].startswith("PD") and r["message"] for r in reasons)
        assert [s["agent"] for s in detail["steps"]] == [
            "deconstructor",
            "diagnoser",
            "designer",
            "evaluator",
        ]
        missing = await c.get("/api/optimizations/nope")
        assert missing.status_code == 404


async def test_overview_counts_what_the_log_holds(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        await _optimize(daemon, DOGS)
        await _optimize(daemon, DOGS)  # answered from the optimization cache
        store = daemon.core.store  # type: ignore[union-attr]
        assert store is not None
        await store.append(
            [
                ProviderCallCompleted(
                    call_id="c1",
                    provider="xai",
                    model="grok-4",
                    latency_ms=900,
                    cost_ticks=3 * 10**8,
                ),
                ProviderCallCompleted(
                    call_id="c2", provider="xai", model="grok-4", ok=False, status=500
                ),
            ]
        )
        o = (await c.get("/api/overview")).json()
        assert o["optimizations"]["total"] == 2
        assert sum(o["optimizations"]["by_source"]["API"]) == 2
        assert sum(o["optimizations"]["by_engine"]["offline"]) == 2
        tier = o["cache"]["tiers"]["optimization"]
        assert (tier["hits"], tier["misses"]) == (1, 1)
        (model,) = o["provider"]["models"]
        assert (model["model"], model["calls"], model["errors"]) == ("grok-4", 2, 1)
        assert model["error_rate"] == 0.5
        assert o["spend"]["today_usd"] == 0.03
        async with await DaemonClient.connect(daemon.paths) as client:
            costs = await client.call("costs", result_type=api.CostsResult)
        drawn = dict(zip(o["spend"]["days"], o["spend"]["spend_usd"], strict=True))
        for row in costs.by_day:
            assert drawn[row.key] == row.cost_usd
        assert o["spend"]["forecast_30d_usd"] == costs.forecast_30d_usd
        (general,) = o["scores"]["by_type"]
        assert general["key"] == "general" and general["after"] > general["before"]
        assert o["findings"] and o["findings"][0]["count"] >= 1


async def test_audit_is_newest_first_filtered_and_paged(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        await _optimize(daemon, DOGS)
        a = (await c.get("/api/audit", params={"limit": 3})).json()
        seqs = [r["seq"] for r in a["items"]]
        assert seqs == sorted(seqs, reverse=True) and seqs[0] == a["last_seq"]
        assert a["next"] == seqs[-1]
        rest = (await c.get("/api/audit", params={"before": a["next"], "limit": 500})).json()
        assert [r["seq"] for r in rest["items"]] == list(range(seqs[-1] - 1, 0, -1))
        assert rest["next"] == 0
        done = (await c.get("/api/audit", params={"kind": "optimization.completed"})).json()
        (row,) = done["items"]
        assert row["kind"] == "optimization.completed" and row["fields"]["original"] == DOGS
        assert "optimization.completed" in done["kinds"]


async def test_batches_show_failed_inbox_files_with_their_error(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        paths = resolve(promptd_home)
        (paths.inbox / "broken.json").write_text("{not json")
        deadline = time.monotonic() + 15
        failed: list[dict[str, str]] = []
        while not (failed and failed[0]["error"]):  # the file moves first, then its error
            assert time.monotonic() < deadline, "the inbox did not refuse broken.json"
            await asyncio.sleep(0.1)
            failed = (await c.get("/api/batches")).json()["failed_files"]
        assert failed[0]["name"] == "broken.json" and "JSON" in failed[0]["error"]
        store = daemon.core.store  # type: ignore[union-attr]
        assert store is not None
        await store.append(BatchFailed(file_name="x.csv", reason="r", batch_id=""))
        assert (await c.get("/api/batches")).json()["running"] == []


async def test_live_stream_pushes_a_new_event_within_a_second(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        store = daemon.core.store  # type: ignore[union-attr]
        assert store is not None
        async with c.stream("GET", "/api/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()

            async def next_note() -> dict[str, Any]:
                while True:
                    line = await asyncio.wait_for(anext(lines), 5)
                    if line.startswith("data: {"):
                        note: dict[str, Any] = json.loads(line[6:])
                        return note

            while (await asyncio.wait_for(anext(lines), 5)) != "event: hello":
                pass
            started = time.monotonic()
            (seq,) = await store.append(BudgetSet(daily_ticks=10**10))
            note = await next_note()
            assert time.monotonic() - started < 1.0
            assert (note["seq"], note["kind"]) == (seq, "budget.set")

            result = await _optimize(daemon, DOGS)
            kinds = []
            while "optimization.completed" not in kinds:
                note = await next_note()
                kinds.append(note["kind"])
                if note["kind"] == "optimization.completed":
                    assert note["opt_id"] == result["id"]
            assert "optimization.requested" in kinds


async def test_a_daemon_without_its_log_open_says_so(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        core = daemon.core
        assert core is not None
        store, core.store = core.store, None  # as between the start and the log's opening
        try:
            r = await c.get("/api/overview")
        finally:
            core.store = store
        assert r.status_code == 503 and "not open yet" in r.json()["error"]
        assert (await c.get("/api/overview")).status_code == 200


async def test_history_pages_fifty_at_first_then_as_many_as_asked(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        store = daemon.core.store  # type: ignore[union-attr]
        assert store is not None
        await store.append(
            [
                OptimizationCompleted(
                    opt_id=f"o{i:03d}",
                    prompt_hash=f"{i:064x}",
                    original=f"prompt {i}",
                    optimized=f"better prompt {i}",
                    prompt_type="general",
                )
                for i in range(60)
            ]
        )
        first = (await c.get("/api/history")).json()
        assert len(first["items"]) == 50 and first["more"] is True
        assert first["items"][0]["id"] == "o059"
        everything = (await c.get("/api/history", params={"limit": 200})).json()
        assert len(everything["items"]) == 60 and everything["more"] is False


async def test_history_dates_are_the_browsers_days(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon, _client(daemon) as c:
        store = daemon.core.store  # type: ignore[union-attr]
        assert store is not None
        # 2026-11-18 23:30 UTC is already 2026-11-19 in UTC+1
        at = int(dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.UTC).timestamp()) * 10**9
        done = OptimizationCompleted(
            opt_id="late", prompt_hash="h", original="p", optimized="q", prompt_type="general"
        )
        await store.append(done, ts_ns=at)

        async def ids(**params: Any) -> list[str]:
            answer = (await c.get("/api/history", params=params)).json()
            return [r["id"] for r in answer["items"]]

        assert await ids(since="2026-11-18", until="2026-11-18") == ["late"]
        assert await ids(since="2026-11-19", until="2026-11-19", tz=60) == ["late"]
        assert await ids(since="2026-11-18", until="2026-11-18", tz=60) == []
