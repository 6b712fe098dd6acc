"""What the dashboard's sections show, built from a :class:`StoreView` (pure reads).

Each function returns plain data (dicts, lists, numbers) that the web layer encodes as
JSON; the page draws exactly these numbers and keeps them in the DOM (``data-*``), so the
browser tests compare what was drawn with ``promptd costs --json``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from .. import api
from ..config import Config
from ..errors import RPCError
from ..events import TAGS, Record, event_tag
from ..inbox.formats import error_name
from ..projections import HistoryEntry, StoreView
from ..server import queries
from ..values import ticks_to_usd

SOURCES = {"lsp": "editor", "cli": "CLI", "inbox": "inbox", "batch": "batch", "api": "API"}
_MAX_TEXT = 4000  # longest string an audit row shows of one field


def _days(first: str, last: str) -> list[str]:
    """Every day from ``first`` to ``last`` (``YYYY-MM-DD``), both included."""
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def _span(days: Iterable[str], today: str, at_least: int = 14) -> list[str]:
    """A continuous run of days covering ``days`` and ending today (at least ``at_least``)."""
    first = min(days, default=today)
    floor = (dt.date.fromisoformat(today) - dt.timedelta(days=at_least - 1)).isoformat()
    return _days(min(first, floor), max(today, max(days, default=today)))


# --- overview ------------------------------------------------------------------------------


def spend(view: StoreView, config: Config, today: str) -> dict[str, Any]:
    """Spend per day (the budget projection's local days, as ``promptd costs``), the budgets,
    the alert threshold and the 30-day forecast drawn on after today."""
    info = queries.budget_info(view, config)
    rows = {day: s.ticks for day, s in view.budget.by_day()}
    days = _span(rows, today)
    forecast = queries.forecast_usd(view)
    per_day = forecast / 30 if forecast else 0.0
    ahead = [
        (dt.date.fromisoformat(today) + dt.timedelta(days=i)).isoformat() for i in range(1, 31)
    ]
    daily = info.daily_budget_usd
    return {
        "today_usd": info.today_usd,
        "month_usd": info.month_usd,
        "daily_budget_usd": daily,
        "monthly_budget_usd": info.monthly_budget_usd,
        "alert_pct": info.alert_pct,
        "alert_usd": None if daily is None else daily * info.alert_pct / 100,
        "forecast_30d_usd": forecast,
        "days": days + ahead,
        "spend_usd": [ticks_to_usd(rows.get(d, 0)) for d in days] + [None] * len(ahead),
        "forecast_usd": [None] * (len(days) - 1)
        + [ticks_to_usd(rows.get(today, 0))]
        + [per_day] * len(ahead),
    }


def optimizations(view: StoreView, today: str) -> dict[str, Any]:
    """Optimizations per UTC day, one series per source and one per engine."""
    rows = view.analytics.optimizations_by_day()
    days = _span({r.day for r in rows}, today)
    index = {d: i for i, d in enumerate(days)}
    by_source: dict[str, list[int]] = {}
    by_engine: dict[str, list[int]] = {}
    for r in rows:
        label = SOURCES.get(r.source, r.source)
        by_source.setdefault(label, [0] * len(days))[index[r.day]] += r.completed
        by_engine.setdefault(r.engine, [0] * len(days))[index[r.day]] += r.completed
    failed = view.analytics.failed_by_day()
    return {
        "days": days,
        "by_source": dict(sorted(by_source.items())),
        "by_engine": dict(sorted(by_engine.items())),
        "failed": [failed.get(d, 0) for d in days],
        "total": sum(r.completed for r in rows),
    }


def cache(view: StoreView, today: str) -> dict[str, Any]:
    """Hit rate per cache tier per day (``None`` on days without lookups), money saved."""
    rows = view.analytics.cache_by_day()
    days = _span({r.day for r in rows}, today)
    index = {d: i for i, d in enumerate(days)}
    rates: dict[str, list[float | None]] = {}
    totals: dict[str, list[int]] = {}
    saved = 0
    for r in rows:
        series = rates.setdefault(r.cache, [None] * len(days))
        lookups = r.hits + r.misses
        series[index[r.day]] = round(r.hits / lookups, 4) if lookups else None
        t = totals.setdefault(r.cache, [0, 0])
        t[0] += r.hits
        t[1] += r.misses
        saved += r.saved_ticks
    return {
        "days": days,
        "hit_rate": dict(sorted(rates.items())),
        "tiers": {
            name: {"hits": h, "misses": m, "rate": round(h / (h + m), 4) if h + m else None}
            for name, (h, m) in sorted(totals.items())
        },
        "saved_usd": ticks_to_usd(saved),
    }


def alerts(view: StoreView, config: Config, day: str, month: str) -> list[dict[str, Any]]:
    """The budget alerts of the local ``day`` and ``month`` (the ones in force): which
    budget, its threshold, what was spent of what, when it was sent and when it resets."""
    from ..events import BudgetAlert
    from ..providers.budget_rules import alert_text

    pct = queries.budget_info(view, config).alert_pct
    out = []
    for period, key in (("day", day), ("month", month)):
        sent = view.budget.alert(period, key, pct)
        rec = view.record(sent.seq) if sent is not None else None
        if rec is None or not isinstance(rec.event, BudgetAlert):
            continue
        ev = rec.event
        out.append(
            {
                "seq": rec.seq,
                "period": ev.period,
                "period_key": ev.period_key,
                "threshold_pct": ev.threshold_pct,
                "spent_usd": ticks_to_usd(ev.spent_ticks),
                "reserved_usd": ticks_to_usd(ev.reserved_ticks),
                "budget_usd": ticks_to_usd(ev.budget_ticks),
                "at": queries.iso(rec.ts_ns),
                "reset_at": ev.reset_at,
                "text": alert_text(ev),
            }
        )
    return out


def _rate(row: Any) -> dict[str, Any]:
    rate = row.rate
    return {
        "key": row.key,
        "kept": row.kept,
        "rejected": row.rejected,
        "rate": None if rate is None else round(rate, 4),
    }


def acceptance(view: StoreView, utc_today: str) -> dict[str, Any]:
    """How often the author keeps a rewrite: overall, by engine, by prompt type, by day."""
    by_engine = view.analytics.acceptance("engine")
    kept = sum(r.kept for r in by_engine)
    rejected = sum(r.rejected for r in by_engine)
    by_day = {r.key: r for r in view.analytics.acceptance("day")}
    days = _span(by_day, utc_today) if by_day else []
    return {
        "kept": kept,
        "rejected": rejected,
        "rate": round(kept / (kept + rejected), 4) if kept + rejected else None,
        "by_engine": [_rate(r) for r in by_engine],
        "by_type": [_rate(r) for r in view.analytics.acceptance("type")],
        "days": days,
        "rate_by_day": [None if d not in by_day else _rate(by_day[d])["rate"] for d in days],
    }


def overview(
    view: StoreView, config: Config, provider: api.ProviderStatus, today: str, utc_today: str
) -> dict[str, Any]:
    """Everything the Overview section draws. ``today`` is the local day (spend is booked
    on local days), ``utc_today`` the UTC one (the analytics' days)."""
    return {
        "last_seq": view.last_seq(),
        "alerts": alerts(view, config, today, today[:7]),
        "acceptance": acceptance(view, utc_today),
        "spend": spend(view, config, today),
        "optimizations": optimizations(view, utc_today),
        "cache": cache(view, utc_today),
        "scores": {
            "by_type": [msgspec.to_builtins(s) for s in view.analytics.scores_by_type()],
            "by_day": [msgspec.to_builtins(s) for s in view.analytics.scores_by_day()],
        },
        "findings": [{"code": c, "count": n} for c, n in view.analytics.findings(10)],
        "provider": {
            "name": provider.name,
            "model": provider.model,
            "circuit": provider.circuit,
            "models": [
                {**msgspec.to_builtins(m), "error_rate": round(m.error_rate, 4)}
                for m in view.analytics.models()
            ],
        },
    }


# --- history -------------------------------------------------------------------------------


class HistoryQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The History section's search and filters (from the query string)."""

    q: str = ""
    type: str = ""
    engine: str = ""
    source: str = ""
    since: str = ""  # YYYY-MM-DD, included
    until: str = ""  # YYYY-MM-DD, included
    tz: int = 0  # the days' UTC offset in minutes (the browser's: -getTimezoneOffset())
    limit: int = 50


def _row(view: StoreView, e: HistoryEntry) -> dict[str, Any]:
    verdict = view.analytics.verdict(e.opt_id)
    return {
        "id": e.opt_id,
        "at": queries.iso(e.done_ts_ns or e.ts_ns),
        "status": e.status,
        "prompt_type": e.prompt_type,
        "engine": e.engine,
        "model": e.model,
        "source": e.source,
        "preview": e.preview,
        "score_before": e.score_before,
        "score_after": e.score_after,
        "cost_usd": ticks_to_usd(e.cost_ticks),
        "cached": e.cached,
        "degraded": e.degraded,
        "error": e.error,
        "verdict": verdict.verdict if verdict is not None else "",
    }


def _day_ns(day: str, tz_minutes: int, *, end: bool) -> int:
    """When ``day`` starts (or, ``end``, when it ends) at UTC offset ``tz_minutes``, in ns."""
    date = dt.date.fromisoformat(day) + dt.timedelta(days=1 if end else 0)
    zone = dt.timezone(dt.timedelta(minutes=max(-1440, min(1440, tz_minutes))))
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=zone).timestamp()) * 10**9


