"""What ``log.verify()`` found: problems of the log itself, and tables that differ from a
rebuild. (The folds fill it in: :func:`promptd.daemon.projections.upkeep.verify`.)"""

from __future__ import annotations

import msgspec


class TableDiff(msgspec.Struct, frozen=True, kw_only=True):
    """How a stored table differs from a fresh rebuild."""

    projection: str
    table: str
    missing: int  # keys the rebuild has and the store lacks
    extra: int  # keys the store has and the rebuild lacks
    changed: int  # keys whose bytes differ
    examples: list[str]  # a few of them, for people

    def describe(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.missing, "missing"),
                (self.extra, "extra"),
                (self.changed, "changed"),
            )
            if n
        ]
        text = f"{self.projection}: table {self.table}: {', '.join(parts)}"
        return text + (f" (e.g. {'; '.join(self.examples)})" if self.examples else "")


class VerifyReport(msgspec.Struct, kw_only=True):
    """What ``verify`` found. ``ok`` when the log is sound and every projection matches."""

    events: int = 0
    last_seq: int = 0
    problems: list[str] = msgspec.field(default_factory=list)  # gaps, undecodable records
    differences: list[TableDiff] = msgspec.field(default_factory=list)
    unknown_types: dict[str, int] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.differences

    def lines(self) -> list[str]:
        """The report as lines for people."""
        out = [f"{self.events} events, last sequence {self.last_seq}"]
        out += [f"problem: {p}" for p in self.problems]
        out += [f"differs from a rebuild: {d.describe()}" for d in self.differences]
        for tag, n in sorted(self.unknown_types.items()):
            out.append(
                f"unknown event type {tag!r}: {n} records (kept, not projected; "
                "written by a newer promptd)"
            )
        out.append(
            "OK"
            if self.ok
            else "NOT OK: run `promptd rebuild` to rebuild projections"
            if not self.problems
            else "NOT OK: the log itself is damaged; restore a backup"
        )
        return out
