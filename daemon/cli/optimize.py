"""``promptd optimize``: the optimized prompt on stdout (it pipes), the summary on stderr."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from .. import api
from ..client import Client
from ..errors import RPCError
from ..paths import Paths
from ..values import PROMPT_TYPES
from .common import home_paths, print_json, read_prompt

TYPES = ("auto", *PROMPT_TYPES)


class _Progress:
    """A progress bar on stderr (terminal only) fed by the daemon's notifications."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from .ui import err

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            transient=True,
            console=err,
        )
        self.task = self.progress.add_task("optimizing", total=4)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, p: api.Progress) -> None:
        self.progress.update(
            self.task,
            description=p.message or p.agent or "optimizing",
            completed=p.done,
            total=p.total or 4,
        )


@contextlib.contextmanager
def _explained(client: Client, paths: Paths, engine: str | None) -> Iterator[None]:
    """An ``--engine llm`` the daemon refuses: say when its provider settings differ."""
    try:
        yield
    except RPCError as exc:
        if engine != "llm":
            raise
        from ..config import load as load_config
        from .batch import provider_mismatch

        status = client.call("status", api.Empty(), result_type=api.StatusResult)
        mismatch = provider_mismatch(load_config(paths.config_file), status)
        if not mismatch:
            raise
        raise click.ClickException(f"{exc}. Note: {mismatch}") from exc


@click.command()
@click.argument("text", required=False)
@click.option(
    "--file",
    "-f",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the prompt from this file.",
)
@click.option(
    "--type",
    "-t",
    "prompt_type",
    type=click.Choice(TYPES),
    default="auto",
    show_default=True,
    help="Prompt type (auto detects it).",
)
@click.option(
    "--engine",
    type=click.Choice(["offline", "llm"]),
    default=None,
    help="Engine (default: llm when a provider is configured, else offline).",
)
@click.option("--model", default=None, help="Model for the llm engine (default: the router).")
@click.option("--no-cache", is_flag=True, help="Do not answer from the cache.")
@click.option("--diff", is_flag=True, help="Print a diff against the original, not the prompt.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--estimate", is_flag=True, help="Only estimate the cost; make no call.")
@click.option(
    "--instruct",
    "-i",
    "instruct",
    default=None,
    metavar="TEXT",
    help='Rewrite by this instruction ("more formal, under 100 words").',
)
@click.option(
    "--for",
    "target",
    type=click.Choice(api.TARGETS, case_sensitive=False),
    default=None,
    help="Write for this model family (default: [engine] target, else generic).",
)
@click.pass_context
def optimize(
    ctx: click.Context,
    text: str | None,
    file: Path | None,
    prompt_type: str,
    engine: str | None,
    model: str | None,
    no_cache: bool,
    diff: bool,
    as_json: bool,
    estimate: bool,
    instruct: str | None,
    target: str | None,
) -> None:
    """Optimize a prompt: the result on stdout, the summary on stderr.

    Starts the daemon when it is not running.

    \b
    Examples:
      promptd optimize "write some stuff about dogs"
      promptd optimize --file prompts/system.prompt --type technical > better.prompt
      cat draft.txt | promptd optimize - --diff
      promptd optimize --engine llm --estimate "summarize {document} for {audience}"
      promptd optimize --instruct "more formal, under 100 words" --file email.prompt
      promptd optimize --for claude --file prompts/review.prompt
    """
    prompt = read_prompt(text, file, "optimize")
    paths = home_paths(ctx)
    params = api.OptimizeParams(
        text=prompt,
        prompt_type=prompt_type,
        engine=engine,
        model=model,
        no_cache=no_cache,
        estimate=estimate,
        source="cli",
        instruct=instruct,
        target=target.lower() if target else None,
    )
    with Client.connect(paths, autostart=True) as client, _explained(client, paths, engine):
        if estimate:
            est = client.call("optimize", params, result_type=api.EstimateResult)
            if as_json:
                print_json(est)
            else:
                from .ui import render_estimate

                render_estimate(est)
            return
        if sys.stderr.isatty() and not as_json:
            with _Progress() as bar:
                result = client.call(
                    "optimize", params, result_type=api.OptimizeResult, on_progress=bar.update
                )
        else:
            result = client.call("optimize", params, result_type=api.OptimizeResult)
        mismatch = ""
        if result.degraded or (engine == "llm" and result.engine != "llm"):
            from ..config import load as load_config
            from .batch import provider_mismatch

            status = client.call("status", api.Empty(), result_type=api.StatusResult)
            mismatch = provider_mismatch(load_config(paths.config_file), status)
    if mismatch:
        from .ui import err

        err.print(mismatch, style="yellow", markup=False)
    if result.alerts:
        from .ui import err

        for alert in result.alerts:
            err.print(alert, style="yellow", markup=False)
    if as_json:
        print_json(result)
        return
    from .ui import render_diff, render_summary

    if diff:
        render_diff(result.original, result.optimized)
    else:
        sys.stdout.write(result.optimized)
        if not result.optimized.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
    render_summary(result)
