"""``promptd lint``: the Diagnoser's findings for a prompt, offline, without a daemon."""

from __future__ import annotations

import sys

import click

from .common import print_json, read_prompt

_TYPES = ("auto", "general", "creative", "technical", "analytical", "code")


@click.command()
@click.argument("text", required=False)
@click.option(
    "--file", "-f", "file", type=click.Path(dir_okay=False), help="Read the prompt from this file."
)
@click.option(
    "--type",
    "-t",
    "prompt_type",
    type=click.Choice(_TYPES),
    default="auto",
    show_default=True,
    help="Prompt type (auto detects it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
def lint(text: str | None, file: str | None, prompt_type: str, as_json: bool) -> None:
    """Print the Diagnoser's findings for a prompt (offline, no daemon).

    Each finding is printed as `line:col CODE severity message`. Exits 1 when a
    finding at warning or error level is present, 0 otherwise (like ruff).

    \b
    Examples:
      promptd lint "write some stuff about dogs"
      promptd lint --file prompts/system.prompt --json
      cat prompt.txt | promptd lint -
    """
    from ..engine.lint import lint as run_lint

    prompt = read_prompt(text, file, "lint")
    report = run_lint(prompt, prompt_type)
    if as_json:
        print_json(report.findings)
    else:
        for f in report.findings:
            line, col = (f.span.line, f.span.col) if f.span else (1, 1)
            mark = " [needs your input]" if f.needs_input else ""
            click.echo(f"{line}:{col} {f.code} {f.severity} {f.message}{mark}")
        how = "detected" if report.detected else "given"
        n = len(report.findings)
        summary = f"{n} finding{'s' if n != 1 else ''}" if n else "No findings"
        click.echo(f"{summary}; score {report.score}/100 ({report.prompt_type}, {how}).")
    if report.worst in ("error", "warning"):
        sys.exit(1)
