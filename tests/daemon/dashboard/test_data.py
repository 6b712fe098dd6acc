"""Properties of what the dashboard's sections are built from (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from promptd.daemon.dashboard.data import audit, diff_lines
from promptd.daemon.events import BudgetSet, CacheMiss, DaemonStarted, Event
from promptd.daemon.projections import memory_log

lines = st.lists(st.sampled_from(["a", "b", "c", "## Task", "", "{x}", "ü"]), max_size=12)


@given(before=lines, after=lines)
def test_the_diff_gives_back_both_texts(before: list[str], after: list[str]) -> None:
    ops = diff_lines("\n".join(before), "\n".join(after))
    old = [d["text"] for d in ops if d["op"] != "insert"]
    new = [d["text"] for d in ops if d["op"] != "delete"]
    assert old == "\n".join(before).splitlines()
    assert new == "\n".join(after).splitlines()


EVENTS: list[Event] = [
    DaemonStarted(pid=1, version="x"),
    BudgetSet(daily_ticks=1),
    CacheMiss(cache="lint", key="k"),
]


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(st.integers(0, 2), min_size=0, max_size=700),
    limit=st.integers(1, 600),
    wanted=st.sampled_from(["", "daemon.started", "budget.set", "cache.miss", "nope"]),
)
def test_audit_pages_show_each_event_of_the_kind_once_newest_first(
    kinds: list[int], limit: int, wanted: str
) -> None:
    log = memory_log()
    if kinds:
        log.append([EVENTS[k] for k in kinds])
    seen: list[int] = []
    before = 0
    for _ in range(len(kinds) + 2):
        page = audit(log.read, log.last_seq(), kind=wanted, before=before, limit=limit)
        assert len(page["items"]) <= min(limit, 500)
        seen += [row["seq"] for row in page["items"]]
        before = page["next"]
        if not before:
            break
    expected = [
        seq for seq, k in reversed(list(enumerate(kinds, 1))) if wanted in ("", _tag(EVENTS[k]))
    ]
    assert seen == expected


def _tag(ev: Event) -> str:
    return str(type(ev).__struct_config__.tag)
