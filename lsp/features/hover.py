"""Hover on a prompt: its score, the top findings, and its last optimization."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptd.daemon.api import HistoryItem

from .detect import Prompt

if TYPE_CHECKING:
    from promptd.daemon.engine.lint import LintReport

_ORDER = {"error": 0, "warning": 1, "info": 2, "hint": 3}
TOP_FINDINGS = 3


def hover_text(
    prompt: Prompt,
    report: LintReport | None,
    error: str,
    last: HistoryItem | None,
    history_note: str = "",
    *,
    markdown: bool = True,
) -> str:
    """The hover body (Markdown, or plain text for clients without Markdown)."""
    bold = "**" if markdown else ""
    lines: list[str] = []
    if report is None:
        lines.append(f"{bold}promptd{bold}: cannot score this prompt: {error}")
    else:
        scores = report.scores
        kind = f"{report.prompt_type} (detected)" if report.detected else report.prompt_type
        lines.append(f"{bold}promptd · score {report.score}/100{bold} · {kind}")
        lines.append("")
        lines.append(
            f"clarity {scores.clarity} · specificity {scores.specificity} · "
            f"structure {scores.structure} · completeness {scores.completeness}"
        )
        findings = sorted(report.findings, key=lambda f: _ORDER.get(f.severity, 9))
        if findings:
            lines.append("")
            for finding in findings[:TOP_FINDINGS]:
                code = f"`{finding.code}`" if markdown else finding.code
                lines.append(f"- {code} {finding.message}")
            if len(findings) > TOP_FINDINGS:
                lines.append(f"- … and {len(findings) - TOP_FINDINGS} more")
        else:
            lines.append("")
            lines.append("No findings.")
    lines.append("")
    if last is not None:
        gain = last.score_after - last.score_before
        sign = "+" if gain >= 0 else ""
        cost = "cached, no cost" if last.cached else f"${last.cost_usd:.4f}"
        lines.append(
            f"Last optimized {last.at} ({last.engine}{'/' + last.model if last.model else ''}): "
            f"score {last.score_before} → {last.score_after} ({sign}{gain}), {cost}"
        )
    elif history_note:
        lines.append(history_note)
    if not prompt.editable:
        lines.append("")
        lines.append(f"Not rewritable: {prompt.why_not}")
    return "\n".join(lines).rstrip()
