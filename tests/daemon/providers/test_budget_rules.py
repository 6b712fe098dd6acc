"""Budget decisions as properties: never overshoot, one alert per period, refusals that say when.

The decisions are pure functions of a :class:`BudgetState`; these tests replay random runs of
calls (each reserved at its worst case, settled at a cost no higher) through them the way
the meter does, holding the state the budget projection would.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from promptd.daemon.events import BudgetAlert, BudgetRefused, BudgetReserved
from promptd.daemon.providers.budget_rules import (
    alert_text,
    alerts_after,
    alerts_on_reserve,
    decide_reserve,
    refusal_error,
    reset_at,
)
from promptd.daemon.providers.ports import BudgetState

calls = st.lists(
    st.tuples(st.integers(1, 5_000), st.floats(0.0, 1.0)),  # worst case, share really spent
    min_size=1,
    max_size=40,
)


def state(limit: int, pct: int, spent: int, reserved: int, alerted: bool) -> BudgetState:
    return BudgetState(
        daily_ticks=limit,
        monthly_ticks=None,
        alert_pct=pct,
        day="2026-11-27",
        month="2026-11",
        day_spent=spent,
        day_reserved=reserved,
        month_spent=spent,
        month_reserved=reserved,
        day_alerted=alerted,
    )


@settings(max_examples=300, deadline=None)
@given(
    limit=st.integers(1, 50_000), pct=st.integers(1, 100), run=calls, in_flight=st.integers(0, 3)
)
def test_a_run_of_calls_never_overshoots_and_alerts_once(
    limit: int, pct: int, run: list[tuple[int, float]], in_flight: int
) -> None:
    spent = reserved = 0
    alerts: list[BudgetAlert] = []
    open_holds: list[tuple[int, int]] = []  # (reserved, cost) of calls in flight
    for worst, share in run:
        now = state(limit, pct, spent, reserved, bool(alerts))
        decided = decide_reserve(now, reservation_id="r", ticks=worst)
        new_alerts = alerts_on_reserve(now, decided)
        alerts += [a for a in new_alerts if isinstance(a, BudgetAlert)]
        refused = [e for e in decided if isinstance(e, BudgetRefused)]
        if refused:
            assert worst > limit - spent - reserved  # refused only when it does not fit
            assert alerts  # a refusal is past any threshold: the alert has been sent
            assert "resets at" in str(refusal_error(refused[0]))
        else:
            assert [e.ticks for e in decided if isinstance(e, BudgetReserved)] == [worst]
            reserved += worst
            open_holds.append((worst, int(worst * share)))
        while len(open_holds) > in_flight:  # the oldest call answers and settles
            held, cost = open_holds.pop(0)
            now = state(limit, pct, spent, reserved, bool(alerts))
            alerts += [a for a in alerts_after(now, cost) if isinstance(a, BudgetAlert)]
            reserved -= held
            spent += cost
        assert spent + reserved <= limit  # never overshoot, holds included
    assert len(alerts) <= 1  # one per period and threshold
    if spent * 100 >= limit * pct:
        assert alerts  # the threshold was crossed: it was said
    for alert in alerts:
        assert alert.reset_at.startswith("2026-11-28T00:00")
        assert f"alert at {pct}%" in alert_text(alert)


def test_reset_times_of_a_day_and_a_month() -> None:
    assert reset_at("day", "2026-12-31").startswith("2027-01-01T00:00")
    assert reset_at("month", "2026-12").startswith("2027-01-01T00:00")
    assert reset_at("month", "2026-02").startswith("2026-03-01T00:00")
    assert reset_at("day", "garbage") == ""
