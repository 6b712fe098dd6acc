"""``NAME.report.md``: a short human summary of one batch.

Counts, average score gain, total cost, the worst findings (most severe and most frequent
first), the weakest results and the rows that failed, each list capped so the report stays
short for a 10,000-row file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from ..events import BatchItemCompleted, BatchStarted
from ..values import Finding, ticks_to_usd
from .formats import Item

LIST_LIMIT: Final = 10
_RANK: Final = {"error": 0, "warning": 1, "info": 2, "hint": 3}


@dataclass(frozen=True, slots=True)
class ReportInput:
    started: BatchStarted
    items: Sequence[Item]
    results: Mapping[int, BatchItemCompleted]
    findings: Mapping[int, Sequence[Finding]]  # by item index, where known
    output_name: str
    budget_reason: str = ""
    finished_at: datetime | None = None

    def duplicate_note(self) -> str:
        dup = self.started.duplicate_of
        if not dup:
            return ""
        return f"Same content as batch `{dup}`: its finished rows were reused at no cost"


def _label(item: Item) -> str:
    return f"row {item.index + 1}" + (f" (id {item.item_id})" if item.item_id else "")


def _one_line(text: str, width: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _count(findings: int) -> str:
    return f"{findings} finding" + ("" if findings == 1 else "s")


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def render_report(data: ReportInput) -> str:
    started = data.started
    results = data.results
    ran = [r for r in results.values() if r.status in ("ok", "cached")]
    counts = {s: sum(1 for r in results.values() if r.status == s) for s in ("ok", "cached")}
    errors = [i for i in data.items if (r := results.get(i.index)) and r.status == "error"]
    budget = [i for i in data.items if (r := results.get(i.index)) and r.status == "budget"]
    not_run = [i for i in data.items if i.index not in results]
    cost = sum(r.cost_ticks for r in results.values())
    when = (data.finished_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")

    lines = [f"# {started.file_name}: promptd batch report", ""]
    lines.append(
        f"- Batch `{started.batch_id}`, finished {when}, engine {started.engine or 'default'}"
    )
    parts = [f"{counts['ok']} optimized"]
    if counts["cached"]:
        parts.append(f"{counts['cached']} answered from earlier results")
    if errors:
        parts.append(f"{len(errors)} failed")
    if budget:
        parts.append(f"{len(budget)} not run: budget exhausted")
    if not_run:
        parts.append(f"{len(not_run)} not run")
    lines.append(f"- Prompts: {started.count} ({', '.join(parts)})")
    if ran:
        before = sum(r.score_before for r in ran) / len(ran)
        after = sum(r.score_after for r in ran) / len(ran)
        lines.append(f"- Average score: {before:.0f} → {after:.0f} ({after - before:+.1f})")
    degraded = sum(1 for r in ran if r.degraded)
    if degraded:
        lines.append(f"- Degraded (answered by the offline engine or a cache): {degraded}")
    lines.append(f"- Total cost: ${ticks_to_usd(cost):.4f}")
    lines.append(f"- Results: `{data.output_name}`")
    if data.duplicate_note():
        lines.append(f"- {data.duplicate_note()}")

    if budget:
        reason = data.budget_reason or "the daily or monthly budget ran out"
        lines += ["", "## Stopped for budget", "", f"{reason}", ""]
        lines.append(
            "Raise the budget (`promptd budget --daily USD`) or wait for the next period, then "
            "drop the file again: finished rows are answered from this batch without cost."
        )

    worst = _worst_findings(data)
    if worst:
        lines += ["", "## Worst findings", "", "| code | severity | rows | message |"]
        lines.append("|---|---|---|---|")
        for code, severity, rows, message in worst:
            lines.append(f"| {code} | {severity} | {rows} | {_cell(message)} |")

    weakest = sorted(
        (i for i in data.items if (r := results.get(i.index)) and r.status in ("ok", "cached")),
        key=lambda i: (results[i.index].score_after, -results[i.index].findings),
    )[:LIST_LIMIT]
    if weakest and len(ran) > 1:
        lines += ["", "## Lowest scores after optimization", ""]
        for item in weakest:
            r = results[item.index]
            lines.append(
                f"- {_label(item)}: {r.score_before} → {r.score_after}, {_count(r.findings)}:"
                f" {_one_line(item.prompt, 60)}"
            )

    if errors:
        lines += ["", "## Failed rows", ""]
        for item in errors[:LIST_LIMIT]:
            error = _one_line(results[item.index].error, 160)
            if error.startswith(("row ", "item ", "line ")):  # the parser already said where
                ident = f" (id {item.item_id})" if item.item_id else ""
                lines.append(f"- {error}{ident}")
            else:
                lines.append(f"- {_label(item)}: {error}")
        if len(errors) > LIST_LIMIT:
            lines.append(f"- … and {len(errors) - LIST_LIMIT} more (see the error column)")
    return "\n".join(lines) + "\n"


def _worst_findings(data: ReportInput) -> list[tuple[str, str, int, str]]:
    by_code: dict[str, tuple[str, set[int], str]] = {}
    for index, findings in data.findings.items():
        for finding in findings:
            severity, rows, message = by_code.get(finding.code, (finding.severity, set(), ""))
            if _RANK.get(finding.severity, 9) < _RANK.get(severity, 9):
                severity = finding.severity
            rows.add(index)
            by_code[finding.code] = (severity, rows, message or finding.message)
    ranked = sorted(by_code.items(), key=lambda kv: (_RANK.get(kv[1][0], 9), -len(kv[1][1]), kv[0]))
    return [(code, sev, len(rows), msg) for code, (sev, rows, msg) in ranked[:LIST_LIMIT]]
