"""The inbox in a real daemon (offline engine): drop files, get results, bad files explained."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from promptd.daemon.api import BatchIdParams, BatchInfo, BatchSubmitParams
from promptd.daemon.client import Client
from promptd.daemon.events import (
    BatchCompleted,
    BatchFailed,
    BatchItemCompleted,
    BatchStarted,
    OptimizationCompleted,
    OptimizationRequested,
)
from promptd.daemon.paths import resolve
from tests.waiting import until

from .harness import events, inbox_service, running_daemon

PROMPTS = [
    "please kindly write some stuff about dogs, make it good and DONT make it boring!!!",
    "fix the bug in this code {code} and explain. use python",
    "Classify the sentiment of the review below as positive, negative or neutral.",
]


def prompts_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "prompt", "owner"])
    for i, prompt in enumerate(PROMPTS):
        writer.writerow([f"p{i}", prompt, "ana"])
    writer.writerow(["p3", "", "bob"])  # one bad row in a good file
    return buf.getvalue().encode()


def drop(folder: Path, name: str, data: bytes) -> None:
    """Write under a temporary name, then rename into place (as careful tools do)."""
    part = folder / f"{name}.part"
    part.write_bytes(data)
    part.rename(folder / name)


async def test_csv_drop_gives_outbox_file_report_and_done(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home) as daemon:
        assert paths.inbox.stat().st_mode & 0o777 == 0o700
        drop(paths.inbox, "prompts.csv", prompts_csv())
        out = paths.outbox / "prompts.optimized.csv"
        await until(lambda: (paths.inbox / "done" / "prompts.csv").exists(), what="done/")
        rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
        assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3"]
        assert all(r["owner"] for r in rows)
        assert [r["status"] for r in rows] == ["ok", "ok", "ok", "error"]
        assert "{code}" in rows[1]["optimized"]  # placeholders survive
        assert int(rows[0]["score_after"]) >= int(rows[0]["score_before"])
        assert "the prompt is empty" in rows[3]["error"]
        report = (paths.outbox / "prompts.report.md").read_text()
        assert "Prompts: 4 (3 optimized, 1 failed)" in report
        assert not (paths.inbox / "prompts.csv").exists()

        started = events(daemon, BatchStarted)
        assert [(s.file_name, s.count, s.format) for s in started] == [("prompts.csv", 4, "csv")]
        batch_id = started[0].batch_id
        items = [e for e in events(daemon, BatchItemCompleted) if e.batch_id == batch_id]
        assert sorted(e.index for e in items) == [0, 1, 2, 3]
        done = events(daemon, BatchCompleted)
        assert [(d.ok, d.failed) for d in done] == [(3, 1)]
        opts = [o for o in events(daemon, OptimizationCompleted) if o.batch_id == batch_id]
        assert len(opts) == 3 and {o.source for o in opts} == {"inbox"}

        # The same content again, under another name: answered from the first batch.
        drop(paths.inbox, "again.csv", prompts_csv())
        await until(lambda: (paths.inbox / "done" / "again.csv").exists(), what="duplicate")
        second = events(daemon, BatchStarted)[-1]
        assert second.duplicate_of == batch_id
        asked = [r for r in events(daemon, OptimizationRequested) if r.batch_id == second.batch_id]
        assert asked == []  # nothing optimized (nor billed) again
        again_report = (paths.outbox / "again.report.md").read_text()
        assert "3 answered from earlier results" in again_report
        assert "## Worst findings" in again_report  # read back from the first batch's events
        again = (paths.outbox / "again.optimized.csv").read_text()
        assert [r["optimized"] for r in csv.DictReader(io.StringIO(again, newline=""))] == [
            r["optimized"] for r in rows
        ]


async def test_malformed_files_move_to_failed_with_an_explanation(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    bad = {
        "broken.json": (b'[\n  "one",\n  "two" "three"\n]', "invalid JSON at line 3 column 9"),
        "nocol.csv": (b"text\nhello\n", 'no "prompt" column'),
        "latin.txt": (b"caf\xe9", "not UTF-8"),
        "lines.jsonl": (b"{oops\n", "no line is valid JSON"),
        "empty.md": (b"\n\n", "the file is empty"),
        "huge.prompt": (b"x" * 2048, "over the inbox limit of 1024 bytes"),
        "notes.docx": (b"PK", "not an inbox format"),
    }
    async with running_daemon(
        promptd_home, "[inbox]\nstable_s = 0.2\nmax_file_bytes = 1024\n"
    ) as daemon:
        for name, (data, _) in bad.items():
            drop(paths.inbox, name, data)
        failed = paths.inbox / "failed"
        await until(
            lambda: (
                all((failed / f"{n}.error.txt").exists() for n in bad)
                and len(events(daemon, BatchFailed)) == len(bad)
            ),
            what="error files",
        )
        for name, (_, expected) in bad.items():
            assert (failed / name).exists()
            assert expected in (failed / f"{name}.error.txt").read_text(), name
        reasons = {f.file_name: f.reason for f in events(daemon, BatchFailed)}
        assert set(reasons) == set(bad)
        # the daemon keeps working
        drop(paths.inbox, "fine.txt", b"write a haiku about autumn")
        await until(lambda: (paths.outbox / "fine.optimized.txt").exists(), what="fine.txt")


async def test_symlink_out_of_the_inbox_is_never_followed(
    promptd_home: Path, tmp_path: Path
) -> None:
    paths = resolve(promptd_home)
    secret = tmp_path / "secret.txt"
    secret.write_text("a private prompt that must stay private")
    async with running_daemon(promptd_home) as daemon:
        (paths.inbox / "link.txt").symlink_to(secret)
        drop(paths.inbox, "after.txt", b"write a poem about the sea")
        await until(lambda: (paths.outbox / "after.optimized.txt").exists(), what="after.txt")
        inbox_service(daemon).watcher.scan()
        assert [s.file_name for s in events(daemon, BatchStarted)] == ["after.txt"]
        # moved aside as a link (never followed), with a word for the user
        await until(lambda: (paths.inbox / "failed" / "link.txt.error.txt").exists())
        assert (paths.inbox / "failed" / "link.txt").is_symlink()
        assert secret.read_text() == "a private prompt that must stay private"
        assert not (paths.outbox / "link.optimized.txt").exists()
        assert all("private" not in o.original for o in events(daemon, OptimizationCompleted))


async def test_batch_submit_and_status_over_the_socket(promptd_home: Path, tmp_path: Path) -> None:
    import asyncio

    source = tmp_path / "mine.jsonl"
    source.write_text(
        "".join(json.dumps({"prompt": p, "id": i}) + "\n" for i, p in enumerate(PROMPTS))
    )
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home):

        def submit_and_wait() -> BatchInfo:
            with Client.connect(paths) as client:
                done = client.call(
                    "batch.submit", BatchSubmitParams(path=str(source)), result_type=BatchInfo
                )
                info = client.call("batch.status", BatchIdParams(id=done.id), result_type=BatchInfo)
                assert info.id == done.id and info.state == done.state
                return done

        info = await asyncio.wait_for(asyncio.to_thread(submit_and_wait), 20)
    assert info.state == "completed" and info.done == 3
    out = tmp_path / "mine.optimized.jsonl"
    assert info.output_path == str(out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [0, 1, 2] and all(r["optimized"] for r in rows)
    assert (tmp_path / "mine.report.md").exists()
    assert source.exists()  # a submitted file stays where it is


async def test_rearmed_when_the_inbox_is_deleted_and_recreated(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home) as daemon:
        watcher = inbox_service(daemon).watcher
        shutil.rmtree(paths.inbox)
        await until(lambda: watcher.arms >= 2 and paths.inbox.is_dir(), what="re-arm")
        drop(paths.inbox, "later.md", b"write a limerick about a cat")
        await until(lambda: (paths.outbox / "later.optimized.md").exists(), what="later.md")


async def test_hundred_files_dropped_at_once(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home) as daemon:
        for i in range(100):
            (paths.inbox / f"p{i:03}.txt").write_text(f"write a short poem about the number {i}")
        done = paths.inbox / "done"
        await until(lambda: len(list(done.iterdir())) == 100, timeout=60, what="100 done")
        assert sorted(p.name for p in paths.outbox.glob("*.optimized.txt")) == [
            f"p{i:03}.optimized.txt" for i in range(100)
        ]
        started = events(daemon, BatchStarted)
        assert len(started) == 100 and len({s.file_name for s in started}) == 100
        assert len(events(daemon, BatchCompleted)) == 100


async def test_slow_partial_write_is_processed_once_complete(promptd_home: Path) -> None:
    import asyncio

    paths = resolve(promptd_home)
    async with running_daemon(promptd_home, "[inbox]\nstable_s = 0.5\n") as daemon:
        path = paths.inbox / "slow.csv"
        with path.open("wb") as fh:
            fh.write(b"id,prompt\n")
            for i in range(10):
                fh.write(f"s{i},write a haiku about season {i}\n".encode())
                fh.flush()
                await asyncio.sleep(0.1)
        await until(lambda: (paths.inbox / "done" / "slow.csv").exists(), what="slow.csv")
        rows = list(csv.DictReader(io.StringIO((paths.outbox / "slow.optimized.csv").read_text())))
        assert [r["id"] for r in rows] == [f"s{i}" for i in range(10)]
        assert [(s.file_name, s.count) for s in events(daemon, BatchStarted)] == [("slow.csv", 10)]


async def test_submit_sends_progress_until_the_batch_completes(
    promptd_home: Path, tmp_path: Path
) -> None:
    from promptd.daemon.api import Progress
    from promptd.daemon.client import DaemonClient

    source = tmp_path / "many.csv"
    source.write_bytes(prompts_csv())
    paths = resolve(promptd_home)
    notices: list[Progress] = []
    async with running_daemon(promptd_home):
        client = await DaemonClient.connect(paths)
        try:
            info = await client.call(
                "batch.submit",
                BatchSubmitParams(path=str(source)),
                result_type=BatchInfo,
                on_progress=notices.append,
            )
        finally:
            await client.close()
    assert info.state == "completed" and info.done == 4
    assert len({n.token for n in notices}) == 1 and notices[0].token
    assert {n.batch_id for n in notices} == {info.id} and notices[-1].kind == "batch"
    assert [n.done for n in notices] == sorted(n.done for n in notices)
    assert (notices[-1].done, notices[-1].total) == (4, 4)


async def test_polling_forced_by_the_environment(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTD_INBOX_POLLING", "1")
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home) as daemon:
        assert inbox_service(daemon).watcher.polling
        drop(paths.inbox, "polled.prompt", b"write a tagline for a bakery")
        await until(lambda: (paths.outbox / "polled.optimized.prompt").exists(), what="polled")


async def test_a_file_replaced_while_its_batch_runs_is_run_again(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    big = b"id,prompt\n" + b"".join(
        f"b{i},write a product description for item {i}\n".encode() for i in range(150)
    )
    async with running_daemon(promptd_home) as daemon:
        drop(paths.inbox, "items.csv", big)
        await until(lambda: events(daemon, BatchItemCompleted), what="the first batch")
        assert not events(daemon, BatchCompleted)
        drop(paths.inbox, "items.csv", b"id,prompt\nn1,write a slogan for a gym\n")
        done = paths.inbox / "done"
        await until(lambda: len(events(daemon, BatchCompleted)) == 2, timeout=60, what="both")
        # The first file's bytes were replaced by the second, so only the second moves.
        await until(lambda: (done / "items.csv").exists(), what="the new file in done/")
        counts = [s.count for s in events(daemon, BatchStarted)]
        assert counts == [150, 1]
        # the second file's results beside the first's, not over them
        second = (paths.outbox / "items-2.optimized.csv").read_text()
        rows = list(csv.DictReader(io.StringIO(second)))
        assert [r["id"] for r in rows] == ["n1"]
        assert (done / "items.csv").read_bytes().startswith(b"id,prompt\nn1,")
        assert not (paths.inbox / "items.csv").exists()


async def test_subscribers_see_inbox_batches_progress(promptd_home: Path) -> None:
    import msgspec

    from promptd.daemon.api import Progress
    from promptd.daemon.client import DaemonClient

    paths = resolve(promptd_home)
    seen: list[Progress] = []

    def on_notification(method: str, raw: bytes) -> None:
        if method == "batch.progress":
            seen.append(msgspec.json.decode(raw, type=Progress))

    async with running_daemon(promptd_home):
        client = await DaemonClient.connect(paths)
        try:
            client.on_notification = on_notification
            await client.call("subscribe", {"topics": ["batch"]})
            drop(paths.inbox, "watched.csv", prompts_csv())
            await until(lambda: seen and "completed" in seen[-1].message, what="batch.progress")
        finally:
            await client.close()
    assert seen[-1].message.startswith("watched.csv: 4/4")
    assert (seen[-1].done, seen[-1].total) == (4, 4) and seen[-1].kind == "batch"


async def test_sighup_applies_new_inbox_settings(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home) as daemon:
        watcher = inbox_service(daemon).watcher
        arms = watcher.arms
        paths.config_file.write_text("[inbox]\nstable_s = 0.7\npolling = true\n")
        daemon.reload()
        assert watcher.tracker.stable_s == 0.7
        await until(lambda: watcher.arms > arms and watcher.polling, what="re-armed, polling")
        drop(paths.inbox, "after-hup.txt", b"write a riddle about time")
        await until(lambda: (paths.outbox / "after-hup.optimized.txt").exists(), what="result")
