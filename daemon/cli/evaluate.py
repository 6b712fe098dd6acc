"""``promptd eval``: A/B-test a rewrite on sample inputs (a thin client of ``eval.run``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import api
from ..client import Client
from ..errors import InputError
from ..evals.types import EvalEstimate, EvalParams, EvalResult
from .common import home_paths, print_json

_FILE = click.Path(dir_okay=False, path_type=Path)


def _read(path: Path | None, what: str) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what} {path}: {exc.strerror}; check the path") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the {what} {path} is not UTF-8 text (byte {exc.start})") from exc


def _plan(est: EvalEstimate) -> str:
    from ..values import usd

    samples = f"{est.samples} {'drafted ' if est.drafted else ''}sample(s)"
    runs = f" x {est.runs} runs" if est.runs > 1 else ""
    judge = "" if est.judge_model == est.target_model else f", judged by {est.judge_model}"
    return (
        f"eval: {samples}{runs} = {est.comparisons} comparison(s) on {est.target_model}{judge}: "
        f"{est.calls} calls, about {usd(est.estimated_usd)} (at most {usd(est.worst_case_usd)})"
    )


def _confirm(est: EvalEstimate, yes: bool) -> None:
    """Ask before spending; without a terminal to ask on, only ``--yes`` goes ahead."""
    if yes:
        return
    from ..values import usd

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise click.UsageError(
            f"eval makes {est.calls} calls costing about {usd(est.estimated_usd)} (at most "
            f"{usd(est.worst_case_usd)}) and there is no terminal to ask on; run it again with "
            "--yes to confirm"
        )
    if not click.confirm("Run it?", default=True, err=True):
        raise click.exceptions.Exit(1)


def _render(result: EvalResult) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..values import usd
    from .ui import out

    table = Table(box=None, title_justify="left", title="per sample")
    for col in ("#", "verdict", "orders", "inputs", "reasons"):
        table.add_column(col)
    styles = {"win": "green", "loss": "red", "tie": "yellow"}
    for v in result.verdicts:
        label = f"{v.index + 1}" + (f".{v.run + 1}" if result.runs > 1 else "")
        inputs = ", ".join(f"{k}={val}" for k, val in v.inputs.items())
        table.add_row(
            label,
            Text(v.verdict, style=styles.get(v.verdict, "")),
            f"{v.first}/{v.second}",
            Text(inputs[:60] + ("…" if len(inputs) > 60 else "")),
            Text("\n".join(v.reasons)),
        )
    if result.verdicts:
        out.print(table)
    drafted = " (inputs drafted by the model)" if result.drafted else ""
    out.print(
        f"candidate vs original: {result.wins} win(s), {result.ties} tie(s), "
        f"{result.losses} loss(es){drafted}",
        markup=False,
    )
    out.print(
        f"win rate {result.score:.0%} (ties count half), 95% interval "
        f"{result.low:.0%}-{result.high:.0%}: {result.conclusion}",
        markup=False,
    )
    cached = f", {result.cached_calls} from cache" if result.cached_calls else ""
    out.print(
        f"cost {usd(result.cost_usd)} ({result.calls} calls{cached}) · target "
        f"{result.target_model} · judge {result.judge_model} · eval {result.eval_id}",
        markup=False,
    )


@click.command(name="eval")
@click.argument("opt_id", metavar="[ID]", required=False)
@click.option("--original", type=_FILE, help="The original prompt (a file).")
@click.option("--candidate", type=_FILE, help="The candidate prompt to compare (a file).")
@click.option(
    "--inputs",
    type=_FILE,
    help='Samples, one JSON object a line: {"vars": {...}, "expected": ..., "criteria": ...}.',
)
@click.option("--target-model", default="", help="Run the prompts on this model.")
@click.option("--judge-model", default="", help="Judge the outputs with this model.")
@click.option(
    "--runs",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    help="Run each sample this many times.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before spending.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def evaluate(
    ctx: click.Context,
    opt_id: str | None,
    original: Path | None,
    candidate: Path | None,
    inputs: Path | None,
    target_model: str,
    judge_model: str,
    runs: int,
    yes: bool,
    as_json: bool,
) -> None:
    """A/B-test a rewrite against its original on sample inputs, judged by a model.

    Fills each version's placeholders from each sample, runs both on the target model
    (default: the configured one) and has the judge model compare the two outputs in both
    orders: the candidate wins a sample when both orders prefer it, loses when both prefer
    the original, ties otherwise. Prints win/tie/loss with a 95% interval, the cost and the
    judge's reasons. Without --inputs the model drafts 5 inputs. Asks before spending
    (--yes does not); needs a model (not the offline engine).

    \b
    Examples:
      promptd eval 01JD3Q8 --inputs samples.jsonl
      promptd eval --original old.prompt --candidate new.prompt --runs 3 --yes --json
    """
    if opt_id is None and (original is None or candidate is None):
        raise click.UsageError(
            "give an optimization ID (promptd history lists them), or both --original F "
            "and --candidate F"
        )
    if opt_id is not None and (original is not None or candidate is not None):
        raise click.UsageError("give an optimization ID or --original/--candidate, not both")
    params = EvalParams(
        opt_id=opt_id or "",
        original=_read(original, "original prompt"),
        candidate=_read(candidate, "candidate prompt"),
        inputs=_read(inputs, "inputs file") if inputs is not None else None,
        inputs_name=str(inputs) if inputs is not None else "the inputs",
        target_model=target_model,
        judge_model=judge_model,
        runs=runs,
    )
    from .ui import err

    with Client.connect(home_paths(ctx), autostart=True) as client:
        est = client.call("eval.estimate", params, result_type=EvalEstimate, timeout=60.0)
        err.print(_plan(est), markup=False)
        if est.note:
            err.print(est.note, style="yellow", markup=False)
        _confirm(est, yes)
        if sys.stderr.isatty() and not as_json:
            result = _with_bar(client, params)
        else:
            result = client.call("eval.run", params, result_type=EvalResult)
    if as_json:
        print_json(result)
    else:
        _render(result)
    if result.status != "completed":
        from ..values import usd

        done = len(result.verdicts)
        err.print(
            f"promptd: eval stopped after {done} of {result.comparisons} comparison(s): "
            f"{result.stopped_reason}; spent {usd(result.cost_usd)} on {result.calls} call(s)",
            style="red",
            markup=False,
        )
        sys.exit(1)


def _with_bar(client: Client, params: EvalParams) -> EvalResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .ui import err

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=err,
    ) as bar:
        task = bar.add_task("evaluating", total=None)

        def update(p: api.Progress) -> None:
            bar.update(task, description=f"evaluating {p.message}", completed=p.done, total=p.total)

        result: EvalResult = client.call(
            "eval.run", params, result_type=EvalResult, on_progress=update
        )
    return result
