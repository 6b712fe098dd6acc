"""Budgets: pure decisions over :class:`~promptd.daemon.providers.ports.BudgetState`.

Before a call, :func:`decide_reserve` holds the call's worst-case cost (estimated input +
its ``max_tokens``) against the daily and monthly budgets, or refuses it; it runs inside the
store's write transaction (``append_if``), so concurrent calls see each other's holds.
When the call ends, its ``ProviderCallCompleted`` (which names the reservation) settles the
hold at the real cost. A hold that never became a call is released.

Alerts: one ``BudgetAlert`` per period and threshold, when spend plus holds cross
``alert_pct`` at a reservation (:func:`alerts_on_reserve`, a refusal counts as 100%) or the
spend alone does at a settlement (:func:`alerts_after`).

At daemon start :func:`recover_calls` books every call a crash cut off (a started call whose
reservation is still open) as spent at its reservation, and releases the runs' holds.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence

from ..config import BudgetConfig
from ..errors import BudgetError
from ..events import (
    BudgetAlert,
    BudgetRefused,
    BudgetReleased,
    BudgetReserved,
    BudgetSet,
    Event,
    ProviderCallCompleted,
    ProviderCallStarted,
)
from ..values import ticks_to_usd, usd_to_ticks
from .ports import BudgetState, EventLogPort


def config_limits(config: BudgetConfig) -> BudgetSet:
    """The budget config.toml sets (used until ``promptd budget`` records one)."""
    return BudgetSet(
        daily_ticks=None if config.daily_usd is None else usd_to_ticks(config.daily_usd),
        monthly_ticks=None if config.monthly_usd is None else usd_to_ticks(config.monthly_usd),
        alert_pct=config.alert_pct,
    )


def periods(now_s: float | None = None) -> tuple[str, str]:
    """The local day (YYYY-MM-DD) and month (YYYY-MM) spend is booked on."""
    t = time.localtime(time.time() if now_s is None else now_s)
    return time.strftime("%Y-%m-%d", t), time.strftime("%Y-%m", t)


def refusal(state: BudgetState, ticks: int, opt_id: str = "") -> BudgetRefused | None:
    """``BudgetRefused`` when ``ticks`` more do not fit the daily or monthly budget."""
    checks = (
        ("day", state.day, state.daily_ticks, state.day_spent + state.day_reserved),
        ("month", state.month, state.monthly_ticks, state.month_spent + state.month_reserved),
    )
    for period, key, limit, used in checks:
        if limit is None:
            continue
        remaining = max(0, limit - used)
        if ticks > remaining:
            reserved = state.day_reserved if period == "day" else state.month_reserved
            return BudgetRefused(
                period=period,
                period_key=key,
                needed_ticks=ticks,
                remaining_ticks=remaining,
                budget_ticks=limit,
                opt_id=opt_id,
                reserved_ticks=reserved,
            )
    return None


def decide_reserve(
    state: BudgetState, *, reservation_id: str, ticks: int, opt_id: str = ""
) -> list[Event]:
    """``[BudgetReserved]`` when ``ticks`` fit both budgets, else ``[BudgetRefused]``."""
    refused = refusal(state, ticks, opt_id)
    if refused is not None:
        return [refused]
    return [
        BudgetReserved(
            reservation_id=reservation_id,
            ticks=ticks,
            opt_id=opt_id,
            day=state.day,
            month=state.month,
        )
    ]


class RunHold:
    """The budget held for a whole optimization, so admitted runs can finish.

    Holding per call only would let 50 concurrent runs each start, hold the budget between
    them, and all run out midway (paying for half-runs that then degrade). A run instead
    holds its worst case (``total``) at its first call, or is refused before spending
    anything; each call then moves its own worst case out of the run's hold (re-reserving
    the run's id with what is left), and only needs fresh budget beyond that.
    """

    def __init__(self, total: int, opt_id: str = "") -> None:
        self.id = f"run-{uuid.uuid4().hex}"
        self.total = total
        self.opt_id = opt_id
        self.taken = False
        self.remaining = 0
        self.finished = False

    def apply(self, events: Sequence[Event]) -> None:
        """Update from the events a decision appended."""
        for ev in events:
            if isinstance(ev, BudgetReserved) and ev.reservation_id == self.id:
                self.taken, self.remaining = True, ev.ticks
            elif isinstance(ev, BudgetReleased) and ev.reservation_id == self.id:
                self.taken, self.remaining = True, 0


def decide_with_hold(
    state: BudgetState, hold: RunHold, held: int | None, *, reservation_id: str, ticks: int
) -> list[Event]:
    """Reserve one call of a run: from the run's hold, plus fresh budget beyond it.

    ``held`` is the run's hold as the store sees it in this transaction (``None``: none
    open), so concurrent calls of one run (Deconstructor and Diagnoser) draw on it in turn.
    """
    out: list[Event] = []
    if held is None and not hold.taken and not hold.finished:
        need = max(hold.total, ticks)
        refused = refusal(state, need, hold.opt_id)
        if refused is not None:
            return [refused]
        if need - ticks > 0:
            out.append(_hold_event(state, hold, need - ticks))
    else:
        have = held or 0
        extra = max(0, ticks - have)
        refused = refusal(state, extra, hold.opt_id) if extra > 0 else None
        if refused is not None:
            return [refused]
        if have - ticks > 0:
            out.append(_hold_event(state, hold, have - ticks))  # same id: replaces it
        elif have > 0:
            out.append(BudgetReleased(reservation_id=hold.id, reason="run hold used up"))
    out.append(
        BudgetReserved(
            reservation_id=reservation_id,
            ticks=ticks,
            opt_id=hold.opt_id,
            day=state.day,
            month=state.month,
        )
    )
    return out


def _hold_event(state: BudgetState, hold: RunHold, ticks: int) -> BudgetReserved:
    return BudgetReserved(
        reservation_id=hold.id, ticks=ticks, opt_id=hold.opt_id, day=state.day, month=state.month
    )


def reset_at(period: str, period_key: str) -> str:
    """When a period's budget starts afresh: the next local midnight or first of a month."""
    try:
        if period == "day":
            day = dt.date.fromisoformat(period_key) + dt.timedelta(days=1)
        else:
            year, month = (int(x) for x in period_key.split("-"))
            day = dt.date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        return ""
    return dt.datetime(day.year, day.month, day.day).astimezone().isoformat(timespec="minutes")


