"""Budget alerts reach a subscribed client with a stable id, and ``status`` has the same id,
so an editor can show each alert once (per period and threshold)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from promptd.daemon import api
from promptd.daemon.client import DaemonClient
from promptd.daemon.paths import Paths

from .loopback import LoopbackServer
from .test_cli_llm import LONG, paths, promptd, provider_config

__all__ = ["paths"]


async def test_a_budget_alert_is_pushed_once_with_the_id_status_shows(paths: Paths) -> None:
    with LoopbackServer(cost_ticks=None) as server:
        provider_config(paths, server.base_url)
        assert promptd("start").returncode == 0
        client = await DaemonClient.connect(paths)
        notices: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        client.on_notification = lambda method, params: notices.put_nowait(json.loads(params))
        try:
            await client.call("subscribe", api.SubscribeParams(topics=["status"]))
            first = await client.call(
                "optimize",
                api.OptimizeParams(text=LONG, no_cache=True),
                result_type=api.OptimizeResult,
            )
            await client.call(
                "budget.set", api.BudgetSetParams(daily_usd=round(first.cost_usd * 2.2, 8))
            )
            for extra in ("Be brief.\n", "Be kind.\n"):  # the first crosses 80%, once
                await client.call(
                    "optimize",
                    api.OptimizeParams(text=LONG + extra, no_cache=True),
                    result_type=api.OptimizeResult,
                )
            status = await client.call("status", api.Empty(), result_type=api.StatusResult)
            alerts: list[dict[str, Any]] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while not alerts or not notices.empty():
                left = deadline - loop.time()
                assert left > 0, "no budget alert was pushed"
                try:
                    notice = await asyncio.wait_for(notices.get(), min(left, 0.5))
                except TimeoutError:
                    continue
                if notice["event"] == "budget.alert":
                    alerts.append(notice)
        finally:
            await client.close()
    [item] = status.spend.alert_items
    assert item.id == f"budget:day:{item.period_key}:80" and item.threshold_pct == 80
    assert item.text == status.spend.alerts[0] and item.reset_at
    assert [a["alert_id"] for a in alerts] == [item.id]  # pushed once
    assert alerts[0]["level"] == "warning" and "budget alert" in alerts[0]["message"]
