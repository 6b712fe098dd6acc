"""Read-only answers built from a :class:`~promptd.daemon.projections.StoreView`.

The daemon answers ``history``, ``show``, ``costs``, ``budget.get`` and the store part of
``status`` with these functions; the CLI uses the same ones on a read-only LMDB when no
daemon runs (:func:`open_readonly`), so both paths print the same thing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from .. import __version__, api, wire
from ..backup.catalog import list_backups
from ..config import Config
from ..errors import BackupError, RPCError, StoreError
from ..events import AgentStepCompleted, BudgetAlert, OptimizationCompleted, ProviderCallCompleted
from ..paths import Paths
from ..projections import StoreView
from ..values import ticks_to_usd

T = TypeVar("T")


def iso(ts_ns: int | None) -> str | None:
    if not ts_ns:
        return None
    return (
        datetime.fromtimestamp(ts_ns / 1e9, UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def periods(now_s: float | None = None) -> tuple[str, str]:
    """The local day and month spend is booked on (as the providers book it)."""
    t = time.localtime(time.time() if now_s is None else now_s)
    return time.strftime("%Y-%m-%d", t), time.strftime("%Y-%m", t)


def optimize_result(done: OptimizationCompleted, opt_id: str | None = None) -> api.OptimizeResult:
    """``OptimizationCompleted`` as the API shows it (under ``opt_id`` when given)."""
    result = api.result_from_event(done)
    return result if opt_id is None else msgspec.structs.replace(result, id=opt_id)


# --- history / show ------------------------------------------------------------------------


def history(
    view: StoreView, params: api.HistoryParams, prompt_hash: str | None = None
) -> api.HistoryResult:
    limit = max(1, min(params.limit, 10_000))
    wanted = prompt_hash or params.prompt_hash
    entries = (
        view.history.by_prompt_hash(wanted, limit)
        if wanted
        else view.history.recent(limit, status="completed")
    )
    items = [
        api.HistoryItem(
            id=e.opt_id,
            at=iso(e.done_ts_ns or e.ts_ns) or "",
            prompt_type=e.prompt_type,
            engine=e.engine,
            model=e.model,
            score_before=max(e.score_before, 0),
            score_after=max(e.score_after, 0),
            cost_usd=ticks_to_usd(e.cost_ticks),
            cached=e.cached,
            degraded=e.degraded,
            source=e.source,
            preview=e.preview,
        )
        for e in entries
        if e.status == "completed"
    ]
    return api.HistoryResult(items=items)


def show(view: StoreView, params: api.ShowParams) -> api.ShowResult:
    wanted = params.id.strip()
    entry = view.history.get(wanted) if wanted else None
    if entry is None and wanted:
        matches = view.history.match(wanted, limit=2)
        if len(matches) > 1:
            raise RPCError(
                wire.NOT_FOUND,
                f"{wanted!r} matches several optimizations; give "
                "more of the id (promptd history shows them)",
            )
        entry = matches[0] if matches else None
    if entry is None:
        raise RPCError(
            wire.NOT_FOUND, f"no optimization with id {wanted!r}; `promptd history` lists them"
        )
    opt_id = entry.opt_id
    done = view.history.completed(opt_id)
    if done is None:
        failure = view.history.failure(opt_id)
        reason = f"it failed: {failure.message}" if failure is not None else "it has not finished"
        raise RPCError(wire.NOT_FOUND, f"optimization {opt_id} has no result: {reason}")
    steps = [
        api.StepInfo(
            agent=ev.agent,
            attempt=ev.attempt,
            duration_ms=ev.duration_us / 1000,
            summary=ev.summary,
            model=ev.model,
        )
        for rec in view.history.steps(opt_id)
        if isinstance(ev := rec.event, AgentStepCompleted)
    ]
    calls = [
        api.CallInfo(
            agent=ev.agent,
            model=ev.model,
            prompt_tokens=ev.prompt_tokens,
            cached_tokens=ev.cached_tokens,
            completion_tokens=ev.completion_tokens,
            reasoning_tokens=ev.reasoning_tokens,
            latency_ms=ev.latency_ms,
            cost_usd=ticks_to_usd(ev.cost_ticks),
            ok=ev.ok,
        )
        for rec in view.history.calls(opt_id)
        if isinstance(ev := rec.event, ProviderCallCompleted)
    ]
    return api.ShowResult(
        optimization=optimize_result(done, opt_id),
        at=iso(entry.done_ts_ns or entry.ts_ns) or "",
        source=entry.source,
        steps=steps,
        calls=calls,
        evaluations=evaluations(view, opt_id),
    )


def evaluations(view: StoreView, opt_id: str) -> list[api.EvalSummary]:
    """The ``promptd eval`` runs of an optimization, oldest first."""
    out = []
    for seq, ev in view.evaluations.of(opt_id):
        rec = view.record(seq)
        out.append(
            api.EvalSummary(
                eval_id=ev.eval_id,
                at=(iso(rec.ts_ns) if rec is not None else None) or "",
                status=ev.status,
                target_model=ev.target_model,
                judge_model=ev.judge_model,
                drafted=ev.drafted,
                wins=ev.wins,
                ties=ev.ties,
                losses=ev.losses,
                score=ev.score,
                low=ev.low,
                high=ev.high,
                cost_usd=ticks_to_usd(ev.cost_ticks),
                stopped_reason=ev.stopped_reason,
                reasons=[
                    f"{v.index + 1} {v.verdict}: " + " / ".join(v.reasons[:2]) for v in ev.verdicts
                ],
            )
        )
    return out


# --- costs / budget ------------------------------------------------------------------------


def forecast_usd(view: StoreView) -> float:
    """The 30-day forecast; 0 with no spend at all (then the providers are not imported)."""
    rows = [(day, spend.ticks) for day, spend in view.budget.by_day() if spend.ticks]
    if not rows:
        return 0.0
    from ..providers.forecast import forecast  # a heavy package: only when there is spend

    return ticks_to_usd(forecast(rows).forecast_30d_ticks)


def costs(view: StoreView) -> api.CostsResult:
    day, month = periods()
    budget = view.budget

    def rows(pairs: list[tuple[str, Any]]) -> list[api.CostRow]:
        return [api.CostRow(key=k, cost_usd=ticks_to_usd(s.ticks), calls=s.calls) for k, s in pairs]

    by_day = rows(budget.by_day())[-31:]
    by_day.reverse()
    by_model = sorted(rows(budget.by_model()), key=lambda r: -r.cost_usd)
    by_source = sorted(rows(budget.by_source()), key=lambda r: -r.cost_usd)
    return api.CostsResult(
        today_usd=ticks_to_usd(budget.spent(day=day)),
        month_usd=ticks_to_usd(budget.spent(month=month)),
        total_usd=ticks_to_usd(budget.total().ticks),
        forecast_30d_usd=forecast_usd(view),
        by_day=by_day,
        by_model=by_model,
        by_source=by_source,
        tokens=budget.tokens(),
    )


def budget_info(view: StoreView, config: Config) -> api.BudgetInfo:
    """Limits recorded with ``promptd budget`` win over config.toml's."""
    day, month = periods()
    budget = view.budget
    stored = budget.settings()
    if stored.seq > 0:
        daily = None if stored.daily_ticks is None else ticks_to_usd(stored.daily_ticks)
        monthly = None if stored.monthly_ticks is None else ticks_to_usd(stored.monthly_ticks)
        pct = stored.alert_pct
    else:
        daily, monthly, pct = (
            config.budget.daily_usd,
            config.budget.monthly_usd,
            config.budget.alert_pct,
        )
    return api.BudgetInfo(
        daily_budget_usd=daily,
        monthly_budget_usd=monthly,
        alert_pct=pct,
        today_usd=ticks_to_usd(budget.spent(day=day)),
        month_usd=ticks_to_usd(budget.spent(month=month)),
        reserved_usd=ticks_to_usd(budget.reserved()),
    )


