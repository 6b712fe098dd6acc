"""``NAME.report.md``: a short human summary of one batch.

Counts, average score gain, total cost, the worst findings (most severe and most frequent
first), the weakest results and the rows that failed, each list capped so the report stays
short for a 10,000-row file. :class:`Tally` takes the rows one at a time as the batch writes
them and keeps only the sums and the capped lists, so a 100,000-row batch holds no rows.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from ..events import BatchItemCompleted, BatchStarted
from ..values import Finding, ticks_to_usd
from .formats import Item

LIST_LIMIT: Final = 10
_RANK: Final = {"error": 0, "warning": 1, "info": 2, "hint": 3}


def _label(item: Item) -> str:
    return f"row {item.index + 1}" + (f" (id {item.item_id})" if item.item_id else "")


def _one_line(text: str, width: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _count(findings: int) -> str:
    return f"{findings} finding" + ("" if findings == 1 else "s")


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


@dataclass(slots=True)
class _Code:
    severity: str
    message: str
    rows: int = 0


@dataclass(slots=True)
class Tally:
    """What the report says of a batch, added up row by row (:meth:`add` in row order, and
    :meth:`add_findings` once per row whose findings are known)."""

    counts: dict[str, int] = field(default_factory=dict)
    cost_ticks: int = 0
    ran: int = 0
    sum_before: int = 0
    sum_after: int = 0
    degraded: int = 0
    not_run: int = 0
    errors: list[str] = field(default_factory=list)  # the first LIST_LIMIT lines
    weakest: list[tuple[int, int, int, str]] = field(default_factory=list)  # a max-heap
    codes: dict[str, _Code] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def add(self, item: Item, result: BatchItemCompleted | None) -> None:
        if result is None:
            self.not_run += 1
            return
        self.counts[result.status] = self.count(result.status) + 1
        self.cost_ticks += result.cost_ticks
        if result.status == "error" and len(self.errors) < LIST_LIMIT:
            self.errors.append(_error_line(item, result.error))
        if result.status not in ("ok", "cached"):
            return
        self.ran += 1
        self.sum_before += result.score_before
        self.sum_after += result.score_after
        self.degraded += result.degraded
        # the LIST_LIMIT lowest (score_after, -findings), the earlier row first on a tie
        key = (-result.score_after, result.findings, -item.index)
        line = (
            f"- {_label(item)}: {result.score_before} → {result.score_after}, "
            f"{_count(result.findings)}: {_one_line(item.prompt, 60)}"
        )
        entry = (*key, line)
        if len(self.weakest) < LIST_LIMIT:
            heapq.heappush(self.weakest, entry)
        elif entry > self.weakest[0]:
            heapq.heapreplace(self.weakest, entry)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """One row's findings: each code counts the row once."""
        seen: set[str] = set()
        for finding in findings:
            code = self.codes.get(finding.code)
            if code is None:
                code = self.codes[finding.code] = _Code(finding.severity, finding.message)
            elif _RANK.get(finding.severity, 9) < _RANK.get(code.severity, 9):
                code.severity = finding.severity
            code.message = code.message or finding.message
            if finding.code not in seen:
                seen.add(finding.code)
                code.rows += 1


def _error_line(item: Item, error: str) -> str:
    error = _one_line(error, 160)
    if error.startswith(("row ", "item ", "line ")):  # the parser already said where
        ident = f" (id {item.item_id})" if item.item_id else ""
        return f"- {error}{ident}"
    return f"- {_label(item)}: {error}"


def render_report(
    started: BatchStarted,
    tally: Tally,
    output_name: str,
    budget_reason: str = "",
    finished_at: datetime | None = None,
) -> str:
    counts = {s: tally.count(s) for s in ("ok", "cached")}
    failed, budget = tally.count("error"), tally.count("budget")
    when = (finished_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")

    lines = [f"# {started.file_name}: promptd batch report", ""]
    lines.append(
        f"- Batch `{started.batch_id}`, finished {when}, engine {started.engine or 'default'}"
    )
    parts = [f"{counts['ok']} optimized"]
    if counts["cached"]:
        parts.append(f"{counts['cached']} answered from earlier results")
    if failed:
        parts.append(f"{failed} failed")
    if budget:
        parts.append(f"{budget} not run: budget exhausted")
    if tally.not_run:
        parts.append(f"{tally.not_run} not run")
    lines.append(f"- Prompts: {started.count} ({', '.join(parts)})")
    if tally.ran:
        before = tally.sum_before / tally.ran
        after = tally.sum_after / tally.ran
        lines.append(f"- Average score: {before:.0f} → {after:.0f} ({after - before:+.1f})")
    if tally.degraded:
        lines.append(f"- Degraded (answered by the offline engine or a cache): {tally.degraded}")
    lines.append(f"- Total cost: ${ticks_to_usd(tally.cost_ticks):.4f}")
    lines.append(f"- Results: `{output_name}`")
    if started.duplicate_of:
        lines.append(
            f"- Same content as batch `{started.duplicate_of}`: its finished rows were reused "
            "at no cost"
        )

    if budget:
        reason = budget_reason or "the daily or monthly budget ran out"
        lines += ["", "## Stopped for budget", "", f"{reason}", ""]
        lines.append(
            "Raise the budget (`promptd budget --daily USD`) or wait for the next period, then "
            "drop the file again: finished rows are answered from this batch without cost."
        )

    ranked = sorted(
        tally.codes.items(), key=lambda kv: (_RANK.get(kv[1].severity, 9), -kv[1].rows, kv[0])
    )[:LIST_LIMIT]
    if ranked:
        lines += ["", "## Worst findings", "", "| code | severity | rows | message |"]
        lines.append("|---|---|---|---|")
        for name, code in ranked:
            lines.append(f"| {name} | {code.severity} | {code.rows} | {_cell(code.message)} |")

    if tally.weakest and tally.ran > 1:
        lines += ["", "## Lowest scores after optimization", ""]
        lines += [entry[-1] for entry in sorted(tally.weakest, reverse=True)]

    if failed:
        lines += ["", "## Failed rows", ""]
        lines += tally.errors
        if failed > LIST_LIMIT:
            lines.append(f"- … and {failed - LIST_LIMIT} more (see the error column)")
    return "\n".join(lines) + "\n"
