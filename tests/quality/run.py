"""Run corpus cases through the offline engine, the way the daemon does, and judge them.

:func:`optimize` calls :func:`promptd.daemon.engine.run_pipeline` with
:class:`~promptd.daemon.engine.OfflineAgents` (the daemon's default engine, every agent and
guard included) and returns what a user of ``promptd optimize --json`` would see;
:func:`judge` adds the problems :func:`tests.quality.corpus.check_case` finds.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from promptd.daemon.engine import OfflineAgents, OptimizationRequest, run_pipeline
from promptd.daemon.events import Event

from .checks import Problem
from .corpus import Case, check_case


@dataclass(frozen=True)
class Outcome:
    case: Case
    optimized: str
    changed: bool
    score_before: int
    score_after: int
    changes: list[str]
    unchanged_reason: str
    seconds: float
    problems: list[Problem]

    @property
    def content_lost(self) -> bool:
        kinds = {"content", "line", "constraint", "must_keep", "block", "placeholders"}
        return any(p.check in kinds for p in self.problems)

    def of(self, *kinds: str) -> list[Problem]:
        return [p for p in self.problems if p.check in kinds]

    def diff(self) -> str:
        return "\n".join(
            difflib.unified_diff(
                self.case.text.splitlines(),
                self.optimized.splitlines(),
                "original",
                "optimized",
                lineterm="",
            )
        )

    def report(self) -> str:
        """What a failing test shows: the case, each problem, the changes and the diff."""
        lines = [f"{self.case.id} ({self.case.style}):"]
        lines += [f"  {p}" for p in self.problems]
        if self.case.notes:
            lines.append(f"  notes: {self.case.notes}")
        lines.append(f"  score {self.score_before} -> {self.score_after}; changes:")
        lines += [f"    - {c}" for c in self.changes] or ["    (none)"]
        lines.append(self.diff())
        return "\n".join(lines)


async def _sink(events: Sequence[Event]) -> None:
    return None


async def _optimize(case: Case, agents: OfflineAgents) -> Outcome:
    t0 = time.perf_counter()
    try:
        done = await run_pipeline(
            OptimizationRequest(text=case.text, source="batch"), agents, emit=_sink
        )
    except Exception as exc:  # one broken case must not hide the others' results
        message = f"the pipeline raised {type(exc).__name__}: {exc}"
        return Outcome(
            case=case,
            optimized=case.text,
            changed=False,
            score_before=0,
            score_after=0,
            changes=[],
            unchanged_reason=message,
            seconds=time.perf_counter() - t0,
            problems=[Problem("error", message)],
        )
    seconds = time.perf_counter() - t0
    ev = done.completed
    return Outcome(
        case=case,
        optimized=ev.optimized,
        changed=ev.changed,
        score_before=ev.score_before.total,
        score_after=ev.score_after.total,
        changes=[c.description for c in ev.changes],
        unchanged_reason=ev.unchanged_reason,
        seconds=seconds,
        problems=check_case(case, ev.optimized),
    )


def optimize_all(cases: Sequence[Case]) -> list[Outcome]:
    """Every case through the offline engine, one after the other, in one event loop."""

    async def go() -> list[Outcome]:
        agents = OfflineAgents()
        return [await _optimize(c, agents) for c in cases]

    return asyncio.run(go())
