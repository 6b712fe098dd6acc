"""``promptd lint``: the Diagnoser's findings for a prompt, offline without a daemon, or
the model's (``--engine llm``) through the daemon and its lint cache."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..values import Finding
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
@click.option(
    "--engine",
    type=click.Choice(["offline", "llm"]),
    default="offline",
    show_default=True,
    help="llm: the model's findings, through the daemon (cached 2 h; costs a call).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.pass_context
def lint(
    ctx: click.Context,
    text: str | None,
    file: str | None,
    prompt_type: str,
    engine: str,
    as_json: bool,
) -> None:
    """Print the findings for a prompt (offline; --engine llm asks the model).

    Each finding is printed as `line:col CODE severity message`. Exits 1 when a
    finding at warning or error level is present, 0 otherwise (like ruff).

    \b
    Examples:
      promptd lint "write some stuff about dogs"
      promptd lint --file prompts/system.prompt --json
      cat prompt.txt | promptd lint -
      promptd lint --engine llm --file prompts/system.prompt
    """
    from ..engine.lint import lint as run_lint

    prompt = read_prompt(text, file, "lint")
    if engine == "llm":
        _lint_llm(ctx, prompt, prompt_type, as_json)
        return
    report = run_lint(prompt, prompt_type)
    if as_json:
        print_json(report.findings)
    else:
        _print_findings(report.findings)
        how = "detected" if report.detected else "given"
        n = len(report.findings)
        summary = f"{n} finding{'s' if n != 1 else ''}" if n else "No findings"
        click.echo(f"{summary}; score {report.score}/100 ({report.prompt_type}, {how}).")
    if report.worst in ("error", "warning"):
        sys.exit(1)


def _print_findings(findings: Sequence[Finding]) -> None:
    for f in findings:
        line, col = (f.span.line, f.span.col) if f.span else (1, 1)
        mark = " [needs your input]" if f.needs_input else ""
        click.echo(f"{line}:{col} {f.code} {f.severity} {f.message}{mark}")


def _lint_llm(ctx: click.Context, prompt: str, prompt_type: str, as_json: bool) -> None:
    """The model's findings, asked of the daemon (started when it is not running)."""
    from .. import api
    from ..client import Client
    from .common import home_paths

    params = api.LintParams(text=prompt, prompt_type=prompt_type, engine="llm")
    with Client.connect(home_paths(ctx), autostart=True) as client:
        result = client.call("lint", params, result_type=api.LintResult)
    if as_json:
        print_json(result.findings)
    else:
        _print_findings(result.findings)
        n = len(result.findings)
        summary = f"{n} finding{'s' if n != 1 else ''}" if n else "No findings"
        hit = ", from the lint cache" if result.cached else ""
        click.echo(f"{summary}; score {result.score}/100 ({result.prompt_type}, llm{hit}).")
    if any(f.severity in ("error", "warning") for f in result.findings):
        sys.exit(1)
