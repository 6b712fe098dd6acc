"""Hostile inbox files: each ends in done/ or failed/ with a clear word, none stops the inbox.

Regression tests for issue 16 ("Hardening", Inbox): each reproduces what a user saw.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from promptd.daemon.errors import StoreError
from promptd.daemon.events import BatchCompleted, BatchItemCompleted, BatchStarted
from promptd.daemon.paths import resolve

from .harness import events, inbox_service, running_daemon, until

GOOD = b"fix the bug in this code {code} and explain. use python\n"
# A scan every second, so "the periodic rescan" is seen within a test.
CONFIG = "[inbox]\nstable_s = 0.2\nscan_interval_s = 1\n"


def _failed_reasons(inbox: Path) -> dict[str, str]:
    failed = inbox / "failed"
    return {
        p.name[: -len(".error.txt")]: p.read_text()
        for p in failed.iterdir()
        if p.name.endswith(".error.txt")
    }


def _settled(inbox: Path, names: list[str]) -> bool:
    done = {p.name for p in (inbox / "done").iterdir()}
    failed = set(_failed_reasons(inbox))
    return all(n in done or n in failed for n in names)


async def test_a_name_that_is_not_utf8_does_not_stop_the_watcher(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home, CONFIG) as daemon:
        bad = os.fsencode(paths.inbox) + b"/caf\xe9.txt"
        with open(bad, "wb") as fh:
            fh.write(GOOD)
        inbox = inbox_service(daemon)
        await until(
            lambda: any(n.endswith(".error.txt") for n in os.listdir(paths.inbox / "failed")),
            what="the badly named file in failed/",
        )
        assert not os.path.lexists(bad)
        [(name, reason)] = _failed_reasons(paths.inbox).items()
        assert name.isprintable() and name.encode("utf-8")  # a name every tool can show
        assert "not valid UTF-8" in reason and "rename" in reason
        assert (paths.inbox / "failed" / name).read_bytes() == GOOD  # nothing lost
        # later files are still taken, by the watch and by the rescan
        (paths.inbox / "later.txt").write_bytes(GOOD)
        await until(lambda: (paths.inbox / "done" / "later.txt").exists(), what="later.txt")
        status = inbox.status()
        assert status.failed == 1
        assert any("not valid UTF-8" in e for e in status.errors)


async def test_hostile_contents_each_end_in_failed_or_done(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    deep = "[" * 100_000 + "]" * 100_000
    files = {
        "deep.json": deep.encode(),
        "deep.jsonl": (deep + "\n").encode(),
        "surrogate.json": b'["\\ud800 write a poem about the sea"]',
        "surrogate.jsonl": b'"\\ud800 write a poem"\n{"prompt": "a poem about \\udfff"}\n',
        "bigid.json": b'[{"id": ' + b"9" * 5000 + b', "prompt": "write a poem about dogs"}]',
        "bigid.jsonl": b'{"id": ' + b"9" * 5000 + b', "prompt": "write a poem"}\n"a poem"\n',
        "a" * 251 + ".txt": GOOD,  # 255 bytes: the outbox name would be too long
        "b" * 240 + ".csv": b"prompt\n" + GOOD,
    }
    async with running_daemon(promptd_home, CONFIG) as daemon:
        for name, data in files.items():
            (paths.inbox / name).write_bytes(data)
        await until(lambda: _settled(paths.inbox, list(files)), 30, "every file settled")
        reasons = _failed_reasons(paths.inbox)
        for name, reason in reasons.items():
            assert "; " in reason and "Traceback" not in reason, (name, reason)
        assert "deep.json" in reasons and "nested" in reasons["deep.json"]
        assert "deep.jsonl" in reasons and "nested" in reasons["deep.jsonl"]
        assert not list(paths.inbox.glob("*.*"))  # none left behind
        inbox = inbox_service(daemon)
        await until(lambda: not inbox.runner.running, what="no batch running")
        started = {e.batch_id for e in events(daemon, BatchStarted)}
        ended = {e.batch_id for e in events(daemon, BatchCompleted)}
        assert started == ended  # no batch shows "running" forever
        assert not [b for b in inbox.status().batches if b.state == "running"]
        # the long names ran, under outbox names that fit
        assert "a" * 251 + ".txt" in os.listdir(paths.inbox / "done")
        assert all(len(n.encode()) <= 255 for n in os.listdir(paths.outbox))


async def test_a_huge_csv_cell_fails_its_row_not_the_batch(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    big = "write about " + "x" * 140_000
    data = f'id,prompt\nr1,"{big}"\nr2,write a poem about dogs\n'.encode()
    async with running_daemon(promptd_home, CONFIG):
        (paths.inbox / "big.csv").write_bytes(data)
        await until(lambda: (paths.inbox / "done" / "big.csv").exists(), 30, "big.csv done")
        import csv
        import io

        text = (paths.outbox / "big.optimized.csv").read_text()
        csv.field_size_limit(1 << 24)
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [r["status"] for r in rows] == ["error", "ok"]
        assert "characters" in rows[0]["error"]


async def test_results_never_overwrite_each_other(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    async with running_daemon(promptd_home, CONFIG):
        for name, data in (
            ("same.txt", GOOD),
            ("same.md", b"write a haiku about autumn\n"),
            ("same.csv", b"prompt\nwrite a limerick about cats\n"),
        ):
            (paths.inbox / name).write_bytes(data)
        await until(
            lambda: _settled(paths.inbox, ["same.txt", "same.md", "same.csv"]), 30, "all three"
        )
        # one report per file, each naming its own results: same.report.md, same-2..., same-3...
        reports = sorted(p.name for p in paths.outbox.glob("*.report.md"))
        assert reports == ["same-2.report.md", "same-3.report.md", "same.report.md"]
        results = {
            r: (paths.outbox / r).read_text().split("- Results: `")[1].split("`")[0]
            for r in reports
        }
        assert sorted(Path(o).suffix for o in results.values()) == [".csv", ".md", ".txt"]
        [txt] = [o for o in results.values() if o.endswith(".txt")]
        first = (paths.outbox / txt).read_text()
        (paths.inbox / "same.txt").write_bytes(b"write a sonnet about the moon\n")
        await until(lambda: len(list(paths.outbox.glob("same*.txt"))) == 2, 30, "second same.txt")
        assert (paths.outbox / txt).read_text() == first  # not overwritten
        [second] = [p for p in paths.outbox.glob("same*.txt") if p.name != txt]
        assert second.name == "same-4.optimized.txt"
        assert "sonnet" in second.read_text().lower()


async def test_special_files_get_a_word_and_links_are_not_followed(
    promptd_home: Path, tmp_path: Path
) -> None:
    paths = resolve(promptd_home)
    outside = tmp_path / "secret.txt"
    outside.write_bytes(GOOD)
    async with running_daemon(promptd_home, CONFIG) as daemon:
        (paths.inbox / "link.txt").symlink_to(outside)
        os.mkfifo(paths.inbox / "pipe.txt")
        (paths.inbox / "folder.txt").mkdir()
        inbox = inbox_service(daemon)
        await until(
            lambda: {"link.txt", "pipe.txt", "folder.txt"} <= set(_failed_reasons(paths.inbox)),
            what="an error file for each",
        )
        reasons = _failed_reasons(paths.inbox)
        assert "symlink" in reasons["link.txt"]
        assert "FIFO" in reasons["pipe.txt"] or "pipe" in reasons["pipe.txt"]
        assert "folder" in reasons["folder.txt"]
        assert outside.read_bytes() == GOOD  # the target was neither read into a batch nor moved
        assert not list(paths.outbox.iterdir())
        assert inbox.status().failed == 3


async def test_an_append_after_the_take_is_run_not_lost(promptd_home: Path) -> None:
    paths = resolve(promptd_home)
    rows = b"".join(f"r{i},write a product description for item {i}\n".encode() for i in range(150))
    async with running_daemon(promptd_home, CONFIG) as daemon:
        target = paths.inbox / "slow.csv"
        target.write_bytes(b"id,prompt\n" + rows)  # written in steps, pauses > stable_s
        await until(lambda: events(daemon, BatchStarted), what="the take of the first part")
        with target.open("ab") as fh:
            fh.write(b"last,write a slogan for a gym\n")
        await until(
            lambda: (paths.inbox / "done" / "slow.csv").exists(), 60, "the whole file in done/"
        )
        assert (paths.inbox / "done" / "slow.csv").read_bytes().endswith(b"gym\n")
        started = events(daemon, BatchStarted)
        assert [s.count for s in started] == [150, 151]  # run again, whole
        outputs = sorted(paths.outbox.glob("slow*.optimized.csv"))
        assert any("last," in p.read_text() for p in outputs)


async def test_status_shows_failed_files(promptd_home: Path) -> None:
    from click.testing import CliRunner

    from promptd.daemon.cli import cli

    paths = resolve(promptd_home)
    async with running_daemon(promptd_home, CONFIG) as daemon:
        (paths.inbox / "broken.json").write_bytes(b"[1, 2")
        await until(lambda: inbox_service(daemon).status().failed == 1, what="failed count")
    for text in (
        CliRunner().invoke(cli, ["status", "--json"]).output,
        CliRunner().invoke(cli, ["status"]).output,
    ):
        assert "broken.json: invalid JSON" in text
    doc = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert doc["inbox"]["failed"] == 1 and doc["inbox"]["errors"][0].startswith("broken.json")


class _FullDisk:
    """Fault injection at the write boundary: while ``full``, every event append fails as
    LMDB fails on a full disk (the store wraps ``mdb_txn_commit: No space left on device``)."""

    def __init__(self, append: Any) -> None:
        self._append = append
        self.full = False
        self.refused = 0

    async def __call__(self, event: Any) -> None:
        if self.full:
            self.refused += 1
            raise StoreError(
                "cannot write the event log at events: mdb_txn_commit: No space left on device"
            )
        await self._append(event)


async def test_a_full_disk_stalls_the_batch_visibly_and_it_resumes_by_itself(
    promptd_home: Path,
) -> None:
    paths = resolve(promptd_home)
    rows = b"".join(f"r{i},write a product description for item {i}\n".encode() for i in range(150))
    async with running_daemon(promptd_home, CONFIG) as daemon:
        inbox = inbox_service(daemon)
        disk = _FullDisk(inbox.bridge.append)
        inbox.bridge.append = disk  # type: ignore[method-assign]
        inbox.runner.retry_s = 0.1
        (paths.inbox / "many.csv").write_bytes(b"id,prompt\n" + rows)
        await until(lambda: inbox.runner.running and events(daemon, BatchItemCompleted))
        disk.full = True
        await until(
            lambda: any(b.state == "stalled" for b in inbox.status().batches), what="stalled"
        )
        [batch] = inbox.status().batches
        assert "disk is full" in batch.reason and batch.eta_s is None
        assert any("disk is full" in p for p in inbox.status().problems)
        refused = disk.refused
        await until(lambda: disk.refused >= refused + 3, what="retries while full")
        disk.full = False  # space comes back: no restart needed
        await until(lambda: (paths.inbox / "done" / "many.csv").exists(), 60, "the batch to finish")
        items = [e.index for e in events(daemon, BatchItemCompleted)]
        assert sorted(items) == list(range(150))  # each row once: nothing lost, none twice
        assert len(events(daemon, BatchCompleted)) == 1
        assert not inbox.status().problems


async def test_a_finished_batch_leaves_no_rows_in_memory(promptd_home: Path) -> None:
    """The daemon kept every row of every batch (a 100,000-row CSV: 97 -> 423 MB, and it
    stayed); a finished batch now leaves the book and is read back from the store when a
    duplicate needs it."""
    paths = resolve(promptd_home)
    rows = b"".join(f"r{i},write a product description for item {i}\n".encode() for i in range(40))
    async with running_daemon(promptd_home, CONFIG) as daemon:
        inbox = inbox_service(daemon)
        (paths.inbox / "rows.csv").write_bytes(b"id,prompt\n" + rows)
        await until(lambda: (paths.inbox / "done" / "rows.csv").exists(), 30, "rows.csv")
        await until(lambda: not inbox.book.by_id, what="the book emptied")
        (paths.inbox / "again.csv").write_bytes(b"id,prompt\n" + rows)
        await until(lambda: (paths.inbox / "done" / "again.csv").exists(), 30, "again.csv")
        first, again = events(daemon, BatchStarted)
        assert again.duplicate_of == first.batch_id  # still answered from the first batch
        assert not inbox.book.by_id
