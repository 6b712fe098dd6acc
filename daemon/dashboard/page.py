"""The Overview section as HTML, made on the daemon: what the first screen shows.

``GET /`` streams the page's template up to the overview at once (so the browser asks for
the style sheet and the script while the numbers are read), then :func:`overview_html`, then
the rest. The first paint is the whole first screen: the tiles, the charts (SVG, by
:mod:`.charts`), the tables, with no script to run first. When a live event touches the
overview the page asks ``/api/overview.html`` for the same HTML and puts it in place.

Every text from the log is escaped. Each chart and table keeps the numbers it shows in
``data-chart`` (JSON), so the browser tests compare what was drawn with ``promptd costs
--json``. Money reads ``$1,234.56`` (``$0.0042`` under a cent), times are the daemon's local
time: the page and the daemon run on the same machine.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from .. import values
from . import charts

MARK = "<!--overview-->"  # where the template takes the overview


def split(template: str) -> tuple[bytes, bytes]:
    """The template before and after the overview's place."""
    head, found, tail = template.partition(MARK)
    if not found:
        raise ValueError(f"the dashboard's index.html has no {MARK}")
    return head.encode(), tail.encode()


# --- how numbers read ----------------------------------------------------------------------


def fixed(value: float, places: int) -> str:
    """``value`` with ``places`` decimals, halves away from zero."""
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), "f")


def usd(value: float | None) -> str:
    """Money as the CLI shows it (:func:`promptd.daemon.values.usd`), ``–`` for none."""
    return values.usd(value, none="–")


def count(n: int) -> str:
    """A whole number with "," between thousands."""
    return f"{n:,}"


def pct(rate: float | None) -> str:
    """A rate of 0..1 as a whole percentage, ``–`` for none."""
    return "–" if rate is None else fixed(100 * rate, 0) + "%"


def when(iso: str | None) -> str:
    """An ISO time as the daemon's local time: ``Dec 3, 2026, 14:05``."""
    if not iso:
        return ""
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone()
    return f"{t:%b} {t.day}, {t.year}, {t:%H:%M}"


# --- HTML ----------------------------------------------------------------------------------

_e = html.escape


def _json(value: Any) -> str:
    """``value`` as JSON, for a ``data-chart`` attribute (:func:`_tag` escapes it)."""
    return msgspec.json.encode(value).decode()


def _tag(name: str, body: str = "", **attrs: Any) -> str:
    """``<name attrs>body</name>``; ``body`` is HTML, attribute values are escaped here
    (``class_`` is ``class``, ``data_x`` is ``data-x``; None and False leave one out)."""
    shown = "".join(
        f" {k.rstrip('_').replace('_', '-')}" + ("" if v is True else f'="{_e(str(v))}"')
        for k, v in attrs.items()
        if v is not None and v is not False
    )
    return f"<{name}{shown}>{body}</{name}>"


def _text(name: str, text: str, **attrs: Any) -> str:
    return _tag(name, _e(text), **attrs)


def _bar(percent: float, cls: str = "") -> str:
    # a bar's width is an SVG rect's attribute: the CSP allows no inline style attribute
    width = fixed(max(0.0, min(100.0, percent)), 1)
    return (
        f'<svg class="{f"bar {cls}".strip()}" viewBox="0 0 100 10" preserveAspectRatio="none">'
        f'<rect width="{width}" height="10"/></svg>'
    )


def _empty(text: str) -> str:
    return _tag("tr", _text("td", text, class_="empty"))


def _against(spent: float, budget: float | None) -> tuple[str, str]:
    if budget is None:
        return "no budget set", ""
    share = (100 * spent) / budget if budget > 0 else 100.0
    return f"of {usd(budget)} ({fixed(share, 0)}%)", (
        "over" if share >= 100 else "near" if share >= 80 else ""
    )