# --- status --------------------------------------------------------------------------------


def inbox_pending(paths: Paths) -> int:
    """Regular files waiting in the inbox (temporary and hidden names do not count)."""
    from ..inbox.stability import is_temporary  # the watcher's own rule, so both agree

    try:
        with os.scandir(paths.inbox) as it:
            return sum(
                1 for e in it if e.is_file(follow_symlinks=False) and not is_temporary(e.name)
            )
    except OSError:
        return 0


def _inbox_status(paths: Paths, view: StoreView) -> api.InboxStatus:
    from ..inbox.failures import failed_summary

    failed, errors = failed_summary(paths.inbox)
    return api.InboxStatus(
        path=str(paths.inbox),
        pending=inbox_pending(paths),
        batches=batch_infos(view),
        failed=failed,
        errors=errors,
    )


def batch_infos(view: StoreView) -> list[api.BatchInfo]:
    now = time.time_ns()
    out = []
    for b in view.batches.running():
        elapsed = max((now - b.started_ts_ns) / 1e9, 1e-3) if b.started_ts_ns else 0.0
        rate = b.done / elapsed if elapsed else 0.0
        eta = (b.count - b.done) / rate if rate > 0 else None
        out.append(
            api.BatchInfo(
                id=b.batch_id,
                file_name=b.file_name,
                done=b.done,
                total=b.count,
                rate_per_s=round(rate, 2),
                eta_s=None if eta is None else round(eta, 1),
                cost_usd=ticks_to_usd(b.cost_ticks),
                state=b.status,
                output_path=b.output_path,
                reason=b.reason,
            )
        )
    return out


