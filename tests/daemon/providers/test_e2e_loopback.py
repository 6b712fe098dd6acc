"""End to end over a real socket: the LLM agents against a chat-completions server."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptd.daemon.config import parse
from promptd.daemon.engine.types import AgentContext
from promptd.daemon.errors import AuthError
from promptd.daemon.events import ProviderCallCompleted, ProviderCallStarted
from promptd.daemon.projections import open_async_log
from promptd.daemon.providers import LLMEngine

from .loopback import LoopbackServer

CTX = AgentContext(opt_id="e2e", prompt="write some stuff about dogs", prompt_type="general")


async def test_agents_over_loopback_http(promptd_home: Path) -> None:
    log = await open_async_log(promptd_home / "events")
    with LoopbackServer(api_key="local-key") as server:
        cfg = parse(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
            'model = "grok-4.3"\napi_key_env = "LOCAL_KEY"'
        )
        engine = LLMEngine(cfg, log, environ={"LOCAL_KEY": "local-key"})  # its own client
        try:
            agents = engine.agents_for("e2e", CTX.prompt)
            d = await agents.deconstruct(CTX)
            g = await agents.diagnose(CTX)
            design = await agents.design(CTX, d, g)
            ev = await agents.evaluate(CTX, d, design)
        finally:
            await engine.aclose()
    try:
        assert design.prompt.startswith("Write a short article about dogs")
        assert ev.accepted and ev.after.total > ev.before.total
        assert len(server.bodies) == 2 and server.connections == 1  # one kept-alive connection
        assert all(b["response_format"]["type"] == "json_schema" for b in server.bodies)
        calls = [r.event for r in log.read() if isinstance(r.event, ProviderCallCompleted)]
        assert [c.agent for c in calls] == ["deconstructor+diagnoser", "designer"]
        started = [r.event for r in log.read() if isinstance(r.event, ProviderCallStarted)]
        assert [s.call_id for s in started] == [c.call_id for c in calls]
        assert all(c.ok and c.cost_reported and c.cost_ticks == 1000 for c in calls)
        assert calls[0].cached_tokens == 600 and calls[0].reasoning_tokens == 50
    finally:
        await log.close()


async def test_wrong_key_over_loopback(promptd_home: Path) -> None:
    log = await open_async_log(promptd_home / "events")
    try:
        with LoopbackServer(api_key="right") as server:
            cfg = parse(
                f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
                'api_key_env = "MY_KEY"'
            )
            engine = LLMEngine(cfg, log, environ={"MY_KEY": "wrong"})
            try:
                agents = engine.agents_for("e2e", CTX.prompt)
                with pytest.raises(AuthError, match=r"^the API key in MY_KEY was refused"):
                    await agents.deconstruct(CTX)
            finally:
                await engine.aclose()
    finally:
        await log.close()
