"""``promptd batch FILE``: run a file of prompts through the daemon's batch machinery.

The daemon reads the file, runs every prompt (sharing caches and the budget with everything
else) and writes the result beside the input (``NAME.optimized.EXT``, plus
``NAME.report.md``). This command shows a progress bar until the batch is done; Ctrl-C
detaches and leaves the batch running (``promptd status`` shows it).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from .. import api
from ..client import Client
from ..config import Config
from ..config import load as load_config
from ..inbox.formats import FORMATS, output_name
from ..values import PROMPT_TYPES
from .common import home_paths, print_json


def _summary(info: api.BatchInfo) -> str:
    """Plain text (print it with ``markup=False``: a file name may hold brackets)."""
    from ..values import usd

    text = f"{Path(info.file_name).name}: {info.done}/{info.total} prompts, {usd(info.cost_usd)}"
    if info.reason:
        text += f" ({info.reason})"
    if info.degraded:
        text += f"; {info.degraded} degraded: {info.degraded_reason or 'the provider failed'}"
    return text


def provider_mismatch(cli: Config, status: api.StatusResult) -> str:
    """What differs between this shell's provider settings and the running daemon's, and
    how to apply this shell's ("" when they agree)."""
    want_engine = cli.engine_name()
    want = cli.provider_kind() if want_engine == "llm" else "offline"
    have = status.provider.name if status.engine == "llm" else "offline"
    how = (
        "Restart it to apply them (`promptd stop`, then run again); after editing "
        f"config.toml, `kill -HUP {status.pid}` makes the daemon reload it"
    )
    theirs = status.provider.settings
    if theirs is not None:
        from ..providers.settings import provider_settings, settings_drift

        drift = settings_drift(provider_settings(cli), theirs)
        if not drift:
            return ""
        lead = (
            f"this shell's settings say provider {want!r} but the running daemon (pid "
            f"{status.pid}) uses {have!r}"
            if want != have
            else f"this shell's provider settings differ from the running daemon's (pid "
            f"{status.pid})"
        )
        return f"{lead}: {'; '.join(drift)}. {how}"
    if want == have:  # a daemon too old to report its settings: compare what it shows
        return ""
    return (
        f"this shell's settings say provider {want!r} but the running daemon (pid "
        f"{status.pid}) uses {have!r}: it was started with other environment variables. {how}"
    )


class _Bar:
    """The progress bar on stderr: done/total, rate, ETA and spend, from ``progress``."""

    def __init__(self, name: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from .ui import err

        self.batch_id = ""
        self._first: tuple[float, int] | None = None
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[spend]}"),
            console=err,
            transient=True,
        )
        self.task = self.progress.add_task(name, total=None, rate="", eta="-", spend="")

    def update(self, p: api.Progress) -> None:
        from ..values import usd

        self.batch_id = p.batch_id or self.batch_id
        now = time.monotonic()
        if self._first is None:
            self._first = (now, p.done)
        since, done0 = self._first
        rate = (p.done - done0) / (now - since) if now > since and p.done > done0 else 0.0
        eta = f"{(p.total - p.done) / rate:.0f}s" if rate > 0 else "-"
        self.progress.update(
            self.task,
            completed=p.done,
            total=p.total or None,
            rate=f"{rate:.1f}/s",
            eta=eta,
            spend=usd(p.cost_usd),
        )


def submit_and_follow(client: Client, params: api.BatchSubmitParams, bar: _Bar) -> api.BatchInfo:
    """Submit the file; the answer comes when the batch ends, progress meanwhile."""
    with bar.progress:
        info: api.BatchInfo = client.call(
            "batch.submit", params, result_type=api.BatchInfo, on_progress=bar.update
        )
    return info


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the results (default: NAME.optimized.EXT beside FILE).",
)
@click.option(
    "--type",
    "-t",
    "prompt_type",
    type=click.Choice(("auto", *PROMPT_TYPES)),
    default="auto",
    show_default=True,
    help="Prompt type for rows that do not give one.",
)
@click.option(
    "--engine",
    type=click.Choice(["offline", "llm"]),
    default=None,
    help="Engine (default: the configured one).",
)
@click.option("--cancel", "cancel_id", metavar="ID", default=None, help="Cancel batch ID.")
@click.option("--json", "as_json", is_flag=True, help="Print the final batch info as JSON.")
@click.pass_context
def batch(
    ctx: click.Context,
    file: Path | None,
    output: Path | None,
    prompt_type: str,
    engine: str | None,
    cancel_id: str | None,
    as_json: bool,
) -> None:
    """Optimize every prompt in FILE (.txt .md .prompt .json .jsonl .csv).

    Results keep each row's id and extra columns and gain the optimized prompt, scores,
    findings count, cost, cached, degraded and error. Ctrl-C detaches: the batch goes on in
    the daemon (promptd status shows it; --cancel ID stops it).

    \b
    Examples:
      promptd batch prompts.csv
      promptd batch prompts.jsonl --output done.jsonl --type code
      promptd batch --cancel b_3f2a
    """
    paths = home_paths(ctx)
    from .ui import err

    if cancel_id is not None:
        if file is not None:
            raise click.UsageError("give FILE or --cancel ID, not both")
        with Client.connect(paths) as client:
            info = client.call(
                "batch.cancel", api.BatchIdParams(id=cancel_id), result_type=api.BatchInfo
            )
        if as_json:
            print_json(info)
        else:
            err.print(f"cancelling batch {info.id}: {_summary(info)}", markup=False)
        return
    if file is None:
        raise click.UsageError("give a FILE of prompts (or --cancel ID)")
    file = file.expanduser().absolute()
    if not file.is_file():
        raise click.BadParameter(f"{file}: no such file", param_hint="FILE")
    if file.suffix.lower().lstrip(".") not in FORMATS:
        raise click.BadParameter(
            f"{file.name}: use one of " + ", ".join("." + f for f in FORMATS), param_hint="FILE"
        )
    target = output.expanduser().absolute() if output else file.with_name(output_name(file.name))
    params = api.BatchSubmitParams(
        path=str(file), output=str(target), prompt_type=prompt_type, engine=engine
    )
    bar = _Bar(file.name)
    with Client.connect(paths, autostart=True) as client:
        before = client.call("status", api.Empty(), result_type=api.StatusResult)
        try:
            info = submit_and_follow(client, params, bar)
        except KeyboardInterrupt:
            which = f"batch {bar.batch_id}" if bar.batch_id else "the batch"
            stop = f"`promptd batch --cancel {bar.batch_id}`" if bar.batch_id else "--cancel ID"
            err.print(
                f"detached: {which} goes on in the daemon; `promptd status` shows it, "
                f"{stop} stops it",
                markup=False,
            )
            return
        after = client.call("status", api.Empty(), result_type=api.StatusResult)
    for alert in after.spend.alerts:
        if alert not in before.spend.alerts:
            err.print(alert, style="yellow", markup=False)
    if info.degraded or (engine == "llm" and after.engine != "llm"):
        mismatch = provider_mismatch(load_config(paths.config_file), after)
        if mismatch:
            err.print(mismatch, style="yellow", markup=False)
    if as_json:
        print_json(info)
    if info.state == "completed":
        if not as_json:
            err.print(_summary(info), markup=False)
            click.echo(info.output_path)
        return
    raise click.ClickException(f"batch {info.id} {info.state}: {info.reason or _summary(info)}")
