"""The overview's charts (pygal's SVG, made fit for the page) and how the overview reads."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

import pytest

from promptd.daemon.dashboard import charts, page

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [(dt.date(2026, 11, 1) + dt.timedelta(days=i)).isoformat() for i in range(14)]


def _series_paths(svg: str) -> dict[str, str]:
    """The line each series drew, by its legend's label."""
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(SVG + "text") if t.text and t.text.startswith("s:")]
    lines = {}
    for g in root.iter(SVG + "g"):
        classes = g.get("class", "").split()
        if "series" in classes:
            path = g.find(SVG + "path")
            if path is not None:
                index = next(int(c[6:]) for c in classes if c.startswith("serie-"))
                lines[labels[index]] = path.get("d", "")
    return lines


def test_a_chart_has_a_line_per_series_and_a_titled_point_per_value() -> None:
    svg = charts.line(
        DAYS,
        [charts.Series("s:spend", [1.25] * 7 + [None] * 7), charts.Series("s:plan", [2.0] * 14)],
        width=400,
        y_format=page.usd,
    )
    lines = _series_paths(svg)
    assert set(lines) == {"s:spend", "s:plan"}
    # a None is a gap: the spend line stops at its seventh point, the plan runs on
    assert lines["s:spend"].count(" ") < lines["s:plan"].count(" ")
    titles = [t.text for t in ET.fromstring(svg).iter(SVG + "title")]
    assert "s:spend, Nov 1: $1.25" in titles and "s:plan, Nov 14: $2.00" in titles
    assert len(titles) == 7 + 14  # no point where there is no value


def test_a_chart_carries_nothing_the_pages_policy_would_refuse() -> None:
    svg = charts.line(DAYS, [charts.Series("s:a", list(range(14)))], width=400)
    assert "<script" not in svg and "<style" not in svg and " style=" not in svg
    assert "tooltip" not in svg and "<!--" not in svg
    assert ET.fromstring(svg).get("viewBox") == "0 0 400 220"
    # coordinates to a tenth of a pixel (pygal's sixteen digits were half the page)
    assert not re.search(r'(?:d|x|y|cx|cy)="[^"]*\d\.\d{2}', svg)


def test_many_days_draw_lines_without_points() -> None:
    days = [(dt.date(2026, 9, 1) + dt.timedelta(days=i)).isoformat() for i in range(90)]
    svg = charts.line(days, [charts.Series("s:a", [i % 7 for i in range(90)])], width=1200)
    assert "<circle" not in svg and "s:a" in svg
    assert len(_series_paths(svg)["s:a"]) > 90 * 8  # one line through every day


def test_a_hit_rate_chart_spans_zero_to_one_hundred_percent() -> None:
    svg = charts.line(
        DAYS, [charts.Series("s:hit", [0.5] * 14)], width=400, y_format=page.pct, y_range=(0, 1)
    )
    labels = {t.text for t in ET.fromstring(svg).iter(SVG + "text")}
    assert {"0%", "100%"} <= labels


def test_the_stylesheet_styles_every_chart_in_the_pages_colours() -> None:
    css = charts.stylesheet()
    assert "#chart-" not in css and "svg.pygal-chart .color-0" in css
    for colour in charts.COLORS:
        assert colour in css


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "–"),
        (0, "$0.00"),
        (0.0042, "$0.0042"),
        (1234.5, "$1,234.50"),
        (0.126, "$0.13"),
    ],
)
def test_money_reads_as_on_the_rest_of_the_page(value: float | None, shown: str) -> None:
    assert page.usd(value) == shown


def test_every_text_from_the_log_is_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    numbers = {
        "last_seq": 7,
        "alerts": [],
        "acceptance": {
            "kept": 1,
            "rejected": 0,
            "rate": 1.0,
            "by_engine": [{"key": hostile, "kept": 1, "rejected": 0, "rate": 1.0}],
            "by_type": [],
            "days": [],
            "rate_by_day": [],
        },
        "spend": {
            "today_usd": 0.0,
            "month_usd": 0.0,
            "daily_budget_usd": None,
            "monthly_budget_usd": None,
            "alert_pct": 80,
            "alert_usd": None,
            "forecast_30d_usd": 0.0,
            "days": DAYS,
            "spend_usd": [0.0] * 14,
            "forecast_usd": [None] * 13 + [0.0],
        },
        "optimizations": {
            "days": DAYS,
            "by_source": {hostile: [1] * 14},
            "by_engine": {},
            "failed": [0] * 14,
            "total": 14,
        },
        "cache": {"days": DAYS, "hit_rate": {}, "tiers": {}, "saved_usd": 0.0},
        "scores": {"by_type": [{"key": hostile, "before": 40, "after": 60, "count": 2}]},
        "findings": [{"code": hostile, "count": 3}],
        "provider": {
            "name": hostile,
            "model": hostile,
            "circuit": "closed",
            "models": [
                {"model": hostile, "calls": 2, "error_rate": 0.5, "p50_ms": 9, "p95_ms": 12}
            ],
        },
    }
    html = page.overview_html(numbers)
    assert "<img" not in html and html.count("&lt;img src=x") >= 6
    assert 'data-seq="7"' in html and "Nothing yet." in html  # the empty cache chart
    assert "50.0%" in html  # the model's error rate, marked


def test_a_few_optimizations_are_ticked_at_whole_numbers() -> None:
    svg = charts.line(DAYS, [charts.Series("s:n", [0] * 13 + [3])], width=400, whole=True)
    labels = [t.text for t in ET.fromstring(svg).iter(SVG + "text") if t.text.isdigit()]
    assert labels == ["0", "1", "2", "3"]
