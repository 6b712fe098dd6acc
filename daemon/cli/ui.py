"""How the daemon's answers look to a person: rich tables, colour only on a terminal.

Pure rendering of :mod:`promptd.daemon.api` results; every function takes the result and prints it.
Data that pipes (an optimized prompt) goes to stdout, commentary to stderr.
"""

from __future__ import annotations

import difflib
import time
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .. import api
from ..values import Grounding, Related, usd
from .backup import _size


class _Console(Console):
    """Wraps to the terminal's width; piped, never hard-wraps (rich would wrap at 80 columns),
    so a log keeps one finding per line and a diff still applies. Tables keep their layout.
    Asked on each print: the stream can change (tests swap it)."""

    @property
    def soft_wrap(self) -> bool:
        isatty = getattr(self.file, "isatty", None)
        return not (callable(isatty) and isatty())

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        pass  # decided by the stream, not at construction


out = _Console(highlight=False)
err = _Console(stderr=True, highlight=False)


def _ago(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    seconds = time.time() - then.timestamp()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = f"{seconds / size:.0f} {unit}"
            break
    else:
        amount = f"{seconds:.0f} s"
    return f"in {amount}" if future else f"{amount} ago"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _against(spent: float, budget: float | None) -> Text:
    if budget is None:
        return Text(f"{usd(spent)}  (no budget)")
    pct = 100 * spent / budget if budget > 0 else 100.0
    style = "red" if pct >= 100 else "yellow" if pct >= 80 else "green"
    return Text(f"{usd(spent)} of {usd(budget)}  ") + Text(f"{pct:.0f}%", style=style)


def render_status(s: api.StatusResult) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    if s.running:
        up = f", up {_duration(s.uptime_s)}" if s.uptime_s is not None else ""
        grid.add_row("daemon", Text(f"running (pid {s.pid}{up})", style="green"))
    else:
        grid.add_row("daemon", Text("not running (read from the event log)", "yellow"))
    grid.add_row("version", s.version)
    grid.add_row("home", Text(s.home))
    circuit_style = {"closed": "green", "open": "red"}.get(s.provider.circuit, "yellow")
    # "offline", not "offline · offline": the provider is named when it differs from the engine
    names = [s.engine] + ([s.provider.name] if s.provider.name != s.engine else [])
    provider = Text(" · ".join(names))
    if s.provider.model:
        provider += Text(f" · {s.provider.model}")
    provider += Text("  breaker ") + Text(s.provider.circuit, style=circuit_style)
    if s.provider.json_mode:
        provider += Text(f"  {s.provider.json_mode}")
    if s.provider.calls_in_flight:
        provider += Text(f"  {s.provider.calls_in_flight} call(s) in flight")
    grid.add_row("engine", provider)
    for model, mode in s.provider.json_modes.items():  # learned, kept across restarts
        if model != s.provider.model:
            grid.add_row("", Text(f"{model}: {mode} (json_schema refused by the endpoint)"))
    grid.add_row(
        "events", f"{s.events.count:,} (last #{s.events.last_seq}), {_size(s.events.bytes)}"
    )
    cache = f"{s.cache.entries:,} entries, hit rate {100 * s.cache.hit_rate:.0f}%"
    tiers = [
        f"{name} {100 * t.hit_rate:.0f}%" for name, t in s.cache.tiers.items() if t.hits + t.misses
    ]
    if tiers:
        cache += " (" + ", ".join(tiers) + ")"
    grid.add_row("cache", cache)
    w = s.warming
    if w.done or w.queued or w.dropped or w.failed:
        line = f"{w.done} analysed ahead ({w.warmed} call(s)), {w.queued} queued"
        line += "".join(
            f", {n} {what}" for n, what in ((w.dropped, "dropped"), (w.failed, "failed")) if n
        )
        grid.add_row("warming", line)
    grid.add_row("today", _against(s.spend.today_usd, s.spend.daily_budget_usd))
    grid.add_row("month", _against(s.spend.month_usd, s.spend.monthly_budget_usd))
    if s.spend.reserved_usd:
        grid.add_row("held", f"{usd(s.spend.reserved_usd)} reserved by calls in flight")
    grid.add_row("forecast", f"{usd(s.spend.forecast_30d_usd)} over the next 30 days")
    for alert in s.spend.alerts:
        grid.add_row("", Text(alert, style="yellow"))
    backups = f"{s.backups.count} · last {_ago(s.backups.last_at)}"
    if s.backups.next_at:
        backups += f" · next {_ago(s.backups.next_at)}"
    grid.add_row("backups", backups)
    if s.backups.last_error:
        grid.add_row("", Text(f"last backup failed: {s.backups.last_error}", style="red"))
    failed = f" · {s.inbox.failed} failed (see {s.inbox.path}/failed)" if s.inbox.failed else ""
    grid.add_row("inbox", Text(f"{s.inbox.path} · {s.inbox.pending} pending{failed}"))
    for problem in s.inbox.problems:
        grid.add_row("", Text(problem, style="red"))
    for error in s.inbox.errors[:3]:
        grid.add_row("", Text(f"failed: {error}", style="yellow"))
    for batch in s.inbox.batches:
        eta = f", ETA {_duration(batch.eta_s)}" if batch.eta_s is not None else ""
        line = f"{batch.file_name}: {batch.done}/{batch.total} {batch.state}"
        line += f" ({batch.rate_per_s:.1f}/s{eta}, {usd(batch.cost_usd)})"
        if batch.reason:
            line += f" — {batch.reason}"
        grid.add_row("", Text(line))
    out.print(grid)
    if s.dashboard_url:  # on one line whatever the width, so it can be copied whole
        out.print(Text("dashboard", style="bold") + Text(f" {s.dashboard_url}"), soft_wrap=True)


def render_history(result: api.HistoryResult, running: bool) -> None:
    if not running:
        err.print("[yellow]daemon not running[/]: read from the event log")
    if not result.items:
        err.print('no optimizations yet; try: promptd optimize "your prompt"')
        return
    table = Table(box=None, pad_edge=False, expand=True)
    for name, justify in (
        ("id", "left"),
        ("when", "left"),
        ("type", "left"),
        ("engine", "left"),
        ("score", "right"),
        ("cost", "right"),
        ("", "left"),
        ("prompt", "left"),
    ):
        if name == "prompt":  # the one column that gives way when the terminal is narrow
            table.add_column(name, ratio=1, no_wrap=True, overflow="ellipsis")
        else:
            table.add_column(name, justify=justify, no_wrap=True, min_width=len(name))  # type: ignore[arg-type]
    for item in result.items:
        flags = " ".join(
            f for f, on in (("cached", item.cached), ("degraded", item.degraded)) if on
        )
        gain = item.score_after - item.score_before
        score = Text(f"{item.score_before}→{item.score_after}")
        score.stylize("green" if gain > 0 else "dim")
        table.add_row(
            item.id[:12],
            _ago(item.at),
            item.prompt_type,
            item.engine,
            score,
            usd(item.cost_usd),
            flags,
            Text(item.preview),
        )
    out.print(table)


def render_findings(findings: list[object], *, mark_input: bool = True) -> None:
    """One line a finding; ``mark_input`` False when a "needs your input:" header says it."""
    from ..values import Finding

    for f in findings:
        if not isinstance(f, Finding):
            continue
        where = f"{f.span.line}:{f.span.col} " if f.span else ""
        ask = "  (needs your input)" if f.needs_input and mark_input else ""
        style = {"error": "red", "warning": "yellow"}.get(f.severity, "cyan")
        err.print(f"  {where}[{style}]{f.code}[/] {f.severity} {escape(f.message)}{ask}")


def render_show(s: api.ShowResult, running: bool) -> None:
    o = s.optimization
    if not running:
        err.print("[yellow]daemon not running[/]: read from the event log")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("id", o.id)
    head.add_row("when", f"{s.at} ({_ago(s.at)}) from {s.source}")
    head.add_row("type", o.prompt_type + (" (detected)" if o.detected_type else ""))
    head.add_row("engine", f"{o.engine} · {o.model or '-'} · route {o.route}")
    head.add_row("score", f"{o.score_before} → {o.score_after}")
    flags = [f for f, on in (("cached", o.cached), ("degraded", o.degraded)) if on]
    head.add_row("cost", usd(o.cost_usd) + (f" ({', '.join(flags)})" if flags else ""))
    if o.degraded_reason:
        head.add_row("degraded", Text(o.degraded_reason))
    if not o.changed and o.unchanged_reason:
        head.add_row("unchanged", Text(o.unchanged_reason))
    if o.instruct:
        head.add_row("instruction", Text(o.instruct))
    if o.target:
        head.add_row("written for", Text(o.target))
    for item in o.instruct_unmet:
        head.add_row("not honoured", Text(item))
    out.print(head)
    if s.steps:
        steps = Table(title="agent steps", box=None, title_justify="left")
        for col in ("agent", "try", "ms", "model", "summary"):
            steps.add_column(col, justify="right" if col in ("try", "ms") else "left")
        for st in s.steps:
            steps.add_row(
                st.agent,
                str(st.attempt),
                f"{st.duration_ms:.1f}",
                st.model or "-",
                Text(st.summary),
            )
        out.print(steps)
    if s.calls:
        calls = Table(title="provider calls", box=None, title_justify="left")
        for col in ("agent", "model", "in", "cached", "out", "reasoning", "ms", "cost", "ok"):
            calls.add_column(col, justify="left" if col in ("agent", "model") else "right")
        for c in s.calls:
            calls.add_row(
                c.agent,
                c.model,
                str(c.prompt_tokens),
                str(c.cached_tokens),
                str(c.completion_tokens),
                str(c.reasoning_tokens),
                str(c.latency_ms),
                usd(c.cost_usd),
                "yes" if c.ok else Text("no", style="red"),
            )
        out.print(calls)
    if s.evaluations:
        _render_evaluations(s.evaluations)
    out.print(Text("original", style="bold"))
    out.print(o.original, markup=False)
    out.print(Text("optimized", style="bold"))
    out.print(o.optimized, markup=False)
    render_related(o.related)
    render_grounding(o.grounding, o.grounding_note)


def _cost_table(title: str, rows: list[api.CostRow]) -> Table:
    table = Table(title=title, box=None, title_justify="left", pad_edge=False)
    table.add_column("")
    table.add_column("cost", justify="right")
    table.add_column("calls", justify="right")
    for row in rows:
        table.add_row(Text(row.key), usd(row.cost_usd), str(row.calls))
    if not rows:
        table.add_row("(none)", "-", "-")
    return table


def render_costs(c: api.CostsResult, running: bool) -> None:
    if not running:
        err.print("[yellow]daemon not running[/]: read from the event log")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_row("today", usd(c.today_usd))
    grid.add_row("this month", usd(c.month_usd))
    grid.add_row("all time", usd(c.total_usd))
    grid.add_row("next 30 days", usd(c.forecast_30d_usd) + " (forecast)")
    if c.tokens:
        grid.add_row(
            "tokens",
            ", ".join(f"{c.tokens.get(k, 0):,} {k}" for k in ("prompt", "cached", "completion"))
            + (f", {c.tokens['reasoning']:,} reasoning" if c.tokens.get("reasoning") else ""),
        )
    out.print(grid)
    for title, rows in (("by day", c.by_day), ("by model", c.by_model), ("by source", c.by_source)):
        out.print()
        out.print(_cost_table(title, rows))


def render_budget(b: api.BudgetInfo) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("daily", _against(b.today_usd, b.daily_budget_usd))
    grid.add_row("monthly", _against(b.month_usd, b.monthly_budget_usd))
    grid.add_row("alert at", f"{b.alert_pct}%")
    if b.reserved_usd:
        grid.add_row("held", f"{usd(b.reserved_usd)} reserved by calls in flight")
    out.print(grid)


def render_summary(r: api.OptimizeResult) -> None:
    """The optimize summary on stderr: score, changes, findings left, cost, flags."""
    gain = r.score_after - r.score_before
    style = "green" if gain > 0 else "yellow"
    line = Text("score ") + Text(f"{r.score_before} → {r.score_after}", style=style)
    line += Text(f" · {r.prompt_type}" + (" (detected)" if r.detected_type else ""))
    line += Text(f" · {r.engine}" + (f" {r.model}" if r.model else ""))
    line += Text(f" · {usd(r.cost_usd)}")
    if r.cached:
        line += Text(" · cached", style="cyan")
    if r.degraded:
        line += Text(" · degraded", style="yellow")
    line += Text(f" · {r.duration_ms} ms · {r.id}")
    err.print(line)
    if r.degraded and r.degraded_reason:
        err.print(f"[yellow]degraded:[/] {escape(r.degraded_reason)}")
    if not r.changed and r.unchanged_reason:  # the findings left are listed below
        err.print(f"unchanged: {r.unchanged_reason.split('; ')[0]}", markup=False)
    for change in r.changes:
        codes = f" ({', '.join(change.findings)})" if change.findings else ""
        err.print(f"  [green]✓[/] {escape(change.description)}{escape(codes)}")
    if r.instruct_unmet:  # what of --instruct / --for the engine could not do, and why
        err.print("not honoured:")
        for item in r.instruct_unmet:
            err.print(f"  [yellow]✗[/] {escape(item)}")
    # ``left`` is the lint of the optimized prompt: exactly what is still there to decide.
    if r.left:
        err.print("left for you:")
        render_findings(list(r.left), mark_input=False)
    render_related(r.related)
    render_grounding(r.grounding, r.grounding_note)


def describe_related(rel: Related) -> str:
    """One line for a similar prompt the library found."""
    if rel.kind == "optimization":
        opt_id = rel.ref.removeprefix("opt:")
        kept = ", kept" if rel.kept else ""
        used = " (given to the Designer as an example)" if rel.used == "example" else ""
        return (
            f"you optimized a similar prompt on {rel.at or 'an earlier day'}: score {rel.score}"
            f"{kept}, {rel.similarity}% similar{used} — promptd show {opt_id}"
        )
    where = rel.ref.partition(":")[2]
    used = " (given to the Designer as context)" if rel.used == "context" else ""
    return f"a prompt in your library, {rel.similarity}% similar{used}: {where}"


def describe_grounding(g: Grounding) -> str:
    """One line for an example or passage the LLM Designer was given."""
    where = g.ref.removeprefix("opt:") if g.ref.startswith("opt:") else g.ref
    facts = [g.source, f"{g.similarity}% similar", f"{g.tokens} tokens"]
    if g.kept:
        facts.insert(0, "kept")
    if g.query:
        facts.append(f"looked up: {g.query!r}")
    return f"{g.kind} {where} ({', '.join(facts)})"


def render_grounding(grounding: list[Grounding], note: str) -> None:
    """What the LLM Designer was given from the library, and why not more."""
    if grounding:
        err.print("grounded on:")
        for g in grounding:
            err.print(f"  {describe_grounding(g)}", markup=False)
    if note:
        err.print(f"grounding: {note}", markup=False)


def render_related(related: list[Related]) -> None:
    if related:
        err.print("similar prompts:")
        for rel in related:
            err.print(f"  {describe_related(rel)}", markup=False)


def render_diff(original: str, optimized: str) -> None:
    """A unified diff of the prompt, coloured on a terminal (stdout: it pipes to a pager)."""
    lines = difflib.unified_diff(
        original.splitlines(), optimized.splitlines(), "original", "optimized", lineterm=""
    )
    for line in lines:
        style = (
            "bold"
            if line.startswith(("---", "+++"))
            else "cyan"
            if line.startswith("@@")
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else None
        )
        out.print(Text(line, style=style or ""))


def render_estimate(e: api.EstimateResult) -> None:
    if e.engine == "offline":
        out.print("offline engine: no provider calls, costs $0.00")
        return
    out.print(
        f"{e.engine} · {e.model}: {e.calls} calls, ~{e.input_tokens:,} input tokens, "
        f"up to {e.max_output_tokens:,} output tokens"
    )
    out.print(f"estimated {usd(e.estimated_usd)}, at most {usd(e.worst_case_usd)}")


def _render_evaluations(evals: list[api.EvalSummary]) -> None:
    """The ``promptd eval`` runs of an optimization (``show ID``), with the judge's reasons."""
    table = Table(title="evaluations (promptd eval)", box=None, title_justify="left")
    for col in ("eval", "when", "win/tie/loss", "win rate (95%)", "models", "cost", "status"):
        table.add_column(col)
    for e in evals:
        status = e.status + (f": {e.stopped_reason}" if e.stopped_reason else "")
        table.add_row(
            e.eval_id,
            e.at,
            f"{e.wins}/{e.ties}/{e.losses}" + (" (drafted inputs)" if e.drafted else ""),
            f"{e.score:.0%} ({e.low:.0%}-{e.high:.0%})",
            e.target_model
            if e.judge_model == e.target_model
            else f"{e.target_model}, judge {e.judge_model}",
            usd(e.cost_usd),
            Text(status, style="" if e.status == "completed" else "yellow"),
        )
    out.print(table)
    for e in evals:
        for reason in e.reasons:
            out.print(Text(f"  {e.eval_id} sample {reason}"))