def history(view: StoreView, query: HistoryQuery) -> dict[str, Any]:
    """The newest optimizations that match, at most ``limit``; ``more`` if others match."""
    limit = max(1, min(query.limit, 1000))
    text = query.q.strip().casefold()
    since = _day_ns(query.since, query.tz, end=False) if query.since else 0
    until = _day_ns(query.until, query.tz, end=True) if query.until else 0
    rows: list[dict[str, Any]] = []
    more = False
    for e in view.history.newest():
        if until and e.ts_ns >= until:
            continue
        if since and e.ts_ns < since:
            break  # newest first: all the rest are older
        if query.type and e.prompt_type != query.type:
            continue
        if query.engine and e.engine != query.engine:
            continue
        if query.source and e.source != query.source:
            continue
        if text and not _matches(view, e, text):
            continue
        if len(rows) >= limit:
            more = True
            break
        rows.append(_row(view, e))
    return {"items": rows, "more": more, "last_seq": view.last_seq()}


def _matches(view: StoreView, e: HistoryEntry, text: str) -> bool:
    if text in e.preview.casefold() or e.opt_id.startswith(text):
        return True
    asked = view.history.requested(e.opt_id)
    if asked is not None and text in asked.prompt.casefold():
        return True
    done = view.history.completed(e.opt_id)
    return done is not None and (
        text in done.original.casefold() or text in done.optimized.casefold()
    )