def _alert(state: BudgetState, period: str, used: int, reserved: int) -> BudgetAlert:
    key, limit = (
        (state.day, state.daily_ticks) if period == "day" else (state.month, state.monthly_ticks)
    )
    return BudgetAlert(
        period=period,
        period_key=key,
        spent_ticks=used - reserved,
        budget_ticks=limit or 0,
        threshold_pct=state.alert_pct,
        reserved_ticks=reserved,
        reset_at=reset_at(period, key),
    )


def _crossed(state: BudgetState, used_day: int, used_month: int) -> list[tuple[str, int]]:
    out = []
    for period, limit, used, alerted in (
        ("day", state.daily_ticks, used_day, state.day_alerted),
        ("month", state.monthly_ticks, used_month, state.month_alerted),
    ):
        if (
            limit is not None
            and limit > 0
            and not alerted
            and used * 100 >= limit * state.alert_pct
        ):
            out.append((period, used))
    return out


def alerts_after(state: BudgetState, cost_ticks: int) -> list[Event]:
    """One ``BudgetAlert`` per period whose spend crosses ``alert_pct`` with this cost."""
    return [
        _alert(state, period, used, 0)
        for period, used in _crossed(
            state, state.day_spent + cost_ticks, state.month_spent + cost_ticks
        )
    ]


def alerts_on_reserve(state: BudgetState, decided: Sequence[Event], held: int = 0) -> list[Event]:
    """The alerts a reservation decision brings: spend plus holds crossing ``alert_pct``.

    ``held``: the run's hold before this decision (a decision may replace it). A refusal
    means the budget is used up, so it alerts too, once, when nothing did before.
    """
    refused = next((ev for ev in decided if isinstance(ev, BudgetRefused)), None)
    if refused is not None:
        full = {refused.period: refused.budget_ticks}
        used_day = full.get("day", state.day_spent + state.day_reserved)
        used_month = full.get("month", state.month_spent + state.month_reserved)
    else:
        # a decision on a run's hold replaces (or releases) the ``held`` ticks it had
        extra = sum(ev.ticks for ev in decided if isinstance(ev, BudgetReserved)) - held
        used_day = state.day_spent + state.day_reserved + extra
        used_month = state.month_spent + state.month_reserved + extra
    return [
        _alert(
            state,
            period,
            used,
            max(0, used - (state.day_spent if period == "day" else state.month_spent)),
        )
        for period, used in _crossed(state, used_day, used_month)
    ]


