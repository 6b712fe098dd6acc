"""The batch runner against a fake "optimize one" call and an in-memory event list."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import hypothesis
from hypothesis import strategies as st

from promptd.daemon.api import OptimizeResult
from promptd.daemon.errors import BudgetError, ProviderError
from promptd.daemon.events import BatchCompleted, BatchItemCompleted, BatchStarted, Event
from promptd.daemon.inbox.batch import BatchRunner, Job, OptimizeCall
from promptd.daemon.inbox.book import BatchBook, RowSet
from promptd.daemon.inbox.formats import open_file
from promptd.daemon.values import Finding, usd_to_ticks
from tests.waiting import until


def result(call: OptimizeCall, cost_usd: float = 0.001) -> OptimizeResult:
    return OptimizeResult(
        id=f"o_{call.index}",
        original=call.text,
        optimized=call.text.upper(),
        prompt_type=call.prompt_type,
        engine="offline",
        model="",
        score_before=40,
        score_after=75,
        findings=[Finding(code="PD001", severity="warning", message="vague term 'stuff'")],
        changes=[],
        placeholders=[],
        cost_usd=cost_usd,
        cached=False,
        degraded=False,
        duration_ms=1,
    )


class Fake:
    """Counts calls and the most prompts in flight at once."""

    def __init__(self, delay: float = 0.0, budget_after: int | None = None) -> None:
        self.calls: list[OptimizeCall] = []
        self.in_flight = 0
        self.peak = 0
        self.delay = delay
        self.budget_after = budget_after

    async def __call__(self, call: OptimizeCall) -> OptimizeResult:
        self.calls.append(call)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.budget_after is not None and len(self.calls) > self.budget_after:
                raise BudgetError("the daily budget of $0.01 is spent ($0.0100 today)")
            if call.text == "explode":
                raise ProviderError("xai: 500 after 3 tries; try again later")
            return result(call)
        finally:
            self.in_flight -= 1


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def append(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]


def csv_job(tmp_path: Path, rows: list[str], sha: str = "s1", name: str = "p.csv") -> Job:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "prompt"])
    for i, row in enumerate(rows):
        writer.writerow([f"r{i}", row])
    return Job(
        file_name=name,
        sha256=sha,
        file=open_file(name, buf.getvalue().encode(), 10**6),
        output_path=tmp_path / "p.optimized.csv",
        report_path=tmp_path / "p.report.md",
    )


def reload(runner: BatchRunner, log: Log) -> None:
    """Fold the log into a fresh book, as the daemon loads the earlier batches of the same
    content from the store before a drop (rows run live are counted, not kept)."""
    runner.book = BatchBook().apply_all(log.events)


def read_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(), newline="")))


async def test_concurrency_is_bounded_and_output_complete(tmp_path: Path) -> None:
    fake, log = Fake(delay=0.01), Log()
    runner = BatchRunner(optimize=fake, append=log.append, book=BatchBook(), concurrency=4)
    job = csv_job(tmp_path, [f"prompt {i}" for i in range(20)])
    record = await runner.run(job)
    assert record.state == "completed"
    assert fake.peak == 4 and len(fake.calls) == 20
    assert {c.source for c in fake.calls} == {"inbox"}
    assert {c.batch_id for c in fake.calls} == {record.batch_id}
    rows = read_rows(job.output_path)
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(20)]
    assert all(r["optimized"] == r["prompt"].upper() for r in rows)
    done = log.of(BatchCompleted)[0]
    assert (done.ok, done.failed, done.budget) == (20, 0, 0)
    assert done.cost_ticks == 20 * usd_to_ticks(0.001)
    report = job.report_path.read_text()
    assert "Prompts: 20 (20 optimized)" in report and "40 → 75" in report
    assert "PD001" in report and "$0.0200" in report


async def test_bad_and_failing_rows_fail_alone(tmp_path: Path) -> None:
    fake, log = Fake(), Log()
    runner = BatchRunner(optimize=fake, append=log.append, book=BatchBook())
    job = csv_job(tmp_path, ["fine", "", "explode"])
    await runner.run(job)
    assert [c.text for c in fake.calls] == ["fine", "explode"]
    rows = read_rows(job.output_path)
    assert [r["status"] for r in rows] == ["ok", "error", "error"]
    assert "the prompt is empty" in rows[1]["error"]
    assert "500 after 3 tries" in rows[2]["error"]
    assert "## Failed rows" in job.report_path.read_text()


async def test_duplicate_is_answered_without_calls(tmp_path: Path) -> None:
    fake, log = Fake(), Log()
    book = BatchBook()
    runner = BatchRunner(optimize=fake, append=log.append, book=book)
    first = await runner.run(csv_job(tmp_path, ["a", "b"]))
    calls = len(fake.calls)
    reload(runner, log)
    second = await runner.run(csv_job(tmp_path, ["a", "b"]))
    assert len(fake.calls) == calls
    assert log.of(BatchStarted)[1].duplicate_of == first.batch_id
    items = [e for e in log.of(BatchItemCompleted) if e.batch_id == second.batch_id]
    assert {(e.status, e.cost_ticks, e.cached) for e in items} == {("cached", 0, True)}
    assert [r["optimized"] for r in read_rows(tmp_path / "p.optimized.csv")] == ["A", "B"]


async def test_degraded_rows_of_an_earlier_drop_are_run_again(tmp_path: Path) -> None:
    """Issue 15: a file dropped again after the provider was fixed got the degraded rows."""
    import msgspec

    calls: list[str] = []

    async def flaky(call: OptimizeCall) -> OptimizeResult:
        calls.append(call.text)
        degraded = len(calls) <= 2 and call.text == "b"  # the provider was down for "b"
        reason = "the llm engine failed (HTTP 503)" if degraded else ""
        return msgspec.structs.replace(result(call), degraded=degraded, degraded_reason=reason)

    log = Log()
    runner = BatchRunner(optimize=flaky, append=log.append, book=BatchBook())
    first = await runner.run(csv_job(tmp_path, ["a", "b"]))
    shown = runner.progress(first.batch_id)
    assert shown is not None and shown.info().degraded == 1  # the summary counts them
    reload(runner, log)
    second = await runner.run(csv_job(tmp_path, ["a", "b"]))
    assert calls.count("a") == 1 and calls.count("b") == 2  # only the degraded row again
    items = {e.index: e for e in log.of(BatchItemCompleted) if e.batch_id == second.batch_id}
    assert items[0].status == "cached" and items[1].status == "ok" and not items[1].degraded


async def test_resume_skips_completed_items(tmp_path: Path) -> None:
    log = Log()
    book = BatchBook()
    job = csv_job(tmp_path, ["a", "b", "c", "d"])
    started = BatchStarted(batch_id="b_x", file_name="p.csv", sha256="s1", count=4, format="csv")
    prior = [
        started,
        BatchItemCompleted(batch_id="b_x", index=0, optimized="A0", status="ok", cost_ticks=5),
        BatchItemCompleted(batch_id="b_x", index=2, optimized="C0", status="ok", cost_ticks=5),
    ]
    book.apply_all(prior)
    fake = Fake()
    runner = BatchRunner(optimize=fake, append=log.append, book=book)
    resumed = Job(
        file_name=job.file_name,
        sha256=job.sha256,
        file=job.file,
        output_path=job.output_path,
        report_path=job.report_path,
        batch_id="b_x",
    )
    record = await runner.run(resumed)
    assert sorted(c.index for c in fake.calls) == [1, 3]
    assert not log.of(BatchStarted)
    assert record.state == "completed"
    assert [r["optimized"] for r in read_rows(job.output_path)] == ["A0", "B", "C0", "D"]


async def test_budget_running_out_marks_the_rest(tmp_path: Path) -> None:
    fake, log = Fake(budget_after=3), Log()
    runner = BatchRunner(optimize=fake, append=log.append, book=BatchBook(), concurrency=1)
    job = csv_job(tmp_path, [f"p{i}" for i in range(10)])
    record = await runner.run(job)
    assert len(fake.calls) == 4  # the fourth call is refused; no call after it
    rows = read_rows(job.output_path)
    assert [r["status"] for r in rows] == ["ok"] * 3 + ["budget"] * 7
    assert "daily budget of $0.01 is spent" in rows[9]["error"]
    done = log.of(BatchCompleted)[0]
    assert (done.ok, done.budget) == (3, 7)
    prog = runner.progress(record.batch_id)
    assert prog is not None and "daily budget" in prog.info().reason
    assert "## Stopped for budget" in job.report_path.read_text()


async def test_cancel_stops_taking_items(tmp_path: Path) -> None:
    fake, log = Fake(delay=0.05), Log()
    runner = BatchRunner(optimize=fake, append=log.append, book=BatchBook(), concurrency=1)
    task = asyncio.create_task(runner.run(csv_job(tmp_path, [f"p{i}" for i in range(50)])))
    await until(lambda: bool(runner.running), 5, "the batch to start", interval=0.005)
    batch_id = next(iter(runner.running))
    assert runner.cancel(batch_id, "cancelled from the CLI")
    record = await asyncio.wait_for(task, 5)
    assert record.state == "cancelled" and len(fake.calls) < 50
    assert not (tmp_path / "p.optimized.csv").exists()


class Jittered(Fake):
    """Rows finish out of order: each waits 0-3 loop turns, by its index."""

    async def __call__(self, call: OptimizeCall) -> OptimizeResult:
        for _ in range(call.index * 7 % 4):
            await asyncio.sleep(0)
        return await super().__call__(call)


async def test_a_large_batch_streams_every_row_in_order(tmp_path: Path) -> None:
    """Issue 16: a big file is read, run and written as a stream (a window of rows), yet the
    user still gets every row, in file order, and a report with the right counts."""
    n = 3_000
    fake, log = Jittered(), Log()
    runner = BatchRunner(optimize=fake, append=log.append, book=BatchBook(), concurrency=8)
    prompts = ["" if i % 97 == 0 else f"prompt {i}" for i in range(n)]  # 31 empty rows
    job = csv_job(tmp_path, prompts)
    record = await runner.run(job)
    assert record.state == "completed" and not record.items  # counted, not kept
    rows = read_rows(job.output_path)
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(n)]
    assert all(r["optimized"] == r["prompt"].upper() for r in rows if r["status"] == "ok")
    failed = [r["id"] for r in rows if r["status"] == "error"]
    assert failed == [f"r{i}" for i in range(0, n, 97)]
    done = log.of(BatchCompleted)[0]
    assert (done.ok, done.failed, done.budget) == (n - 31, 31, 0)
    assert done.cost_ticks == (n - 31) * usd_to_ticks(0.001)
    report = job.report_path.read_text()
    assert f"Prompts: {n} ({n - 31} optimized, 31 failed)" in report
    assert f"| PD001 | warning | {n - 31} |" in report
    assert "- … and 21 more (see the error column)" in report
    assert sorted(e.index for e in log.of(BatchItemCompleted)) == list(range(n))
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary output was renamed into place


async def test_a_large_resume_writes_old_and_new_rows_in_order(tmp_path: Path) -> None:
    n = 1_000
    log = Log()
    job = csv_job(tmp_path, [f"p{i}" for i in range(n)])
    started = BatchStarted(batch_id="b_y", file_name="p.csv", sha256="s1", count=n, format="csv")
    prior = [started] + [
        BatchItemCompleted(
            batch_id="b_y", index=i, opt_id=f"o_{i}", optimized=f"OLD{i}", status="ok"
        )
        for i in range(0, n, 3)
    ]
    stale = tmp_path / ".p.optimized.csv.1.deadbeef.tmp"  # left by a daemon killed mid-batch
    stale.write_text("half a file")
    fake = Jittered()

    async def findings_of(opt_ids: list[str]) -> dict[str, list[Finding]]:
        return {o: [Finding(code="PD002", severity="info", message="old")] for o in opt_ids}

    runner = BatchRunner(
        optimize=fake,
        append=log.append,
        book=BatchBook().apply_all(prior),
        concurrency=4,
        findings_of=findings_of,
    )
    resumed = Job(
        file_name="p.csv",
        sha256="s1",
        file=job.file,
        output_path=job.output_path,
        report_path=job.report_path,
        batch_id="b_y",
    )
    await runner.run(resumed)
    assert sorted(c.index for c in fake.calls) == [i for i in range(n) if i % 3]
    rows = read_rows(job.output_path)
    assert [r["optimized"] for r in rows] == [
        f"OLD{i}" if i % 3 == 0 else f"P{i}" for i in range(n)
    ]
    report = job.report_path.read_text()
    assert f"| PD001 | warning | {n - 334} |" in report and "| PD002 | info | 334 |" in report
    assert not stale.exists()


@hypothesis.given(st.lists(st.integers(min_value=0, max_value=5000), max_size=300))
def test_the_rows_done_answer_as_a_set_of_them_would(rows: list[int]) -> None:
    done, model = RowSet(), set()
    for row in rows:
        done.add(row)
        model.add(row)
    assert len(done) == len(model)
    for probe in {*rows, *(r + 1 for r in rows), 0, 7, 8, 5001, 10**6, -1}:
        assert (probe in done) == (probe in model)
