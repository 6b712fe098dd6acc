"""``promptd history``, ``show``, ``costs`` and ``budget``: what the log remembers.

The read-only ones ask the daemon when it runs and otherwise read the event log directly
(saying "daemon not running"); ``budget --daily/--monthly`` records a ``BudgetSet``, which
only the daemon writes, so it starts one when needed.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import click

from .. import api
from .. import config as _config
from ..client import Client, DaemonNotRunning
from ..paths import Paths
from .common import home_paths, print_json

T = TypeVar("T")


def ask(paths: Paths, method: str, params: Any, result_type: type[T]) -> tuple[T, bool]:
    """The answer to a read-only query, and whether a daemon gave it (False: read the log)."""
    try:
        with Client.connect(paths, timeout=5.0) as client:
            return client.call(method, params, result_type=result_type, timeout=30.0), True
    except DaemonNotRunning:
        pass
    from ..server import queries

    config = _config.load(paths.config_file)
    with queries.open_readonly(paths, config) as reader:
        return reader.answer(method, params, result_type), False


@click.command()
@click.option(
    "--limit",
    "-n",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def history(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List recent optimizations, newest first.

    \b
    Examples:
      promptd history
      promptd history -n 100 --json | jq '.items[] | select(.degraded)'
    """
    result, running = ask(
        home_paths(ctx), "history", api.HistoryParams(limit=limit), api.HistoryResult
    )
    if as_json:
        print_json(result)
        return
    from .ui import render_history

    render_history(result, running)


@click.command()
@click.argument("id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def show(ctx: click.Context, id: str, as_json: bool) -> None:
    """Show one optimization with its agent steps and provider calls.

    ID may be a unique prefix (as `promptd history` prints it).

    \b
    Example:
      promptd show 01JD3Q8
    """
    result, running = ask(home_paths(ctx), "show", api.ShowParams(id=id), api.ShowResult)
    if as_json:
        print_json(result)
        return
    from .ui import render_show

    render_show(result, running)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def costs(ctx: click.Context, as_json: bool) -> None:
    """Show spend by day, by model and by source, with a 30-day forecast.

    \b
    Example:
      promptd costs --json | jq .forecast_30d_usd
    """
    result, running = ask(home_paths(ctx), "costs", api.Empty(), api.CostsResult)
    if as_json:
        print_json(result)
        return
    from .ui import render_costs

    render_costs(result, running)


_CLEAR = -1.0  # "none": remove the limit


def _amount(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    text = value.strip().lstrip("$")
    if text.lower() in ("none", "off", "no"):
        return _CLEAR
    try:
        amount = float(text)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount):  # "lots", but also "nan" and "inf", which float() reads
        raise click.BadParameter(
            f"{value!r} is not an amount in USD; write e.g. 5 or 2.50 (none: no limit)",
            param_hint=name,
        )
    if amount < 0:
        raise click.BadParameter("a budget cannot be negative", param_hint=name)
    if amount > api.MAX_BUDGET_USD:
        raise click.BadParameter(
            f"a budget is at most {api.MAX_BUDGET_USD:.0f} USD; check the amount",
            param_hint=name,
        )
    return amount


@click.command()
@click.option("--daily", default=None, metavar="USD", help="Daily budget in USD (none: no limit).")
@click.option(
    "--monthly", default=None, metavar="USD", help="Monthly budget in USD (none: no limit)."
)
@click.option(
    "--alert",
    "alert_pct",
    default=None,
    type=click.IntRange(1, 100),
    help="Alert when spend crosses this % of a budget.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def budget(
    ctx: click.Context,
    daily: str | None,
    monthly: str | None,
    alert_pct: int | None,
    as_json: bool,
) -> None:
    """Show the daily and monthly budget, or set them.

    \b
    Examples:
      promptd budget
      promptd budget --daily 2 --monthly 30
      promptd budget --daily none          # no daily limit
    """
    paths = home_paths(ctx)
    daily_usd = _amount(daily, "--daily")
    monthly_usd = _amount(monthly, "--monthly")
    if daily_usd is None and monthly_usd is None and alert_pct is None:
        info, _running = ask(paths, "budget.get", api.Empty(), api.BudgetInfo)
    else:
        params = api.BudgetSetParams(
            daily_usd=None if daily_usd == _CLEAR else daily_usd,
            monthly_usd=None if monthly_usd == _CLEAR else monthly_usd,
            clear_daily=daily_usd == _CLEAR,
            clear_monthly=monthly_usd == _CLEAR,
            alert_pct=alert_pct,
        )
        with Client.connect(paths, autostart=True) as client:
            info = client.call("budget.set", params, result_type=api.BudgetInfo)
    if as_json:
        print_json(info)
        return
    from .ui import render_budget

    render_budget(info)
