"""Rotation keeps exactly what the grandfather-father-son policy says."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.backup.rotation import BackupRef, Policy, plan

BERLIN = ZoneInfo("Europe/Berlin")  # crosses two DST changes in a year


def _at(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=BERLIN)


def test_a_simulated_year_of_daily_backups_keeps_exactly_the_policy() -> None:
    policy = Policy(keep_daily=30, keep_weekly=8, keep_monthly=12)
    kept: dict[str, BackupRef] = {}
    pruned_total = 0
    day = date(2026, 1, 1)
    while day.year == 2026:
        now = _at(day)  # the injected clock: the daily run at 03:00
        ref = BackupRef(id=day.isoformat(), created=now, verified=True)
        kept[ref.id] = ref
        for decision in plan(list(kept.values()), policy, now):
            if not decision.keep:
                del kept[decision.id]
                pruned_total += 1
        day += timedelta(days=1)

    daily = {date(2026, 12, d) for d in range(2, 32)}
    weekly = {date(2026, 12, d) for d in (31, 27, 20, 13, 6)} | {
        date(2026, 11, d) for d in (29, 22, 15)
    }
    monthly = {
        date(2026, m, d)
        for m, d in (
            (1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30),
            (7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31),
        )
    }  # fmt: skip
    expected = {d.isoformat() for d in daily | weekly | monthly}
    assert set(kept) == expected
    assert pruned_total == 365 - len(expected)


def test_reasons_name_every_rule_that_keeps_a_backup() -> None:
    now = _at(date(2026, 3, 31))
    refs = [
        BackupRef(id=f"b{i}", created=now - timedelta(days=i), verified=True) for i in range(60)
    ]
    decisions = {
        d.id: d for d in plan(refs, Policy(keep_daily=2, keep_weekly=1, keep_monthly=2), now)
    }
    assert decisions["b0"].reasons == ("daily", "weekly", "monthly", "newest", "newest verified")
    assert decisions["b1"].reasons == ("daily",)
    assert decisions["b31"].reasons == ("monthly",)  # 2026-02-28, the newest of February
    assert not decisions["b2"].keep
    assert "beyond the 2 daily, 1 weekly and 2 monthly" in decisions["b2"].reasons[0]


def test_the_newest_verified_backup_is_never_pruned() -> None:
    now = _at(date(2026, 6, 10))
    refs = [
        BackupRef(id="old-verified", created=now - timedelta(days=5), verified=True),
        *(
            BackupRef(id=f"unverified-{i}", created=now - timedelta(days=i), verified=False)
            for i in range(4)
        ),
    ]
    decisions = {
        d.id: d for d in plan(refs, Policy(keep_daily=1, keep_weekly=0, keep_monthly=0), now)
    }
    assert decisions["old-verified"].keep
    assert decisions["old-verified"].reasons == ("newest verified",)
    assert decisions["unverified-0"].keep
    assert [d for d, v in decisions.items() if not v.keep] == [
        "unverified-1", "unverified-2", "unverified-3",
    ]  # fmt: skip


def test_two_backups_on_one_day_keep_the_newer() -> None:
    day = date(2026, 5, 5)
    refs = [
        BackupRef(id="morning", created=_at(day, 3), verified=True),
        BackupRef(id="noon", created=_at(day, 12), verified=True),
    ]
    decisions = {d.id: d.keep for d in plan(refs, Policy(), _at(day, 13))}
    assert decisions == {"noon": True, "morning": False}


def test_a_backup_dated_after_now_is_kept_and_does_not_take_a_bucket() -> None:
    now = _at(date(2026, 5, 5))
    refs = [
        BackupRef(id="future", created=now + timedelta(days=3), verified=True),
        BackupRef(id="today", created=now, verified=True),
        BackupRef(id="yesterday", created=now - timedelta(days=1), verified=True),
    ]
    decisions = {
        d.id: d for d in plan(refs, Policy(keep_daily=1, keep_weekly=0, keep_monthly=0), now)
    }
    assert decisions["future"].keep and "dated after now" in decisions["future"].reasons
    assert decisions["today"].reasons == ("daily",)
    assert not decisions["yesterday"].keep


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        plan([], Policy(), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="keep_daily"):
        plan([], Policy(keep_daily=-1), _at(date(2026, 1, 1)))


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=400 * 24), min_size=1, max_size=60),
    verified=st.lists(st.booleans(), min_size=60, max_size=60),
    daily=st.integers(0, 10),
    weekly=st.integers(0, 5),
    monthly=st.integers(0, 5),
)
def test_policy_never_prunes_the_newest_and_keeps_at_most_its_counts(
    offsets: list[int], verified: list[bool], daily: int, weekly: int, monthly: int
) -> None:
    now = _at(date(2027, 3, 1))
    refs = [
        BackupRef(id=f"b{i}", created=now - timedelta(hours=h), verified=verified[i])
        for i, h in enumerate(offsets)
    ]
    decisions = plan(refs, Policy(keep_daily=daily, keep_weekly=weekly, keep_monthly=monthly), now)
    kept = {d.id for d in decisions if d.keep}
    newest = max(refs, key=lambda r: (r.created, r.id))
    assert newest.id in kept
    verified_refs = [r for r in refs if r.verified]
    if verified_refs:
        assert max(verified_refs, key=lambda r: (r.created, r.id)).id in kept
    assert len(kept) <= daily + weekly + monthly + 2
    assert {d.id for d in decisions} == {r.id for r in refs}
