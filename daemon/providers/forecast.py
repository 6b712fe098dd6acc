"""A 30-day spend forecast from the daily spend history: trailing average and trend.

The last ``window`` days (default 14, ending today; days without spend count as 0) are fitted
with a least-squares line. The forecast is the sum of that line over the next 30 days, each
day floored at 0, so a falling trend never forecasts a refund. With less than 3 days of
history the trend is ignored and the trailing average alone is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

DEFAULT_WINDOW = 14
HORIZON = 30


class Forecast(msgspec.Struct, frozen=True, kw_only=True):
    days: int  # days of history used
    daily_avg_ticks: int
    trend_ticks_per_day: int  # slope of the fitted line (ticks per day, per day)
    forecast_30d_ticks: int


def forecast(
    daily: Iterable[tuple[str, int]],
    *,
    today: dt.date | None = None,
    window: int = DEFAULT_WINDOW,
) -> Forecast:
    """Forecast the next 30 days from ``(YYYY-MM-DD, ticks)`` rows (any order, gaps allowed)."""
    end = today or dt.date.today()
    by_day: dict[dt.date, int] = {}
    first: dt.date | None = None
    for day, ticks in daily:
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            continue
        by_day[date] = by_day.get(date, 0) + ticks
        if date <= end and (first is None or date < first):
            first = date
    if first is None:
        return Forecast(days=0, daily_avg_ticks=0, trend_ticks_per_day=0, forecast_30d_ticks=0)
    start = max(first, end - dt.timedelta(days=window - 1))
    n = (end - start).days + 1
    ys = [by_day.get(start + dt.timedelta(days=i), 0) for i in range(n)]
    mean_y = sum(ys) / n
    slope = 0.0
    if n >= 3:
        mean_x = (n - 1) / 2
        sxx = sum((x - mean_x) ** 2 for x in range(n))
        sxy = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys))
        slope = sxy / sxx
    intercept = mean_y - slope * (n - 1) / 2
    total = sum(max(0.0, intercept + slope * x) for x in range(n, n + HORIZON))
    return Forecast(
        days=n,
        daily_avg_ticks=round(mean_y),
        trend_ticks_per_day=round(slope),
        forecast_30d_ticks=round(total),
    )
