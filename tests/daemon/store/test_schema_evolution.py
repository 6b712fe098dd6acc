"""A log written by a newer promptd (unknown event types and fields) opens and projects."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from promptd.daemon.cli import main
from promptd.daemon.events import Envelope, OptimizationRequested, UnknownEvent
from promptd.daemon.projections import open_log


def _newer_log(path: Path) -> None:
    """Write, with raw envelopes, what a future schema could: a new field on a known event
    and a whole new event type."""
    known_with_extra = msgspec.msgpack.encode(
        {
            "type": "optimization.requested",
            "opt_id": "o1",
            "prompt": "Summarize the meeting notes",
            "prompt_hash": "h1",
            "priority": "high",  # a field this code does not know
        }
    )
    new_type = msgspec.msgpack.encode({"type": "prompt.shared", "opt_id": "o1", "with": "bob"})
    with open_log(path) as log:
        log.append_records(
            [
                Envelope(seq=1, ts_ns=10, schema=2, event=known_with_extra),
                Envelope(seq=2, ts_ns=11, schema=2, event=new_type),
                Envelope(seq=3, ts_ns=12, schema=2, event=new_type),
            ],
            source_store_id="future",
        )


def test_a_newer_log_opens_projects_what_it_knows_and_names_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "events"
    _newer_log(path)
    with open_log(path) as log:
        first, second, _ = log.read()
        assert isinstance(first.event, OptimizationRequested)
        assert first.event.prompt == "Summarize the meeting notes"
        assert isinstance(second.event, UnknownEvent) and second.event.type == "prompt.shared"
        with log.view() as view:
            entry = view.history.get("o1")
            assert entry is not None and entry.preview == "Summarize the meeting notes"
            assert view.stats.by_type() == {"optimization.requested": 1, "prompt.shared": 2}
        report = log.verify()
        assert report.ok
        assert report.unknown_types == {"prompt.shared": 2}
        # the unknown record is kept byte for byte (an export carries it on)
        (kept,) = log.read_envelopes(2, 3)
        assert msgspec.msgpack.decode(kept.event)["with"] == "bob"


def test_promptd_verify_names_unknown_event_types(
    promptd_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _newer_log(promptd_home / "events")
    main(["verify"])
    out = capsys.readouterr().out
    assert "unknown event type 'prompt.shared': 2 records" in out
    assert out.strip().endswith("OK")
