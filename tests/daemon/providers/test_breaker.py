"""The circuit breaker: opening, failing fast, half-open, closing, one event per change."""

from __future__ import annotations

import httpx
import pytest
import respx

from promptd.daemon.errors import CircuitOpenError, ProviderError
from promptd.daemon.events import CircuitChanged
from promptd.daemon.providers import ChatRequest, CircuitBreaker, Message, XAIProvider
from promptd.daemon.providers.retry import BackoffWait

from .conftest import XAI_URL, Sleeps, completion, xai_config


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_states_and_events() -> None:
    clock = Clock()
    seen: list[CircuitChanged] = []
    b = CircuitBreaker("xai", failures=3, cooldown_s=30, clock=clock, on_change=seen.append)
    for _ in range(2):
        b.before_call()
        b.record_failure("HTTP 503")
    assert b.state == "closed" and seen == []
    b.before_call()
    b.record_failure("HTTP 503")
    assert b.state == "open"
    with pytest.raises(CircuitOpenError, match="failed 3 times in a row"):
        b.before_call()
    clock.now += 29.9
    with pytest.raises(CircuitOpenError):
        b.before_call()
    clock.now += 0.2
    assert b.state == "half_open"
    b.before_call()  # the probe
    with pytest.raises(CircuitOpenError, match="being probed"):
        b.before_call()  # only one probe at a time
    b.record_failure("timeout")
    assert b.state == "open"  # probe failed: open again for a full cool-down
    clock.now += 30
    b.before_call()
    b.record_success()
    assert b.state == "closed"
    assert [(e.old, e.new) for e in seen] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert seen[0].failures == 3 and "HTTP 503" in seen[0].reason


def test_success_resets_the_count() -> None:
    b = CircuitBreaker("xai", failures=2)
    b.record_failure("x")
    b.record_success()
    b.record_failure("x")
    assert b.state == "closed"


@respx.mock
async def test_provider_fails_fast_while_open() -> None:
    clock = Clock()
    seen: list[CircuitChanged] = []
    route = respx.post(XAI_URL).respond(503)
    async with httpx.AsyncClient() as client:
        prov = XAIProvider(
            xai_config("retries = 1\nbreaker_failures = 5"),
            client=client,
            environ={"XAI_API_KEY": "k"},
            clock=clock,
            sleep=Sleeps(),
            wait=BackoffWait(initial_s=0),
        )
        prov.breaker.on_change = seen.append
        req = ChatRequest(model="grok-4.3", messages=[Message(role="user", content="x")])
        for _ in range(5):
            with pytest.raises(ProviderError, match="HTTP 503"):
                await prov.complete(req)
        with pytest.raises(CircuitOpenError):
            await prov.complete(req)
        assert route.call_count == 5  # the sixth never went out
        clock.now += 30
        route.respond(200, json=completion("back"))
        assert (await prov.complete(req)).content == "back"
        assert prov.breaker.state == "closed"
    assert [e.new for e in seen] == ["open", "half_open", "closed"]


@respx.mock
async def test_client_errors_do_not_open_the_breaker() -> None:
    respx.post(XAI_URL).respond(404, json={"error": "no such model"})
    async with httpx.AsyncClient() as client:
        prov = XAIProvider(
            xai_config("breaker_failures = 2"),
            client=client,
            environ={"XAI_API_KEY": "k"},
            sleep=Sleeps(),
        )
        req = ChatRequest(model="nope", messages=[Message(role="user", content="x")])
        for _ in range(4):
            with pytest.raises(ProviderError, match="404"):
                await prov.complete(req)
        assert prov.breaker.state == "closed"
