"""What the providers need from the event log, and nothing more.

The store (``promptd.daemon.store``) provides it: ``append`` for facts, ``append_if(decide)`` where
``decide`` runs inside the write transaction with a :class:`StoreView` of the projections
(budget spend and open reservations, the caches) and returns the events to append in that
same transaction. That is what makes "check the budget, then reserve" atomic: 50 concurrent
calls cannot all see the same remaining budget.

The adapters at the bottom are the one place that knows how the store's projections spell
things; the rest of this package reads :class:`BudgetState` and cached text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import msgspec

from ..events import BudgetSet, Event


class CacheView(Protocol):
    def get(self, cache: str, key: str, now_ns: int) -> Any: ...


class BudgetSettingsLike(Protocol):
    @property
    def daily_ticks(self) -> int | None: ...

    @property
    def monthly_ticks(self) -> int | None: ...

    @property
    def alert_pct(self) -> int: ...

    @property
    def seq(self) -> int: ...


class ReservationLike(Protocol):
    @property
    def reservation_id(self) -> str: ...

    @property
    def ticks(self) -> int: ...


class BudgetView(Protocol):
    def open_reservations(self) -> Sequence[ReservationLike]: ...

    def reservation(self, reservation_id: str) -> ReservationLike | None: ...

    def spent(self, *, day: str | None = None, month: str | None = None) -> int: ...

    def reserved(self, *, day: str | None = None, month: str | None = None) -> int: ...

    def settings(self) -> BudgetSettingsLike: ...

    def alert_sent(self, period: str, period_key: str, pct: int) -> bool: ...


class StoreView(Protocol):
    @property
    def budget(self) -> BudgetView: ...

    @property
    def cache(self) -> CacheView: ...


Decide = Callable[[StoreView], Sequence[Event]]


class EventLogPort(Protocol):
    """``promptd.daemon.store.AsyncEventLog`` satisfies this."""

    async def append(self, events: Sequence[Event]) -> list[int]: ...

    async def append_if(self, decide: Decide) -> list[int]:
        """``decide`` must be pure: the store may run it again (when its map grows)."""
        ...

    def view(self) -> AbstractContextManager[StoreView]:
        """One consistent read of the projections."""
        ...


class BudgetState(msgspec.Struct, frozen=True, kw_only=True):
    """The budget as one decision sees it: limits, and spend + holds of the current periods."""

    daily_ticks: int | None
    monthly_ticks: int | None
    alert_pct: int
    day: str
    month: str
    day_spent: int = 0
    day_reserved: int = 0
    month_spent: int = 0
    month_reserved: int = 0
    day_alerted: bool = False
    month_alerted: bool = False


def budget_state(view: StoreView, defaults: BudgetSet, day: str, month: str) -> BudgetState:
    """Read the budget projection. Limits set with ``promptd budget`` win over config."""
    budget = view.budget
    stored = budget.settings()
    daily, monthly, pct = defaults.daily_ticks, defaults.monthly_ticks, defaults.alert_pct
    if stored.seq > 0:  # a BudgetSet was recorded: it wins over config.toml
        daily, monthly, pct = stored.daily_ticks, stored.monthly_ticks, stored.alert_pct
    return BudgetState(
        daily_ticks=daily,
        monthly_ticks=monthly,
        alert_pct=pct,
        day=day,
        month=month,
        day_spent=budget.spent(day=day),
        day_reserved=budget.reserved(day=day),
        month_spent=budget.spent(month=month),
        month_reserved=budget.reserved(month=month),
        day_alerted=budget.alert_sent("day", day, pct),
        month_alerted=budget.alert_sent("month", month, pct),
    )


def cached_text(value: Any) -> str | None:
    """The response text of a response-cache entry, whatever form the projection keeps."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    for attr in ("event", "response", "value", "content"):
        inner = getattr(value, attr, None)
        if inner is not None:
            return cached_text(inner)
    return None


def cached_cost(value: Any) -> int:
    """What the cached answer cost when it was bought (0 when the entry does not say)."""
    ticks = getattr(getattr(value, "event", value), "cost_ticks", 0)
    return ticks if isinstance(ticks, int) else 0
