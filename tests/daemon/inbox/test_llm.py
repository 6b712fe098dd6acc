"""The inbox against a loopback LLM server: a kill -9 mid-batch, and the budget running out."""

from __future__ import annotations

import csv
import io
import os
import signal
from pathlib import Path

import pytest

from promptd.daemon.api import BudgetSetParams, Empty
from promptd.daemon.events import (
    BatchCompleted,
    BatchItemCompleted,
    BatchStarted,
    BudgetReserved,
    OptimizationCompleted,
    OptimizationRequested,
    ProviderCallCompleted,
)
from promptd.daemon.paths import resolve
from promptd.daemon.values import ticks_to_usd
from tests.waiting import until

from ..providers.loopback import LoopbackServer
from .harness import (
    child_daemon,
    events,
    inbox_service,
    of,
    read_log,
    running_daemon,
    wait_in_child,
)


def llm_config(server: LoopbackServer, concurrency: int) -> str:
    return (
        f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
        f'api_key_env = "LOCAL_KEY"\nretries = 0\nmax_concurrency = {concurrency}\n'
        f"[inbox]\nstable_s = 0.2\nconcurrency = {concurrency}\n"
    )


def dogs_csv(n: int, offset: int = 0) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "prompt"])
    for i in range(offset, offset + n):
        writer.writerow([f"d{i}", f"write some stuff about dogs, variant number {i}"])
    return buf.getvalue().encode()


def drop(folder: Path, name: str, data: bytes) -> None:
    (folder / f"{name}.part").write_bytes(data)
    (folder / f"{name}.part").rename(folder / name)


@pytest.mark.slow
def test_kill_9_mid_batch_resumes_without_paying_twice(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    env = {"LOCAL_KEY": "local-key"}
    with LoopbackServer(latency_s=0.05, api_key="local-key") as server:
        paths.config_file.write_text(llm_config(server, concurrency=2))
        with child_daemon(promptd_home, env) as first:
            wait_in_child(paths.inbox.is_dir, first, paths, 30, "the inbox")
            drop(paths.inbox, "dogs.csv", dogs_csv(16))
            wait_in_child(
                lambda: len(of(read_log(paths), BatchItemCompleted)) >= 4,
                first,
                paths,
                30,
                "the batch to get going",
            )
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        before = read_log(paths)
        done_before = {e.index: e for e in of(before, BatchItemCompleted)}
        assert 4 <= len(done_before) < 16, "kill -9 came too late to test a resume"
        assert not of(before, BatchCompleted)
        assert not (paths.outbox / "dogs.optimized.csv").exists()

        with child_daemon(promptd_home, env) as second:
            done = paths.inbox / "done"
            wait_in_child((done / "dogs.csv").exists, second, paths, 60, "the resumed batch")
            # The resumed file's name is free again: the same drop is answered as a duplicate.
            drop(paths.inbox, "dogs.csv", dogs_csv(16))
            wait_in_child((done / "dogs-1.csv").exists, second, paths, 60, "the second drop")
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    after = read_log(paths)
    first_run, again = of(after, BatchStarted)
    assert again.duplicate_of == first_run.batch_id
    assert len(of(after, BatchCompleted)) == 2
    items = [e for e in of(after, BatchItemCompleted) if e.batch_id == first_run.batch_id]
    assert sorted(e.index for e in items) == list(range(16))  # each item once
    # An item done before the kill was neither optimized nor paid for again.
    asked_by_opt = {e.opt_id: e.prompt for e in of(after, OptimizationRequested)}
    paid_for: dict[str, set[str]] = {}
    for call in of(after, ProviderCallCompleted):
        paid_for.setdefault(asked_by_opt[call.opt_id], set()).add(call.opt_id)
    completed: dict[str, list[str]] = {}
    for opt in of(after, OptimizationCompleted):
        completed.setdefault(opt.original, []).append(opt.opt_id)
    for index, item in done_before.items():
        prompt = f"write some stuff about dogs, variant number {index}"
        assert completed[prompt] == [item.opt_id]
        assert paid_for[prompt] == {item.opt_id}
    # the second drop's results go beside the first's (dogs-2), answered at no cost
    second = (paths.outbox / "dogs-2.optimized.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(second)))
    assert [r["id"] for r in rows] == [f"d{i}" for i in range(16)]
    assert {r["status"] for r in rows} == {"cached"}
    assert all(r["optimized"] and r["cost_usd"] == "0" for r in rows)


async def test_budget_running_out_mid_batch(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_KEY", "local-key")
    paths = resolve(promptd_home)
    # the cost computed from the usage and the price table, as for most providers
    with LoopbackServer(api_key="local-key", cost_ticks=None) as server:
        async with running_daemon(promptd_home, llm_config(server, concurrency=1)) as daemon:
            core = daemon.core
            assert core is not None
            # One prompt first, to learn what a call holds and what a prompt costs; as long as
            # the batch's prompts, since a hold grows with the prompt and the guards' feedback.
            drop(paths.inbox, "one.csv", dogs_csv(1, offset=8))
            await until(lambda: (paths.outbox / "one.optimized.csv").exists(), what="one.csv")
            hold = max(e.ticks for e in events(daemon, BudgetReserved))
            per_prompt = sum(e.cost_ticks for e in events(daemon, ProviderCallCompleted))
            spent = per_prompt
            limit = spent + hold + 2 * per_prompt + per_prompt // 2
            await core.budget_set(BudgetSetParams(daily_usd=ticks_to_usd(limit)), None)

            drop(paths.inbox, "many.csv", dogs_csv(8))
            await until(lambda: (paths.inbox / "done" / "many.csv").exists(), what="many.csv")
            rows = list(
                csv.DictReader(io.StringIO((paths.outbox / "many.optimized.csv").read_text()))
            )
            statuses = [r["status"] for r in rows]
            assert statuses[0] == "ok" and statuses[-1] == "budget", statuses
            first_budget = statuses.index("budget")
            assert set(statuses[first_budget:]) == {"budget"}
            assert "budget" in rows[-1]["error"] and "promptd budget" in rows[-1]["error"]
            done = events(daemon, BatchCompleted)[-1]
            assert done.budget == len(statuses) - first_budget and done.ok == first_budget
            report = (paths.outbox / "many.report.md").read_text()
            assert "## Stopped for budget" in report
            inbox = inbox_service(daemon).status()
            stopped = [b for b in inbox.batches if b.file_name == "many.csv"]
            assert stopped and "budget" in stopped[0].reason
            status = await core.status(Empty(), None)  # what `promptd status` shows
            assert status.inbox.path == str(paths.inbox)
            shown = [b for b in status.inbox.batches if b.file_name == "many.csv"]
            assert shown and shown[0].reason.startswith("the daily budget")