def backups_on_disk(paths: Paths) -> tuple[int | None, int]:
    """How many backups ``backup list`` shows and when the newest was taken (ns; 0: none).

    The folder, not the ``backups`` projection: a restore rewinds the log to before the
    newer backups were made, but they stay on disk. ``(None, 0)`` when it cannot be listed.
    """
    try:
        entries, _ = list_backups(paths.backups)
    except BackupError:
        return None, 0
    return len(entries), entries[-1].manifest.created_ns if entries else 0


def status(
    view: StoreView,
    config: Config,
    paths: Paths,
    *,
    running: bool,
    pid: int | None,
    events_bytes: int,
    provider: api.ProviderStatus,
    uptime_s: float | None = None,
    next_backup_at: str | None = None,
    in_flight: int = 0,
) -> api.StatusResult:
    info = budget_info(view, config)
    alert_items = budget_alert_items(view, config)
    stats = view.stats
    all_rate = stats.hit_rate()
    summary = view.backups.summary()
    count, last_ns = backups_on_disk(paths)
    if count is None:
        count, last_ns = view.backups.count(), summary.last_ts_ns
    failed_last = summary.last_failure_ts_ns > last_ns
    return api.StatusResult(
        running=running,
        pid=pid,
        version=__version__,
        home=paths.display_home,
        engine=config.engine_name(),
        provider=provider,
        events=api.EventsStatus(count=stats.events(), last_seq=view.last_seq(), bytes=events_bytes),
        cache=api.CacheStatus(
            entries=view.cache.entries(),
            hit_rate=round(all_rate or 0.0, 4),
            tiers=cache_tiers(view, config),
        ),
        spend=api.SpendStatus(
            today_usd=info.today_usd,
            month_usd=info.month_usd,
            daily_budget_usd=info.daily_budget_usd,
            monthly_budget_usd=info.monthly_budget_usd,
            forecast_30d_usd=forecast_usd(view),
            reserved_usd=info.reserved_usd,
            alerts=[a.text for a in alert_items],
            alert_items=alert_items,
        ),
        backups=api.BackupsStatus(
            count=count,
            last_at=iso(last_ns),
            next_at=next_backup_at,
            last_error=summary.last_failure if failed_last else "",
        ),
        inbox=_inbox_status(paths, view),
        uptime_s=uptime_s,
        socket=str(paths.socket),
        log_file=str(paths.log_file),
        optimizations=stats.optimizations()["completed"],
        in_flight=in_flight,
    )