def tiles(o: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The overview's tiles: (label, value, sub line, class of the value) each."""
    s = o["spend"]
    day_sub, day_cls = _against(s["today_usd"], s["daily_budget_usd"])
    month_sub, month_cls = _against(s["month_usd"], s["monthly_budget_usd"])
    tier = o["cache"]["tiers"].get("optimization")
    hit = (
        f"optimization hit rate {pct(tier['rate'])}"
        if tier and tier["rate"] is not None
        else "no lookups yet"
    )
    p = o["provider"]
    circuit = p["circuit"]
    return [
        ("Spent today", usd(s["today_usd"]), day_sub, day_cls),
        ("Spent this month", usd(s["month_usd"]), month_sub, month_cls),
        ("Forecast, next 30 days", usd(s["forecast_30d_usd"]), "at the recent daily rate", ""),
        ("Saved by the cache", usd(o["cache"]["saved_usd"]), hit, ""),
        ("Optimizations", count(o["optimizations"]["total"]), "completed, all time", ""),
        (
            "Provider",
            p["name"],
            (p["model"] + " · " if p["model"] else "") + "breaker " + circuit,
            "over" if circuit == "open" else "near" if circuit == "half_open" else "",
        ),
    ]


def _cards(o: dict[str, Any]) -> str:
    return "".join(
        _tag(
            "div",
            _text("div", label, class_="label")
            + _text("div", value, class_=f"value {cls}".strip())
            + _text("div", sub, class_="sub"),
            class_="card",
        )
        for label, value, sub, cls in tiles(o)
    )


def _alerts(rows: list[dict[str, Any]]) -> str:
    """The budget alerts in force (today's, this month's): a calm line each, not a siren."""
    out = []
    for a in rows:
        held = f" (+ {usd(a['reserved_usd'])} held)" if a["reserved_usd"] else ""
        line = (
            f" · {usd(a['spent_usd'])}{held} of {usd(a['budget_usd'])} for {a['period_key']}"
            f" · alert sent {when(a['at'])}"
            + (f" · resets {when(a['reset_at'])}" if a["reset_at"] else "")
        )
        period = "Daily" if a["period"] == "day" else "Monthly"
        head = _text("strong", f"{period} budget at {a['threshold_pct']}%")
        out.append(_tag("p", head + _e(line), class_="alert", data_period=a["period"]))
    return _tag(
        "div",
        "".join(out),
        id="alerts",
        class_="alerts",
        role="status",
        hidden=not rows,
        data_chart=_json(rows),
    )


def _chart(
    node_id: str,
    days: list[str],
    series: list[charts.Series],
    *,
    width: int,
    y_format: Callable[[float], str] = str,
    y_range: tuple[float, float] | None = None,
    whole: bool = False,
) -> str:
    drawn = {"days": days, "series": {s.label: list(s.values) for s in series}}
    body = (
        charts.line(days, series, width=width, y_format=y_format, y_range=y_range, whole=whole)
        if series and days
        else _text("p", "Nothing yet.", class_="empty")
    )
    return _tag("div", body, class_="chart", id=node_id, data_chart=_json(drawn))


def _spend_chart(s: dict[str, Any]) -> str:
    series = [
        charts.Series("spend", s["spend_usd"]),
        charts.Series("forecast", s["forecast_usd"]),
    ]
    if s["alert_usd"] is not None:
        label = f"alert ({s['alert_pct']}% of daily budget)"
        series.append(charts.Series(label, [s["alert_usd"]] * len(s["days"])))
    if s["daily_budget_usd"] is not None:
        series.append(charts.Series("daily budget", [s["daily_budget_usd"]] * len(s["days"])))
    return _chart("chart-spend", s["days"], series, width=1200, y_format=usd)


def _counts(node_id: str, days: list[str], by: dict[str, list[int]]) -> str:
    series = [charts.Series(label, values) for label, values in by.items()]
    return _chart(node_id, days, series, width=400, y_format=lambda v: count(round(v)), whole=True)


def _cache_chart(c: dict[str, Any]) -> str:
    series = [charts.Series(tier, values) for tier, values in c["hit_rate"].items()]
    return _chart("chart-cache", c["days"], series, width=400, y_format=pct, y_range=(0, 1))


def _scores(rows: list[dict[str, Any]]) -> str:
    body = "".join(
        _tag(
            "tr",
            _text("td", r["key"])
            + _text("td", f"{fixed(r['before'], 0)} → {fixed(r['after'], 0)}", class_="num")
            + _tag("td", _bar(r["before"]) + _bar(r["after"], "after"), class_="barcell")
            + _text("td", f"{r['count']}×", class_="num muted"),
        )
        for r in rows
    )
    return _table("scores", rows, body or _empty("No scored optimizations yet."))


def _table(node_id: str, drawn: Any, body: str) -> str:
    return _tag("table", body, class_="bars", id=node_id, data_chart=_json(drawn))


def _acceptance(a: dict[str, Any]) -> str:
    drawn = _json(a)
    if not a["kept"] + a["rejected"]:
        hint = (
            "No verdicts yet: `promptd keep ID` or `promptd reject ID`, "
            "or keep an edit in the editor."
        )
        return _tag("div", _text("p", hint, class_="empty"), id="acceptance", data_chart=drawn)
    head = _tag(
        "p",
        _text("strong", pct(a["rate"]), id="acceptance-rate")
        + _e(f" of rewrites kept ({count(a['kept'])} kept, {count(a['rejected'])} rejected)"),
        class_="headline",
    )

    def rows(label: str, items: Iterable[dict[str, Any]]) -> str:
        return "".join(
            _tag(
                "tr",
                _text("td", label, class_="muted")
                + _text("td", r["key"])
                + _tag("td", _bar(100 * (r["rate"] or 0), "kept"), class_="barcell")
                + _text("td", pct(r["rate"]), class_="num")
                + _text("td", f"{r['kept']}/{r['kept'] + r['rejected']}", class_="num muted"),
                data_key=f"{label}:{r['key']}",
            )
            for r in items
        )

    seen = [(d, v) for d, v in zip(a["days"], a["rate_by_day"], strict=True) if v is not None]
    trend = (
        _text(
            "p", "by day: " + " · ".join(f"{d[5:]} {pct(v)}" for d, v in seen[-7:]), class_="muted"
        )
        if len(a["days"]) > 1 and len(seen) > 1
        else ""
    )
    table = _tag(
        "table", rows("engine", a["by_engine"]) + rows("type", a["by_type"]), class_="bars"
    )
    return _tag("div", head + table + trend, id="acceptance", data_chart=drawn)


def _findings(rows: list[dict[str, Any]]) -> str:
    top = rows[0]["count"] if rows else 1
    body = "".join(
        _tag(
            "tr",
            _text("td", r["code"], class_="code")
            + _tag("td", _bar(100 * r["count"] / top, "plain"))
            + _text("td", count(r["count"]), class_="num"),
        )
        for r in rows
    )
    return _table("findings", rows, body or _empty("No findings yet."))


def _provider(p: dict[str, Any]) -> str:
    circuit = _text("strong", p["circuit"], class_="ok" if p["circuit"] == "closed" else "bad")
    head = _tag(
        "p",
        "Breaker " + circuit + _e(f" · {p['name']}" + (f" · {p['model']}" if p["model"] else "")),
    )
    if not p["models"]:
        none = "No provider calls yet (the offline engine makes none)."
        body = _text("p", none, class_="empty")
    else:
        heads = "".join(
            _text("th", h, class_="num" if i else None)
            for i, h in enumerate(["Model", "Calls", "Errors", "p50", "p95"])
        )
        rows = "".join(
            _tag(
                "tr",
                _text("td", m["model"])
                + _text("td", count(m["calls"]), class_="num")
                + _text(
                    "td",
                    f"{fixed(100 * m['error_rate'], 1)}%",
                    class_="num bad" if m["error_rate"] > 0.05 else "num",
                )
                + _text("td", f"{m['p50_ms']} ms", class_="num")
                + _text("td", f"{m['p95_ms']} ms", class_="num"),
            )
            for m in p["models"]
        )
        body = _tag("table", _tag("thead", _tag("tr", heads)) + _tag("tbody", rows))
    return _tag("div", head + body, id="provider", data_chart=_json(p["models"]))


def _panel(caption: str, body: str, wide: bool = False) -> str:
    return _tag(
        "figure", _text("figcaption", caption) + body, class_="panel wide" if wide else "panel"
    )


def overview_html(o: dict[str, Any]) -> str:
    """The Overview section's body for the numbers ``o`` (:func:`.data.overview`)."""
    s, opt = o["spend"], o["optimizations"]
    grid = "".join(
        [
            _panel(
                "Spend per day, with the 30-day forecast and the alert threshold",
                _spend_chart(s),
                wide=True,
            ),
            _panel(
                "Optimizations per day by source",
                _counts("chart-sources", opt["days"], opt["by_source"]),
            ),
            _panel(
                "Optimizations per day by engine",
                _counts("chart-engines", opt["days"], opt["by_engine"]),
            ),
            _panel("Cache hit rate per tier", _cache_chart(o["cache"])),
            _panel("Mean score before → after, by prompt type", _scores(o["scores"]["by_type"])),
            _panel(
                "Rewrites kept (acceptance rate), by engine and prompt type",
                _acceptance(o["acceptance"]),
            ),
            _panel("Findings seen most often", _findings(o["findings"])),
            _panel("Provider health", _provider(o["provider"])),
        ]
    )
    return (
        _alerts(o["alerts"])
        + f'<div class="cards" id="cards" data-seq="{o["last_seq"]}">{_cards(o)}</div>'
        + f'<div class="grid">{grid}</div>'
    )


def unreadable(reason: str) -> str:
    """The overview's place when its numbers could not be read: what is wrong."""
    return _text(
        "p", f"The overview could not be read: {reason}", class_="empty", id="overview-error"
    )
