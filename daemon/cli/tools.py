"""``promptd templatize`` and ``promptd trim``: prompt tools the daemon runs (offline).

They start the daemon when needed, as ``optimize`` does, so they use its settings (the input
cap, the configured model's tokenizer).
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

import click

from ..client import Client
from ..tools import types
from .common import home_paths, print_json, read_prompt

T = TypeVar("T")

_FILE = click.option(
    "--file", "-f", "file", type=click.Path(dir_okay=False), help="Read the prompt from this file."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def _call(ctx: click.Context, method: str, params: Any, result_type: type[T]) -> T:
    with Client.connect(home_paths(ctx), autostart=True, timeout=15.0) as client:
        result: T = client.call(method, params, result_type=result_type, timeout=60.0)
    return result


def _cell(text: str, width: int = 60) -> str:
    flat = text.replace("\n", "⏎")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.command()
@click.argument("text", required=False)
@_FILE
@_JSON
@click.pass_context
def templatize(ctx: click.Context, text: str | None, file: str | None, as_json: bool) -> None:
    """Turn the literal values in a prompt into placeholders, with a table of them.

    Names, numbers with units, dates, emails, URLs, quoted inputs and pasted documents
    become placeholders in the prompt's own syntax ({x}, {{x}}, ${x}...; {{x}} when it has
    none). Filling the template with the table gives the original back exactly: promptd
    checks that and refuses otherwise. The template goes to stdout, the table to stderr.

    \b
    Examples:
      promptd templatize "Email Jane Doe a 100 words summary of https://example.com/q3"
      promptd templatize --file prompts/welcome.prompt --json
    """
    prompt = read_prompt(text, file, "templatize")
    result = _call(ctx, "templatize", types.TemplatizeParams(text=prompt), types.TemplatizeResult)
    if as_json:
        print_json(result)
        return
    click.echo(result.template)
    if not result.variables:
        click.echo("no values to pull out: the prompt is already a template", err=True)
        return
    width = max(len(v.placeholder) for v in result.variables)
    click.echo(f"{'placeholder':<{width}}  {'kind':<8}  value", err=True)
    for v in result.variables:
        times = f"  (x{v.occurrences})" if v.occurrences > 1 else ""
        click.echo(f"{v.placeholder:<{width}}  {v.kind:<8}  {_cell(v.value)}{times}", err=True)


@click.command()
@click.argument("text", required=False)
@_FILE
@click.option(
    "--max-tokens",
    "-n",
    "max_tokens",
    required=True,
    type=click.IntRange(min=1),
    help="The token budget the prompt must fit.",
)
@click.option("--model", "-m", default="", help="Count with this model's tokenizer.")
@_JSON
@click.pass_context
def trim(
    ctx: click.Context,
    text: str | None,
    file: str | None,
    max_tokens: int,
    model: str,
    as_json: bool,
) -> None:
    """Cut filler, politeness and repetition until a prompt fits a token budget.

    Never cuts placeholders, code, quoted text, numbers or constraint sentences (never, do
    not, avoid, must, only...), and stops as soon as the prompt fits. Tokens are counted
    with the model's tokenizer (o200k_base, cl100k_base; an estimate for models whose
    tokenizer is not public, and it says so). The trimmed prompt goes to stdout, the report
    to stderr. Exits 1 when even the best trim is over the budget (it is printed anyway).

    \b
    Examples:
      promptd trim --file prompts/system.prompt --max-tokens 200 --model gpt-4o
      cat prompt.txt | promptd trim - -n 150 --json
    """
    prompt = read_prompt(text, file, "trim")
    params = types.TrimParams(text=prompt, max_tokens=max_tokens, model=model)
    result = _call(ctx, "trim", params, types.TrimResult)
    if as_json:
        print_json(result)
    else:
        click.echo(result.trimmed)
        how = result.encoding + (f" ({result.estimate})" if result.estimate else "")
        click.echo(
            f"tokens {result.tokens_before} -> {result.tokens_after} "
            f"(max {result.max_tokens}; {how})",
            err=True,
        )
        for cut in result.removals:
            click.echo(f"  - {cut.kind}: {_cell(cut.text)} (-{cut.tokens})", err=True)
        if not result.fits:
            click.echo(f"promptd: still over the budget: {result.reason}", err=True)
    if not result.fits:
        sys.exit(1)