def alert_text(event: BudgetAlert) -> str:
    """The one line a person sees (stderr, status, daemon.log) for an alert."""
    which = "daily" if event.period == "day" else "monthly"
    used = event.spent_ticks + event.reserved_ticks
    pct = 0 if event.budget_ticks <= 0 else used * 100 // event.budget_ticks
    held = f" + {usd(event.reserved_ticks)} held by calls in flight" if event.reserved_ticks else ""
    resets = f"; it resets at {event.reset_at}" if event.reset_at else ""
    return (
        f"budget alert: the {which} budget of {usd(event.budget_ticks)} for "
        f"{event.period_key} is {pct}% used ({usd(event.spent_ticks)} spent{held}; alert at "
        f"{event.threshold_pct}%){resets}"
    )


def remaining_fraction(state: BudgetState) -> float | None:
    """The smallest share of a budget left (0..1), or None when no budget is set."""
    shares: list[float] = []
    for limit, used in (
        (state.daily_ticks, state.day_spent + state.day_reserved),
        (state.monthly_ticks, state.month_spent + state.month_reserved),
    ):
        if limit is None:
            continue
        shares.append(0.0 if limit <= 0 else max(0.0, (limit - used) / limit))
    return min(shares) if shares else None


def usd(ticks: int) -> str:
    """Dollars for people: cents above $1, more digits below (so $0.0004 is not "$0.00")."""
    value = ticks_to_usd(ticks)
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"


def refusal_error(event: BudgetRefused) -> BudgetError:
    """The message a person sees when a call does not fit: which budget, and when it resets."""
    which = "daily" if event.period == "day" else "monthly"
    when = reset_at(event.period, event.period_key)
    resets = f" (it resets at {when})" if when else ""
    return BudgetError(
        f"the {which} budget of {usd(event.budget_ticks)} for {event.period_key}{resets} "
        f"has {usd(event.remaining_ticks)} left and this call may cost up to "
        f"{usd(event.needed_ticks)}; raise it with `promptd budget "
        f"--{which} USD` or use --engine offline"
    )


CUT_OFF = "the daemon stopped before the answer came (booked at its reservation)"


async def recover_calls(log: EventLogPort, provider: str = "") -> tuple[int, int]:
    """Settle what a killed daemon left open: call at daemon start, before any call.

    A started call whose reservation is still open may have been served and billed: it is
    booked as spent at its reservation (``ProviderCallCompleted(recovered=True)``). Every
    other open hold (a run's, a call that never started) is released, so the budget is whole.
    Returns ``(calls booked, holds released)``.
    """
    events: list[Event] = []
    booked = 0
    with log.view() as view:
        for res in view.budget.open_reservations():
            started = _started_of(view, res.reservation_id, getattr(res, "seq", 0))
            if started is None:
                events.append(
                    BudgetReleased(reservation_id=res.reservation_id, reason="daemon restarted")
                )
                continue
            booked += 1
            events.append(
                ProviderCallCompleted(
                    call_id=started.call_id,
                    provider=started.provider or provider,
                    model=started.model,
                    opt_id=started.opt_id,
                    agent=started.agent,
                    ok=False,
                    status=0,
                    error=CUT_OFF,
                    cost_ticks=res.ticks,
                    attempts=1,
                    reservation_id=res.reservation_id,
                    day=started.day,
                    month=started.month,
                    recovered=True,
                )
            )
    if events:
        await log.append(events)
    return booked, len(events) - booked


def _started_of(view: object, reservation_id: str, seq: int) -> ProviderCallStarted | None:
    """The ``ProviderCallStarted`` recorded with reservation ``reservation_id`` at ``seq``.

    It is appended in the reservation's own transaction, a few records after it.
    """
    record = getattr(view, "record", None)
    if record is None or seq <= 0:
        return None
    for at in range(seq, seq + 6):
        rec = record(at)
        event = getattr(rec, "event", None)
        if isinstance(event, ProviderCallStarted) and event.reservation_id == reservation_id:
            return event
    return None


async def release_stale_holds(log: EventLogPort) -> int:
    """Release every open hold without booking anything (see :func:`recover_calls`).

    Returns how many were released.
    """
    with log.view() as view:
        stale = [r.reservation_id for r in view.budget.open_reservations()]
    if stale:
        await log.append(
            [BudgetReleased(reservation_id=rid, reason="daemon restarted") for rid in stale]
        )
    return len(stale)
