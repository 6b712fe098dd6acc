"""Budget: spend per local day, month, model and source; open reservations; settings; alerts.

Money is in USD ticks (1 USD = 10**10). A provider call is booked on the ``day``/``month``
it carries (the local day when it was made), or the UTC day of its record when it has none.

Tables:

* ``budget_spend``         ``d/DAY``, ``m/MONTH``, ``model/MODEL``, ``source/SOURCE``
  -> ``[ticks, calls]`` (read as :class:`Spend`), and ``rd/DAY``, ``rm/MONTH`` -> the
  same for the reservations still open on that period; ``tok/KIND`` -> ``[tokens, calls]``
  for the tokens providers reported (prompt, cached, completion, reasoning)
* ``budget_reservations``  reservation id -> :class:`Reservation` (open ones only:
  ``BudgetReserved`` opens, a ``ProviderCallCompleted`` naming it or ``BudgetReleased`` closes)
* ``budget_sources``       ``opt_id`` -> source (cli, lsp, inbox...): books calls by source
* ``budget_settings``      ``settings`` -> :class:`BudgetSettings` (the last ``BudgetSet``)
* ``budget_alerts``        ``PERIOD/PERIOD_KEY/PCT`` -> :class:`AlertSent`
"""

from __future__ import annotations

import msgspec

from ..events import (
    BudgetAlert,
    BudgetReleased,
    BudgetReserved,
    BudgetSet,
    OptimizationRequested,
    ProviderCallCompleted,
    Record,
)
from .base import Projection, Reader, State, Table, on, utc_day


class Spend(msgspec.Struct, array_like=True):
    ticks: int = 0
    calls: int = 0


class Reservation(msgspec.Struct, array_like=True):
    reservation_id: str
    ticks: int
    day: str
    month: str
    opt_id: str = ""
    seq: int = 0
    ts_ns: int = 0


class BudgetSettings(msgspec.Struct, array_like=True):
    daily_ticks: int | None = None
    monthly_ticks: int | None = None
    alert_pct: int = 80
    seq: int = 0
    ts_ns: int = 0


class AlertSent(msgspec.Struct, array_like=True):
    seq: int
    ts_ns: int
    spent_ticks: int
    budget_ticks: int


SPEND = Table("budget_spend", list[int], counter=True)  # [ticks, calls], summed with State.add
RESERVATIONS = Table("budget_reservations", Reservation)
SOURCES = Table("budget_sources", str)
SETTINGS = Table("budget_settings", BudgetSettings)
ALERTS = Table("budget_alerts", AlertSent)

_SETTINGS_KEY = b"settings"


def _period(day: str, month: str, ts_ns: int) -> tuple[str, str]:
    if not day:
        day = utc_day(ts_ns)
    if not month:
        month = day[:7]
    return day, month


def alert_key(period: str, period_key: str, pct: int) -> bytes:
    return f"{period}/{period_key}/{pct}".encode()


class BudgetProjection(Projection):
    name = "budget"
    version = 4
    tables = (SPEND, RESERVATIONS, SOURCES, SETTINGS, ALERTS)

    @on(OptimizationRequested)
    def requested(self, state: State, rec: Record, ev: OptimizationRequested) -> None:
        state.put(SOURCES, ev.opt_id.encode(), ev.source)

    @on(ProviderCallCompleted)
    def call(self, state: State, rec: Record, ev: ProviderCallCompleted) -> None:
        if ev.reservation_id:
            self._close(state, ev.reservation_id)
        day, month = _period(ev.day, ev.month, rec.ts_ns)
        ticks = ev.cost_ticks
        state.add(SPEND, b"d/" + day.encode(), ticks, 1)
        state.add(SPEND, b"m/" + month.encode(), ticks, 1)
        state.add(SPEND, b"model/" + ev.model.encode(), ticks, 1)
        source = state.get(SOURCES, ev.opt_id.encode()) if ev.opt_id else None
        state.add(SPEND, b"source/" + (source or "other").encode(), ticks, 1)
        for kind, tokens in (
            (b"prompt", ev.prompt_tokens),
            (b"cached", ev.cached_tokens),
            (b"completion", ev.completion_tokens),
            (b"reasoning", ev.reasoning_tokens),
        ):
            state.add(SPEND, b"tok/" + kind, tokens, 1)

    @on(BudgetReserved)
    def reserved(self, state: State, rec: Record, ev: BudgetReserved) -> None:
        key = ev.reservation_id.encode()
        if state.get(RESERVATIONS, key) is not None:
            self._close(state, ev.reservation_id)
        day, month = _period(ev.day, ev.month, rec.ts_ns)
        state.put(
            RESERVATIONS,
            key,
            Reservation(
                reservation_id=ev.reservation_id,
                ticks=ev.ticks,
                day=day,
                month=month,
                opt_id=ev.opt_id,
                seq=rec.seq,
                ts_ns=rec.ts_ns,
            ),
        )
        state.add(SPEND, b"rd/" + day.encode(), ev.ticks, 1)
        state.add(SPEND, b"rm/" + month.encode(), ev.ticks, 1)

    @on(BudgetReleased)
    def released(self, state: State, rec: Record, ev: BudgetReleased) -> None:
        self._close(state, ev.reservation_id)

    @staticmethod
    def _close(state: State, reservation_id: str) -> None:
        key = reservation_id.encode()
        res = state.get(RESERVATIONS, key)
        if res is None:
            return
        state.delete(RESERVATIONS, key)
        state.add(SPEND, b"rd/" + res.day.encode(), -res.ticks, -1)
        state.add(SPEND, b"rm/" + res.month.encode(), -res.ticks, -1)

    @on(BudgetSet)
    def set(self, state: State, rec: Record, ev: BudgetSet) -> None:
        state.put(
            SETTINGS,
            _SETTINGS_KEY,
            BudgetSettings(
                daily_ticks=ev.daily_ticks,
                monthly_ticks=ev.monthly_ticks,
                alert_pct=ev.alert_pct,
                seq=rec.seq,
                ts_ns=rec.ts_ns,
            ),
        )

    @on(BudgetAlert)
    def alert(self, state: State, rec: Record, ev: BudgetAlert) -> None:
        state.put(
            ALERTS,
            alert_key(ev.period, ev.period_key, ev.threshold_pct),
            AlertSent(
                seq=rec.seq,
                ts_ns=rec.ts_ns,
                spent_ticks=ev.spent_ticks,
                budget_ticks=ev.budget_ticks,
            ),
        )


