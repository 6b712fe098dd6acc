"""Budgets: pure decisions over :class:`~promptd.daemon.providers.ports.BudgetState`.

Before a call, :func:`decide_reserve` holds the call's worst-case cost (estimated input +
max output tokens) against the daily and monthly budgets, or refuses it; it runs inside the
store's write transaction (``append_if``), so concurrent calls see each other's holds.
When the call ends, its ``ProviderCallCompleted`` (which names the reservation) settles the
hold at the real cost, and :func:`alerts_after` adds one ``BudgetAlert`` per period when the
spend crosses ``alert_pct``. A hold that never became a call is released.
"""

from __future__ import annotations

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
            return BudgetRefused(
                period=period,
                period_key=key,
                needed_ticks=ticks,
                remaining_ticks=remaining,
                budget_ticks=limit,
                opt_id=opt_id,
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


def alerts_after(state: BudgetState, cost_ticks: int) -> list[Event]:
    """One ``BudgetAlert`` per period whose spend crosses ``alert_pct`` with this cost."""
    out: list[Event] = []
    checks = (
        ("day", state.day, state.daily_ticks, state.day_spent, state.day_alerted),
        ("month", state.month, state.monthly_ticks, state.month_spent, state.month_alerted),
    )
    for period, key, limit, spent, alerted in checks:
        if limit is None or limit <= 0 or alerted:
            continue
        after = spent + cost_ticks
        if after * 100 >= limit * state.alert_pct:
            out.append(
                BudgetAlert(
                    period=period,
                    period_key=key,
                    spent_ticks=after,
                    budget_ticks=limit,
                    threshold_pct=state.alert_pct,
                )
            )
    return out


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
    """The message a person sees when a call does not fit."""
    which = "daily" if event.period == "day" else "monthly"
    return BudgetError(
        f"the {which} budget of {usd(event.budget_ticks)} for {event.period_key} "
        f"has {usd(event.remaining_ticks)} left and this call may cost up to "
        f"{usd(event.needed_ticks)}; raise it with `promptd budget "
        f"--{which} USD` or use --engine offline"
    )


async def release_stale_holds(log: EventLogPort) -> int:
    """Release every open hold: call at daemon start, when no call can be in flight.

    A daemon killed mid-call leaves its reservation open, and an open reservation keeps
    counting against the budget. Returns how many were released.
    """
    with log.view() as view:
        stale = [r.reservation_id for r in view.budget.open_reservations()]
    if stale:
        await log.append(
            [BudgetReleased(reservation_id=rid, reason="daemon restarted") for rid in stale]
        )
    return len(stale)