def cache_tiers(view: StoreView, config: Config) -> dict[str, api.CacheTier]:
    """Hits, misses, hit rate and TTL of each cache tier."""
    ttls = {
        "response": config.cache.response_ttl_s,
        "optimization": config.cache.optimization_ttl_s,
        "lint": config.cache.lint_ttl_s,
    }
    rates = view.stats.caches()
    out = {}
    for name, ttl in ttls.items():
        rate = rates.get(name)
        hits, misses = (rate.hits, rate.misses) if rate else (0, 0)
        share = hits / (hits + misses) if hits + misses else 0.0
        out[name] = api.CacheTier(hits=hits, misses=misses, hit_rate=round(share, 4), ttl_s=ttl)
    return out


def budget_alerts(view: StoreView, config: Config, since: int = 0) -> list[str]:
    """The budget alerts of today and this month (recorded after ``since``), as people read
    them."""
    return [item.text for item in budget_alert_items(view, config, since)]


def budget_alert_items(view: StoreView, config: Config, since: int = 0) -> list[api.AlertInfo]:
    """The budget alerts of today and this month (recorded after ``since``), with their ids."""
    from ..providers.budget_rules import config_limits, periods
    from ..providers.ports import budget_state

    day, month = periods()
    state = budget_state(view, config_limits(config.budget), day, month)
    out = []
    for period, key in (("day", day), ("month", month)):
        sent = view.budget.alert(period, key, state.alert_pct)
        rec = view.record(sent.seq) if sent is not None and sent.seq > since else None
        if rec is not None and isinstance(rec.event, BudgetAlert):
            out.append(alert_info(rec.event))
    return out


def alert_info(ev: BudgetAlert) -> api.AlertInfo:
    """A recorded ``BudgetAlert`` as clients get it (``status``, pushed notices)."""
    from ..providers.budget_rules import alert_text

    return api.AlertInfo(
        id=api.alert_id(ev.period, ev.period_key, ev.threshold_pct),
        period=ev.period,
        period_key=ev.period_key,
        threshold_pct=ev.threshold_pct,
        spent_usd=ticks_to_usd(ev.spent_ticks),
        budget_usd=ticks_to_usd(ev.budget_ticks),
        reset_at=ev.reset_at,
        text=alert_text(ev),
    )


def provider_status(config: Config, circuit: str = "closed") -> api.ProviderStatus:
    kind = config.provider_kind()
    return api.ProviderStatus(
        name=kind, model="" if kind == "offline" else config.provider.model, circuit=circuit
    )


# --- the read-only path (no daemon) ----------------------------------------------------------


class ReadOnly:
    """Answers the read-only methods from an LMDB opened read-only (no daemon running)."""

    def __init__(self, log: Any, paths: Paths, config: Config) -> None:
        self.log = log
        self.paths = paths
        self.config = config

    def answer(self, method: str, params: Any, result_type: type[T]) -> T:
        with self.log.view() as view:
            if method == "history":
                result: Any = history(view, params)
            elif method == "show":
                result = show(view, params)
            elif method == "costs":
                result = costs(view)
            elif method == "budget.get":
                result = budget_info(view, self.config)
            else:
                raise ValueError(f"{method} needs the daemon")
        return msgspec.convert(result, result_type, from_attributes=True)

    def status(self) -> api.StatusResult:
        with self.log.view() as view:
            return status(
                view,
                self.config,
                self.paths,
                running=False,
                pid=None,
                events_bytes=self.log.size_bytes(),
                provider=provider_status(self.config),
            )


@contextmanager
def open_readonly(paths: Paths, config: Config) -> Iterator[ReadOnly]:
    """The event log opened read-only; an empty in-memory log when there is none yet."""
    from ..projections import memory_log, open_log

    try:
        log: Any = open_log(paths.events, config.cache, readonly=True)
    except StoreError:
        if (paths.events / "data.mdb").exists():
            raise
        log = memory_log(config.cache)
    try:
        yield ReadOnly(log, paths, config)
    finally:
        log.close()


def offline_status(paths: Paths, config: Config) -> api.StatusResult:
    """``promptd status`` when no daemon runs: what the log says."""
    with open_readonly(paths, config) as reader:
        return reader.status()