class BudgetView:
    """``view.budget``: what was spent and what is held, in ticks."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def _spend(self, key: bytes) -> Spend:
        value = self._r.get(SPEND, key)
        return Spend(ticks=value[0], calls=value[1]) if value else Spend()

    def spent(self, *, day: str | None = None, month: str | None = None) -> int:
        """Ticks booked on a day (``YYYY-MM-DD``) or a month (``YYYY-MM``); else in total."""
        if day is not None:
            return self._spend(b"d/" + day.encode()).ticks
        if month is not None:
            return self._spend(b"m/" + month.encode()).ticks
        return self.total().ticks

    def reserved(self, *, day: str | None = None, month: str | None = None) -> int:
        """Ticks held by open reservations on a day or a month; else all open ones."""
        if day is not None:
            return self._spend(b"rd/" + day.encode()).ticks
        if month is not None:
            return self._spend(b"rm/" + month.encode()).ticks
        return sum(res.ticks for res in self.open_reservations())

    def open_reservations(self) -> list[Reservation]:
        return [res for _, res in self._r.scan(RESERVATIONS)]

    def reservation(self, reservation_id: str) -> Reservation | None:
        return self._r.get(RESERVATIONS, reservation_id.encode())

    def settings(self) -> BudgetSettings:
        """The last ``BudgetSet`` (no limits when there was none)."""
        return self._r.get(SETTINGS, _SETTINGS_KEY) or BudgetSettings()

    def alert_sent(self, period: str, period_key: str, pct: int) -> bool:
        """Whether the alert for this period and threshold was already sent."""
        return self._r.get(ALERTS, alert_key(period, period_key, pct)) is not None

    def alert(self, period: str, period_key: str, pct: int) -> AlertSent | None:
        """The alert sent for this period and threshold (its ``seq`` names the event)."""
        return self._r.get(ALERTS, alert_key(period, period_key, pct))

    def _rows(self, prefix: bytes) -> list[tuple[str, Spend]]:
        return [
            (k[len(prefix) :].decode(), Spend(ticks=v[0], calls=v[1]))
            for k, v in self._r.scan(SPEND, prefix)
        ]

    def by_day(self) -> list[tuple[str, Spend]]:
        """Every day with spend, oldest first."""
        return self._rows(b"d/")

    def by_month(self) -> list[tuple[str, Spend]]:
        return self._rows(b"m/")

    def by_model(self) -> list[tuple[str, Spend]]:
        return self._rows(b"model/")

    def by_source(self) -> list[tuple[str, Spend]]:
        """Spend by where the optimization came from (cli, lsp, inbox...; ``other``)."""
        return self._rows(b"source/")

    def tokens(self) -> dict[str, int]:
        """Tokens the providers reported, by kind (prompt includes cached)."""
        return {kind: spend.ticks for kind, spend in self._rows(b"tok/")}

    def total(self) -> Spend:
        """Everything spent (the sum of the months)."""
        months = [spend for _, spend in self.by_month()]
        return Spend(ticks=sum(m.ticks for m in months), calls=sum(m.calls for m in months))
