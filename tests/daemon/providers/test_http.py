"""The HTTP layer: usage accounting, HTTP/2 client, retries, timeouts, key errors."""

from __future__ import annotations

import httpx
import pytest
import respx

from promptd.daemon.config import Config, parse
from promptd.daemon.errors import AuthError, ProviderError, RateLimitError
from promptd.daemon.providers import ChatRequest, Message, XAIProvider, make_client
from promptd.daemon.providers.base import SchemaUnsupportedError
from promptd.daemon.providers.openai_compat import OpenAICompatProvider
from promptd.daemon.providers.retry import BackoffWait

from .conftest import FAKE_KEY, XAI_URL, Sleeps, completion, xai_config

REQ = ChatRequest(model="grok-4.3", messages=[Message(role="user", content="hi")], max_tokens=50)


def xai(
    client: httpx.AsyncClient, env: dict[str, str], sleeps: Sleeps, cfg: Config | None = None
) -> XAIProvider:
    return XAIProvider(
        cfg or xai_config(),
        client=client,
        environ=env,
        sleep=sleeps,
        wait=BackoffWait(initial_s=0.5, max_wait_s=20),
    )


def test_client_is_http2_pooled_with_timeouts() -> None:
    client = make_client(xai_config("timeout_s = 90\nconnect_timeout_s = 5"))
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert pool._http2 is True
    assert pool._max_connections == 100
    assert pool._max_keepalive_connections == 20
    assert client.timeout.read == 90
    assert client.timeout.connect == 5


def test_default_read_timeout_is_120s() -> None:
    assert make_client(Config()).timeout.read == 120


@respx.mock
async def test_xai_usage_with_reported_ticks(client, env, sleeps) -> None:
    route = respx.post(XAI_URL).respond(
        200,
        json=completion(
            "ok",
            prompt_tokens=1000,
            cached_tokens=400,
            completion_tokens=200,
            reasoning_tokens=300,
            cost_ticks=12_345_678,
        ),
    )
    result = await xai(client, env, sleeps).complete(REQ)
    assert result.content == "ok"
    # xAI: reasoning outside completion_tokens, cached inside prompt_tokens
    assert result.usage.prompt_tokens == 1000
    assert result.usage.cached_tokens == 400
    assert result.usage.completion_tokens == 200
    assert result.usage.reasoning_tokens == 300
    assert result.reported_cost_ticks == 12_345_678
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    body = sent.read()
    assert b'"model":"grok-4.3"' in body and b'"max_tokens":50' in body


@respx.mock
async def test_openai_counts_reasoning_inside_completion(client, sleeps) -> None:
    cfg = parse('[provider]\nkind = "openai"\nbase_url = "http://llm.test/v1"')
    respx.post("http://llm.test/v1/chat/completions").respond(
        200, json=completion("ok", completion_tokens=500, reasoning_tokens=300)
    )
    prov = OpenAICompatProvider(cfg, client=client, environ={}, sleep=sleeps)
    result = await prov.complete(REQ)
    assert result.usage.completion_tokens == 200
    assert result.usage.reasoning_tokens == 300
    assert result.reported_cost_ticks is None
    assert "authorization" not in respx.calls.last.request.headers  # key optional


@respx.mock
async def test_429_with_retry_after_is_honoured(client, env, sleeps) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow down"}),
            httpx.Response(200, json=completion("ok")),
        ]
    )
    result = await xai(client, env, sleeps).complete(REQ)
    assert result.content == "ok" and result.attempts == 2
    assert route.call_count == 2
    assert sleeps.waits == [7.0]


@respx.mock
async def test_429_without_retry_after_backs_off_then_gives_up(client, env, sleeps) -> None:
    route = respx.post(XAI_URL).respond(429, json={"error": {"message": "rate limited"}})
    with pytest.raises(RateLimitError, match="429 after 3 attempts"):
        await xai(client, env, sleeps).complete(REQ)
    assert route.call_count == 3
    assert len(sleeps.waits) == 2
    assert 0.5 <= sleeps.waits[0] <= 1.0 and 1.0 <= sleeps.waits[1] <= 1.5  # exp + jitter


@pytest.mark.parametrize("status", [500, 502, 503])
@respx.mock
async def test_5xx_then_success(client, env, sleeps, status: int) -> None:
    route = respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(status, text="upstream"),
            httpx.Response(200, json=completion("fine")),
        ]
    )
    result = await xai(client, env, sleeps).complete(REQ)
    assert result.content == "fine" and route.call_count == 2


@respx.mock
async def test_timeouts_are_retried_then_fail(client, env, sleeps) -> None:
    route = respx.post(XAI_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderError, match="after 3 attempts: timed out"):
        await xai(client, env, sleeps).complete(REQ)
    assert route.call_count == 3


@respx.mock
async def test_connect_error_then_success(client, env, sleeps) -> None:
    respx.post(XAI_URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=completion("x"))]
    )
    assert (await xai(client, env, sleeps).complete(REQ)).attempts == 2


@pytest.mark.parametrize("status", [400, 404, 422])
@respx.mock
async def test_client_errors_are_not_retried(client, env, sleeps, status: int) -> None:
    route = respx.post(XAI_URL).respond(status, json={"error": {"message": "bad thing"}})
    with pytest.raises(ProviderError, match="bad thing"):
        await xai(client, env, sleeps).complete(REQ)
    assert route.call_count == 1 and sleeps.waits == []


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "unauthorized"),
        (403, "forbidden"),
        (400, f"Incorrect API key provided: {FAKE_KEY[:8]}***. Get one at console.x.ai"),
    ],
)
@respx.mock
async def test_wrong_key_names_the_variable_and_never_the_key(
    client, env, sleeps, status: int, message: str
) -> None:
    route = respx.post(XAI_URL).respond(status, json={"error": message})
    prov = xai(client, env, sleeps)
    with pytest.raises(AuthError) as info:
        await prov.complete(REQ)
    text = str(info.value)
    assert text.startswith("the API key in XAI_API_KEY was refused")
    assert FAKE_KEY not in text and FAKE_KEY[:8] not in text
    assert FAKE_KEY not in repr(prov) and FAKE_KEY not in repr(info.value.failure)  # type: ignore[attr-defined]
    assert route.call_count == 1


async def test_missing_key_says_what_to_do(client, sleeps) -> None:
    with pytest.raises(AuthError, match="No API key: set XAI_API_KEY or run with --engine"):
        await xai(client, {}, sleeps).complete(REQ)


@respx.mock
async def test_400_about_json_schema_is_reported_for_fallback(client, env, sleeps) -> None:
    respx.post(XAI_URL).respond(400, json={"error": "response_format json_schema not supported"})
    req = ChatRequest(
        model="m", messages=REQ.messages, response_format={"type": "json_schema", "json_schema": {}}
    )
    with pytest.raises(SchemaUnsupportedError):
        await xai(client, env, sleeps).complete(req)


def test_retry_after_forms() -> None:
    from promptd.daemon.providers.retry import parse_retry_after

    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("Fri, 27 Nov 2026 10:00:30 GMT", now=1_795_773_600.0) == 30.0
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now=1_795_773_600.0) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@respx.mock
async def test_retry_after_is_capped(client, env, sleeps) -> None:
    respx.post(XAI_URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "3600"}),
            httpx.Response(200, json=completion("ok")),
        ]
    )
    await xai(client, env, sleeps).complete(REQ)
    assert sleeps.waits == [20.0]  # never an hour-long stall inside a request