def diff_lines(before: str, after: str) -> list[dict[str, str]]:
    """A line diff: ``{"op": "equal"|"delete"|"insert", "text": line}`` in reading order."""
    a, b = before.splitlines(), after.splitlines()
    out: list[dict[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out += [{"op": "equal", "text": line} for line in a[i1:i2]]
            continue
        out += [{"op": "delete", "text": line} for line in a[i1:i2]]
        out += [{"op": "insert", "text": line} for line in b[j1:j2]]
    return out


def detail(view: StoreView, opt_id: str) -> dict[str, Any]:
    """One optimization: the diff, each change with its reason, the steps, the calls."""
    entry = view.history.get(opt_id)
    if entry is None:
        raise RPCError(api.NOT_FOUND, f"no optimization with id {opt_id!r}")
    if entry.status != "completed":
        failure = view.history.failure(opt_id)
        asked = view.history.requested(opt_id)
        return {
            "row": _row(view, entry),
            "original": asked.prompt if asked is not None else "",
            "error": failure.message if failure is not None else "it has not finished yet",
        }
    verdict = view.analytics.verdict(opt_id)
    shown = queries.show(view, api.ShowParams(id=opt_id))
    opt = shown.optimization
    findings = {f.code: f.message for f in opt.findings}
    return {
        "row": _row(view, entry),
        "original": opt.original,
        "optimized": opt.optimized,
        "diff": diff_lines(opt.original, opt.optimized),
        "changes": [
            {
                "description": c.description,
                "kind": c.kind,
                "reasons": [
                    {"code": code, "message": findings.get(code, "")} for code in c.findings
                ],
            }
            for c in opt.changes
        ],
        "findings": [msgspec.to_builtins(f) for f in opt.findings],
        "unchanged_reason": opt.unchanged_reason,
        "degraded_reason": opt.degraded_reason,
        "steps": [msgspec.to_builtins(s) for s in shown.steps],
        "calls": [msgspec.to_builtins(c) for c in shown.calls],
        "verdict": None
        if verdict is None
        else {
            "verdict": verdict.verdict,
            "at": queries.iso(verdict.ts_ns),
            "why": verdict.why,
            "source": SOURCES.get(verdict.source, verdict.source),
        },
        "evaluations": [msgspec.to_builtins(e) for e in shown.evaluations],
    }


# --- batches -------------------------------------------------------------------------------


def batches(view: StoreView, inbox: Path, limit: int = 50) -> dict[str, Any]:
    """Running batches with progress, the newest finished ones, failed inbox files."""
    entries = view.batches.list()
    running = [b for b in entries if b.status == "running"]
    finished = [b for b in reversed(entries) if b.status != "running"][:limit]

    def row(b: Any) -> dict[str, Any]:
        return {
            "id": b.batch_id,
            "file_name": b.file_name,
            "status": b.status,
            "done": b.done,
            "total": b.count,
            "ok": b.ok,
            "failed": b.failed,
            "cost_usd": ticks_to_usd(b.cost_ticks),
            "started_at": queries.iso(b.started_ts_ns),
            "finished_at": queries.iso(b.finished_ts_ns),
            "output_path": b.output_path,
            "report_path": b.report_path,
            "reason": b.reason,
        }

    return {
        "running": [row(b) for b in running],
        "finished": [row(b) for b in finished],
        "failed_files": failed_files(inbox),
        "last_seq": view.last_seq(),
    }


def failed_files(inbox: Path, limit: int = 100) -> list[dict[str, str]]:
    """Files the inbox refused (``inbox/failed/``), newest first, with their error text."""
    folder = inbox / "failed"
    try:
        names = [p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".error.txt")]
    except OSError:
        return []
    names.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    out = []
    for path in names[:limit]:
        try:
            error = (folder / error_name(path.name)).read_text("utf-8", "replace")[:_MAX_TEXT]
        except OSError:
            error = ""
        out.append({"name": path.name, "error": error.strip()})
    return out


# --- audit ---------------------------------------------------------------------------------


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + f"… ({len(value):,} characters)"
    if isinstance(value, dict):
        return {k: _clip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v) for v in value]
    return value


