"""A small in-memory event log with the budget and response-cache views the providers read.

It folds exactly the events the providers emit, the way the store's projections do, so the
providers' decisions can be tested without LMDB. ``append_if`` runs ``decide`` and folds its
events without yielding to the event loop: one decision is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import msgspec

from promptd.daemon.events import (
    BudgetAlert,
    BudgetReleased,
    BudgetReserved,
    BudgetSet,
    Event,
    ProviderCallCompleted,
)


class Settings(msgspec.Struct, kw_only=True):
    daily_ticks: int | None = None
    monthly_ticks: int | None = None
    alert_pct: int = 80
    seq: int = 0


class Entry(msgspec.Struct, kw_only=True):
    ts_ns: int
    event: ProviderCallCompleted
    opt_id: str = ""


class _Hold(msgspec.Struct):
    reservation_id: str
    ticks: int = 0


class MemBudget:
    def __init__(self) -> None:
        self.spend: dict[str, int] = {}
        self.holds: dict[str, tuple[int, str, str]] = {}
        self._settings = Settings()
        self.alerts: set[tuple[str, str, int]] = set()

    def open_reservations(self) -> list[Any]:
        return [_Hold(rid, t) for rid, (t, _, _) in self.holds.items()]

    def reservation(self, reservation_id: str) -> _Hold | None:
        hold = self.holds.get(reservation_id)
        return None if hold is None else _Hold(reservation_id, hold[0])

    def spent(self, *, day: str | None = None, month: str | None = None) -> int:
        return self.spend.get(day or month or "total", 0)

    def reserved(self, *, day: str | None = None, month: str | None = None) -> int:
        return sum(t for t, d, m in self.holds.values() if d == day or m == month)

    def settings(self) -> Settings:
        return self._settings

    def alert_sent(self, period: str, period_key: str, pct: int) -> bool:
        return (period, period_key, pct) in self.alerts


class MemCache:
    def __init__(self, ttl_s: int = 3600) -> None:
        self.entries: dict[str, Entry] = {}
        self.ttl_ns = ttl_s * 1_000_000_000

    def get(self, cache: str, key: str, now_ns: int) -> Entry | None:
        entry = self.entries.get(key) if cache == "response" else None
        if entry is None or entry.ts_ns + self.ttl_ns <= now_ns:
            return None
        return entry


class MemLog:
    def __init__(self, now_ns: Callable[[], int] = time.time_ns, ttl_s: int = 3600) -> None:
        self.events: list[Event] = []
        self.budget = MemBudget()
        self.cache = MemCache(ttl_s)
        self._now_ns = now_ns

    def view(self) -> AbstractContextManager[MemLog]:
        return nullcontext(self)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def append(self, events: Sequence[Event]) -> list[int]:
        return self._fold(events)

    async def append_if(self, decide: Callable[[Any], Sequence[Event]]) -> list[int]:
        return self._fold(decide(self))

    def _fold(self, events: Sequence[Event]) -> list[int]:
        seqs = []
        for ev in events:
            self.events.append(ev)
            seqs.append(len(self.events))
            b = self.budget
            match ev:
                case BudgetReserved():
                    b.holds[ev.reservation_id] = (ev.ticks, ev.day, ev.month)
                case BudgetReleased():
                    b.holds.pop(ev.reservation_id, None)
                case ProviderCallCompleted():
                    b.holds.pop(ev.reservation_id, None)
                    for k in (ev.day, ev.month, "total"):
                        b.spend[k] = b.spend.get(k, 0) + ev.cost_ticks
                    if ev.ok and ev.request_key:
                        self.cache.entries[ev.request_key] = Entry(
                            ts_ns=self._now_ns(), event=ev, opt_id=ev.opt_id
                        )
                case BudgetSet():
                    b._settings = Settings(
                        daily_ticks=ev.daily_ticks,
                        monthly_ticks=ev.monthly_ticks,
                        alert_pct=ev.alert_pct,
                        seq=len(self.events),
                    )
                case BudgetAlert():
                    b.alerts.add((ev.period, ev.period_key, ev.threshold_pct))
                case _:
                    pass
        return seqs
