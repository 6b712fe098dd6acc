"""The price table, the cost function, routing and the forecast."""

from __future__ import annotations

import datetime as dt

from promptd.daemon.config import ModelPrice, parse
from promptd.daemon.providers import PriceTable, Router, Usage, cost_ticks, forecast
from promptd.daemon.values import usd_to_ticks


def test_current_xai_prices_and_retired_names() -> None:
    table = PriceTable()
    for name in ("grok-4.3", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning"):
        p = table.get(name)
        assert p is not None
        assert (p.input, p.cached_input, p.output, p.reasoning) == (1.25, 0.20, 2.50, 2.50)
        assert p.input_above_200k is not None and p.output_above_200k is not None
    assert table.get("grok-4.3").context == 1_000_000  # type: ignore[union-attr]
    for retired in (
        "grok-4-1-fast-reasoning",
        "grok-4-1-fast-non-reasoning",
        "grok-4-0709",
        "grok-code-fast-1",
    ):
        assert table.canonical(retired) == "grok-4.3"
        assert table.get(retired).model == "grok-4.3"  # type: ignore[union-attr]
    assert table.get("llama3.2") is None


def test_cost_by_token_kind() -> None:
    p = PriceTable().get("grok-4.3")
    assert p is not None
    usage = Usage(
        prompt_tokens=1_000_000,
        cached_tokens=400_000 // 2,
        completion_tokens=100_000,
        reasoning_tokens=300_000,
    )
    # 800k uncached at 1.25 + 200k cached at 0.20 + 400k output-rate at 2.50
    expected = 0.8 * 1.25 + 0.2 * 0.20 + 0.4 * 2.50
    # >200k prompt tokens: the long-context tier applies
    assert cost_ticks(p, usage) == usd_to_ticks(0.8 * 2.5 + 0.2 * 0.20 + 0.4 * 5.0)
    small = Usage(
        prompt_tokens=1000, cached_tokens=200, completion_tokens=100, reasoning_tokens=300
    )
    assert cost_ticks(p, small) == usd_to_ticks(expected / 1000)


def test_user_override_wins() -> None:
    table = PriceTable({"grok-4.3": ModelPrice(input=1.0, cached_input=0.1, output=2.0)})
    assert table.cost_ticks("grok-4.3", Usage(prompt_tokens=1_000_000)) == usd_to_ticks(1.0)
    assert table.get("grok-4.3").context == 1_000_000  # type: ignore[union-attr]


def test_router() -> None:
    cfg = parse('[provider]\nkind = "xai"\nfast_model = "f"\nquality_model = "q"\n')
    r = Router(cfg, "grok-4.3", PriceTable(), "xai")
    assert r.choose("fix typo").model == "f"
    long = "Write a report. Then compare results. Also summarize findings. " * 30
    c = r.choose(long)
    assert (c.model, c.tier) == ("q", "quality") and "complex" in c.reason
    low = r.choose(long, remaining=0.1)
    assert low.model == "f" and "10% left" in low.reason
    assert r.choose(long, explicit="m", remaining=0.0).model == "m"
    d = Router(parse('[provider]\nkind = "xai"'), "grok-4.3", PriceTable(), "xai")
    assert (d.fast, d.quality) == ("grok-4.20-0309-non-reasoning", "grok-4.3")


def test_forecast_average_and_trend() -> None:
    today = dt.date(2026, 11, 27)
    flat = [((today - dt.timedelta(days=i)).isoformat(), 100) for i in range(14)]
    f = forecast(flat, today=today)
    assert (f.daily_avg_ticks, f.trend_ticks_per_day, f.forecast_30d_ticks) == (100, 0, 3000)
    rising = [((today - dt.timedelta(days=13 - i)).isoformat(), 10 * i) for i in range(14)]
    r = forecast(rising, today=today)
    assert r.trend_ticks_per_day == 10 and r.forecast_30d_ticks > 30 * r.daily_avg_ticks
    falling = [((today - dt.timedelta(days=13 - i)).isoformat(), 130 - 10 * i) for i in range(14)]
    assert forecast(falling, today=today).forecast_30d_ticks >= 0
    assert forecast([], today=today).forecast_30d_ticks == 0