def audit_row(rec: Record) -> dict[str, Any]:
    fields = msgspec.to_builtins(rec.event)
    if isinstance(fields, dict):
        fields.pop("type", None)
        if isinstance(fields.get("raw"), str):  # an unknown event: its bytes say nothing here
            fields["raw"] = f"({len(fields['raw'])} bytes of an event this version cannot read)"
        if "output" in fields:
            fields["output"] = f"({len(rec.event.output)} bytes)"  # type: ignore[union-attr]
    return {
        "seq": rec.seq,
        "at": queries.iso(rec.ts_ns),
        "kind": event_tag(rec.event),
        "origin": rec.origin,
        "fields": _clip(fields),
    }


def audit(
    read: Callable[[int, int], Iterable[Record]],
    last_seq: int,
    kind: str = "",
    before: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """Events newest first with ``seq < before`` (when given), optionally of one kind.

    ``read(start, end)`` gives the records ``start <= seq < end``. A page looks at 20,000
    records at most; ``next`` is the ``before`` of the next page (0: no more).
    """
    limit = max(1, min(limit, 500))
    seq = min(before - 1, last_seq) if before > 0 else last_seq  # the next one to look at
    rows: list[dict[str, Any]] = []
    scanned = 0
    while seq >= 1 and len(rows) < limit and scanned < 20_000:
        start = max(1, seq - 255)
        for rec in reversed(list(read(start, seq + 1))):
            scanned += 1
            seq = rec.seq - 1
            if kind and event_tag(rec.event) != kind:
                continue
            rows.append(audit_row(rec))
            if len(rows) >= limit:
                break
        else:
            seq = start - 1
    return {
        "items": rows,
        "next": seq + 1 if seq >= 1 else 0,
        "last_seq": last_seq,
        "kinds": sorted(TAGS),
    }


# --- backups -------------------------------------------------------------------------------


def backups(folder: Path) -> dict[str, Any]:
    """The backups on disk (newest first), as ``promptd backup list`` shows them."""
    from ..backup import catalog

    entries, problems = catalog.list_backups(folder)
    return {
        "items": [
            {
                **msgspec.to_builtins(catalog.backup_info(e)),
                "verified_at": e.mark.at if e.mark is not None else None,
                "verify_error": e.mark.reason if e.mark is not None and not e.mark.ok else "",
            }
            for e in reversed(entries)
        ],
        "problems": problems,
    }
