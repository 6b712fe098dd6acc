"""Realistic records for the backup, export and import tests."""

from __future__ import annotations

import msgspec

from promptd.daemon.events import (
    AgentStepCompleted,
    BackupCreated,
    BudgetSet,
    Event,
    OptimizationCompleted,
    OptimizationRequested,
    ProviderCallCompleted,
    Record,
    UnknownEvent,
)
from promptd.daemon.values import Change, Finding, Scores, Span

T0 = 1_790_000_000_000_000_000  # 2026-09-21, ns


def optimization(n: int) -> list[Event]:
    """The events of one optimization, as the engine records them."""
    opt_id = f"opt{n:04d}"
    original = f'write some stuff about dogs, "quoted" — número {n}\nsecond line, comma'
    return [
        OptimizationRequested(
            opt_id=opt_id, prompt=original, prompt_hash=f"h{n}", engine="llm", model="grok-4.3"
        ),
        AgentStepCompleted(
            opt_id=opt_id, agent="diagnoser", duration_us=1200, output=b'{"findings":[]}\x00\xff'
        ),
        ProviderCallCompleted(
            call_id=f"c{n}",
            provider="xai",
            model="grok-4.3",
            opt_id=opt_id,
            prompt_tokens=900,
            cached_tokens=100,
            completion_tokens=300,
            reasoning_tokens=50,
            cost_ticks=12_345_678,
            day="2026-09-21",
            month="2026-09",
        ),
        OptimizationCompleted(
            opt_id=opt_id,
            prompt_hash=f"h{n}",
            original=original,
            optimized=f"## Task\nWrite three paragraphs about dogs ({n}).",
            prompt_type="creative",
            engine="llm",
            model="grok-4.3",
            score_before=Scores(
                clarity=40, specificity=30, structure=20, completeness=35, total=31
            ),
            score_after=Scores(clarity=80, specificity=75, structure=90, completeness=70, total=79),
            findings=[
                Finding(
                    code="PD003",
                    severity="warning",
                    message="vague term 'some'",
                    span=Span(start=6, end=10, line=1, col=7),
                    needs_input=True,
                ),
                Finding(code="PD002", severity="info", message="no output format"),
            ],
            changes=[Change(description="added a task section", findings=["PD002"])],
            placeholders=[],
            cost_ticks=12_345_678,
            duration_ms=830 + n,
        ),
    ]


def history(optimizations: int) -> list[Event]:
    events: list[Event] = [BudgetSet(daily_ticks=10**10, monthly_ticks=None)]
    for n in range(optimizations):
        events.extend(optimization(n))
    events.append(
        BackupCreated(
            backup_id="20260921T030000Z",
            file_name="events.mdb.gz",
            last_seq=3,
            event_count=3,
            size_bytes=100,
            sha256="0" * 64,
        )
    )
    return events


def records(events: list[Event], origin: str = "") -> list[Record]:
    """Records as the log would hand them out, one second apart."""
    return [
        Record(seq=i, ts_ns=T0 + i * 10**9, schema=1, event=ev, origin=origin)
        for i, ev in enumerate(events, start=1)
    ]


def unknown_record(seq: int) -> Record:
    raw = msgspec.msgpack.encode({"type": "future.thing", "answer": 42})
    return Record(
        seq=seq, ts_ns=T0 + seq * 10**9, schema=2, event=UnknownEvent(type="future.thing", raw=raw)
    )
