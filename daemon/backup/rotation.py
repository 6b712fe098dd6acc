"""Which backups to keep: a grandfather-father-son policy, as a pure function.

The policy counts *buckets*, the way restic's ``forget --keep-daily`` does: walking from the
newest backup to the oldest, the newest backup of each local day is kept until ``keep_daily``
days are covered, the newest of each ISO week until ``keep_weekly`` weeks are covered, and the
newest of each month until ``keep_monthly`` months are covered. A backup kept by one rule still
counts for the others. Counting buckets (rather than "days before now") means a machine that
was off for two months does not wake up and prune all of its daily backups.

Two backups are never pruned, whatever the counts say: the newest one, and the newest one
that verified. A backup dated after ``now`` (the clock moved back) is kept too: its place in
the buckets cannot be trusted.

``now`` is injected (and gives the local time zone that days, weeks and months are counted
in), so a test can run a year of daily backups in a second.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime

import msgspec

__all__ = ["BackupRef", "Decision", "Policy", "plan"]


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """How many daily, weekly and monthly buckets to keep (0 turns a rule off)."""

    keep_daily: int = 30
    keep_weekly: int = 8
    keep_monthly: int = 12


class BackupRef(msgspec.Struct, frozen=True, kw_only=True):
    """What rotation needs to know about one backup."""

    id: str
    created: datetime  # time zone aware
    verified: bool = False


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """One backup's fate: kept (with every rule that keeps it) or pruned (with why)."""

    id: str
    keep: bool
    reasons: tuple[str, ...]


def _day(at: datetime) -> Hashable:
    return at.date()


def _week(at: datetime) -> Hashable:
    iso = at.isocalendar()
    return (iso.year, iso.week)


def _month(at: datetime) -> Hashable:
    return (at.year, at.month)


_RULES: tuple[tuple[str, str, Callable[[datetime], Hashable]], ...] = (
    ("daily", "keep_daily", _day),
    ("weekly", "keep_weekly", _week),
    ("monthly", "keep_monthly", _month),
)


def plan(backups: Sequence[BackupRef], policy: Policy, now: datetime) -> list[Decision]:
    """Decide, for every backup, whether it stays; newest first.

    ``now`` must be time zone aware: its zone is the one days, weeks and months are counted
    in (the user's local zone in the daemon).
    """
    if now.tzinfo is None:
        raise ValueError("rotation needs a time zone aware 'now'")
    for count_name in ("keep_daily", "keep_weekly", "keep_monthly"):
        if getattr(policy, count_name) < 0:
            raise ValueError(f"backup.{count_name} must be 0 or more")
    ordered = sorted(backups, key=lambda b: (b.created, b.id), reverse=True)
    reasons: dict[str, list[str]] = {b.id: [] for b in ordered}
    tz = now.tzinfo

    placeable = []
    for ref in ordered:
        if ref.created.tzinfo is None:
            raise ValueError(f"backup {ref.id}: its time has no time zone")
        if ref.created > now:
            reasons[ref.id].append("dated after now")
        else:
            placeable.append(ref)

    for label, count_name, bucket_of in _RULES:
        wanted = int(getattr(policy, count_name))
        seen: set[Hashable] = set()
        for ref in placeable:
            if len(seen) >= wanted:
                break
            bucket = bucket_of(ref.created.astimezone(tz))
            if bucket not in seen:
                seen.add(bucket)
                reasons[ref.id].append(label)

    if ordered:
        reasons[ordered[0].id].append("newest")
    newest_verified = next((b for b in ordered if b.verified), None)
    if newest_verified is not None:
        reasons[newest_verified.id].append("newest verified")

    pruned_reason = (
        f"beyond the {policy.keep_daily} daily, {policy.keep_weekly} weekly and "
        f"{policy.keep_monthly} monthly backups kept"
    )
    return [
        Decision(id=b.id, keep=True, reasons=tuple(reasons[b.id]))
        if reasons[b.id]
        else Decision(id=b.id, keep=False, reasons=(pruned_reason,))
        for b in ordered
    ]
