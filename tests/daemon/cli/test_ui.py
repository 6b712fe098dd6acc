"""What ``promptd optimize`` prints on stderr, piped to a log and on a terminal."""

from __future__ import annotations

import io

import pytest

from promptd.daemon import api
from promptd.daemon.cli.ui import render_diff, render_summary
from promptd.daemon.values import Change, Finding, Span

LONG = (
    'No length is given. Give a length ("about 300 words", "3 paragraphs", "at most 5 '
    'bullets") so the answer fits where it goes.'
)


def _result() -> api.OptimizeResult:
    left = Finding(
        code="PD008",
        severity="warning",
        message=LONG,
        span=Span(start=0, end=5, line=1, col=1),
        needs_input=True,
    )
    return api.OptimizeResult(
        id="6b096a27d68b6be7",
        original="write some stuff",
        optimized="Write three facts.",
        prompt_type="general",
        engine="offline",
        model="",
        score_before=61,
        score_after=93,
        findings=[
            Finding(
                code="PD008",
                severity="warning",
                message=LONG,
                span=Span(start=0, end=5, line=1, col=1),
                needs_input=True,
            )
        ],
        changes=[Change(description="Turned a negative-only instruction into a positive one.")],
        placeholders=[],
        cost_usd=0.0,
        cached=False,
        degraded=False,
        duration_ms=10,
        left=[left],  # the summary lists what the lint of the result still finds
    )


def test_a_long_finding_stays_on_one_line_when_stderr_is_piped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")  # even a narrow terminal next to the pipe changes nothing
    render_summary(_result())
    lines = capsys.readouterr().err.splitlines()
    # said once, by the header, not again on each line under it
    assert lines.count("left for you:") == 1
    assert not any(line.endswith("(needs your input)") for line in lines)
    assert "  1:1 PD008 warning " + LONG in lines
    assert lines[0].startswith("score 61 → 93") and lines[0].endswith("6b096a27d68b6be7")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_long_finding_wraps_to_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("NO_COLOR", "1")
    render_summary(_result())
    lines = terminal.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 60
    assert any(line.startswith("  1:1 PD008 warning No length is given.") for line in lines)


def test_a_piped_diff_keeps_long_lines_whole(capsys: pytest.CaptureFixture[str]) -> None:
    original = "please write " + "some stuff about dogs, " * 8
    render_diff(original, "Write three facts about dogs.")
    lines = capsys.readouterr().out.splitlines()
    assert "-" + original in lines and "+Write three facts about dogs." in lines
