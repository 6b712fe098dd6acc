"""Export -> import: identical history in another home, and never a duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from promptd.daemon.backup.export import export
from promptd.daemon.backup.merge import merge_into
from promptd.daemon.errors import BackupError
from promptd.daemon.events import Envelope, EventsImported, UnknownEvent
from promptd.daemon.paths import Paths
from promptd.daemon.projections import open_log
from promptd.daemon.store import EventLog

from .samples import history


def exported(log: EventLog, path: Path, fmt: str) -> Path:
    export(log.read(), store_id=log.store_id(), fmt=fmt, output=path)
    return path


def what_a_user_sees(log: EventLog) -> list[Any]:
    """History as `promptd history` and `show` present it (no local sequence numbers)."""
    out: list[Any] = []
    with log.view() as view:
        for entry in view.history.recent(1000):
            fields = msgspec.structs.asdict(entry)
            for local in ("requested_seq", "done_seq", "steps", "calls"):
                fields.pop(local)
            out.append(fields)
            out.append(view.history.completed(entry.opt_id))
            out.append([(r.ts_ns, r.event) for r in view.history.steps(entry.opt_id)])
            out.append([(r.ts_ns, r.event) for r in view.history.calls(entry.opt_id)])
        out.append(view.budget.spent(day="2026-09-21"))
        out.append(view.budget.spent(month="2026-09"))
    return out


@pytest.fixture
def source(tmp_path: Path) -> EventLog:
    log = open_log(tmp_path / "other-home" / "events")
    log.append(history(4))
    return log


@pytest.mark.parametrize("fmt", ["jsonl", "json", "zip"])
def test_export_then_import_into_an_empty_home_gives_identical_history(
    paths: Paths, source: EventLog, tmp_path: Path, fmt: str
) -> None:
    file = exported(source, tmp_path / f"history.{fmt}", fmt)
    with open_log(paths.events) as target:
        result = merge_into(target, file)
        assert (result.events, result.imported) == (18, 16)
        assert result.local_only == 2  # the other home's budget setting and backup
        assert what_a_user_sees(target) == what_a_user_sees(source)
        assert target.verify().ok
        last = next(iter(target.read(target.last_seq()))).event
        assert last == EventsImported(file_name=file.name, imported=16, skipped=2)
        again = tmp_path / f"again.{fmt}"
        exported(target, again, "csv")
        exported(source, tmp_path / "source.csv", "csv")
        assert again.read_bytes() == (tmp_path / "source.csv").read_bytes()
    source.close()


def test_importing_twice_adds_nothing(paths: Paths, source: EventLog, tmp_path: Path) -> None:
    file = exported(source, tmp_path / "h.jsonl", "jsonl")
    with open_log(paths.events) as target:
        merge_into(target, file)
        before = list(target.read_envelopes())
        second = merge_into(target, file)
        assert (second.imported, second.skipped) == (0, 18)
        assert list(target.read_envelopes()) == before  # not even an EventsImported
    source.close()


def test_importing_a_homes_own_export_adds_nothing(source: EventLog, tmp_path: Path) -> None:
    file = exported(source, tmp_path / "own.zip", "zip")
    before = source.last_seq()
    assert merge_into(source, file).imported == 0
    assert source.last_seq() == before
    source.close()


def test_events_keep_their_first_origin_across_homes(
    paths: Paths, source: EventLog, tmp_path: Path
) -> None:
    with open_log(tmp_path / "middle" / "events") as middle:
        merge_into(middle, exported(source, tmp_path / "a.jsonl", "jsonl"))
        via_middle = exported(middle, tmp_path / "b.jsonl", "jsonl")
    with open_log(paths.events) as target:
        assert merge_into(target, via_middle).imported == 17  # 16 + the middle's import note
        assert merge_into(target, tmp_path / "a.jsonl").imported == 0
    source.close()


def test_an_event_type_from_a_newer_promptd_survives_the_trip(
    paths: Paths, source: EventLog, tmp_path: Path
) -> None:
    raw = msgspec.msgpack.encode({"type": "from.the.future", "x": [1, 2]})
    source.append_records([Envelope(seq=1, ts_ns=5, schema=9, event=raw, origin="elsewhere/1")])
    file = exported(source, tmp_path / "h.jsonl", "jsonl")
    with open_log(paths.events) as target:
        merge_into(target, file)
        [unknown] = [r for r in target.read() if isinstance(r.event, UnknownEvent)]
        assert (unknown.event.raw, unknown.ts_ns, unknown.schema) == (raw, 5, 9)  # type: ignore[union-attr]
        assert unknown.origin == "elsewhere/1"
    source.close()


def test_a_file_with_a_bad_line_imports_nothing(
    paths: Paths, source: EventLog, tmp_path: Path
) -> None:
    file = exported(source, tmp_path / "h.jsonl", "jsonl")
    lines = file.read_text().splitlines()
    lines[10] = lines[10][:-5]
    file.write_text("\n".join(lines) + "\n")
    with open_log(paths.events) as target:
        with pytest.raises(BackupError, match=r"h\.jsonl, line 11: not a JSON object"):
            merge_into(target, file)
        assert target.last_seq() == 0
    source.close()
