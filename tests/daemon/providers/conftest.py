"""Fixtures for the provider tests: an xAI config with a fake key, canned completions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from promptd.daemon.config import Config, parse
from promptd.daemon.providers.calls import Meter
from promptd.daemon.providers.ports import EventLogPort
from promptd.daemon.providers.retry import BackoffWait
from promptd.daemon.providers.xai import XAIProvider

from .memlog import MemLog

XAI_URL = "https://api.x.ai/v1/chat/completions"
FAKE_KEY = "xai-test-key-0123456789abcdef"


def xai_config(extra: str = "") -> Config:
    return parse(f'[provider]\nkind = "xai"\n{extra}')


def completion(
    content: Any,
    *,
    prompt_tokens: int = 1000,
    completion_tokens: int = 200,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
    cost_ticks: int | None = None,
    model: str = "grok-4.3",
    finish_reason: str = "stop",
) -> dict[str, Any]:
    text = content if isinstance(content, str) else msgspec.json.encode(content).decode()
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens + reasoning_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }
    if cost_ticks is not None:
        usage["cost_in_usd_ticks"] = cost_ticks
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage,
    }


@pytest.fixture
def env() -> dict[str, str]:
    return {"XAI_API_KEY": FAKE_KEY}


@pytest.fixture
def log() -> MemLog:
    return MemLog()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(http2=True) as c:
        yield c


class Sleeps:
    """An injected sleep that records what it was asked to wait, and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def metered(
    client: httpx.AsyncClient, log: EventLogPort, extra: str = "", *, key: str = "k"
) -> Meter:
    """A Meter on an xAI provider with ``key`` that neither sleeps nor backs off."""
    cfg = xai_config(extra)
    prov = XAIProvider(
        cfg,
        client=client,
        environ={"XAI_API_KEY": key},
        sleep=Sleeps(),
        wait=BackoffWait(initial_s=0),
    )
    m = Meter(prov, log, cfg)
    prov.breaker.on_change = m.circuit_changed
    return m


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
