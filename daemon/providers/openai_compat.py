"""The chat-completions provider every OpenAI-compatible endpoint shares.

``openai``: any base URL that speaks ``POST {base_url}/chat/completions`` (Ollama, llama.cpp
server, vLLM, LM Studio, OpenAI itself); the key is optional. :mod:`.xai` subclasses this with
xAI's URL, default model and accounting.

One ``httpx.AsyncClient`` per provider for the daemon's life (HTTP/2, 100 connections / 20
keep-alive, explicit connect and read timeouts), injectable for tests. Each call goes through
the circuit breaker, then up to ``retries`` attempts (:mod:`.retry`); the key is read once
from the environment variable the config names and is never put in a message, an event or a
repr.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import httpx
import msgspec

from ..config import Config
from ..errors import AuthError, ProviderError, RateLimitError
from ..events import CircuitChanged
from ..redact import redact_url
from .base import (
    CallFailure,
    ChatRequest,
    ChatResult,
    Message,
    Provider,
    ProviderCallError,
    SchemaUnsupportedError,
    ToolCall,
    ToolsUnsupportedError,
)
from .breaker import CircuitBreaker
from .prices import Usage
from .retry import BackoffWait, Transient, parse_retry_after, with_retries


class KeyRefusedError(AuthError, ProviderCallError):
    """401/403 (or a 400 about the key): the API key was refused."""


class RateLimitedError(RateLimitError, ProviderCallError):
    """429 after every retry."""


# --- the wire format (decoded leniently: servers add fields freely) ------------------------


class _PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None


class _CompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None
    cost_in_usd_ticks: int | float | None = None


class _Function(msgspec.Struct):
    name: str = ""
    arguments: str | dict[str, Any] = ""


class _ToolCall(msgspec.Struct):
    function: _Function
    id: str = ""


class _Msg(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(msgspec.Struct):
    message: _Msg
    finish_reason: str | None = None


class _Completion(msgspec.Struct):
    choices: list[_Choice]
    model: str = ""
    usage: _Usage | None = None


_log = logging.getLogger("promptd.providers")
_completion_decoder = msgspec.json.Decoder(_Completion)
_request_encoder = msgspec.json.Encoder()
_KEY_WORDS = ("api key", "api_key", "apikey", "incorrect key", "invalid key", "unauthorized")
_SCHEMA_WORDS = ("response_format", "json_schema", "json_object", "schema")
_TOOL_WORDS = ("tool", "function")


def make_client(config: Config) -> httpx.AsyncClient:
    """The one HTTP client of a provider: HTTP/2, pooled, with explicit timeouts."""
    prov = config.provider
    return httpx.AsyncClient(
        http2=True,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        timeout=httpx.Timeout(
            connect=prov.connect_timeout_s,
            read=prov.timeout_s,
            write=prov.connect_timeout_s,
            pool=prov.timeout_s,
        ),
    )


def _error_text(response: httpx.Response) -> str:
    """A short error message from an error body ({"error": {"message": ...}} or text)."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("code")
            if msg:
                return str(msg)[:300]
        elif isinstance(err, str):
            return err[:300]
    return response.text.strip()[:300]


class OpenAICompatProvider(Provider):
    name: ClassVar[str] = "openai"
    default_base_url: ClassVar[str] = "http://127.0.0.1:11434/v1"  # Ollama's
    default_model: ClassVar[str] = "llama3.2"
    needs_key: ClassVar[bool] = False
    reasoning_in_completion: ClassVar[bool] = True

    def __init__(
        self,
        config: Config,
        *,
        client: httpx.AsyncClient | None = None,
        on_event: Callable[[CircuitChanged], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wait: BackoffWait | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        prov = config.provider
        env = os.environ if environ is None else environ
        self.key_env = config.api_key_env()
        self.__key = env.get(self.key_env, "")
        self.base_url = (prov.base_url or self.default_base_url).rstrip("/")
        self.model = prov.model or self.default_model
        self.json_schema = prov.json_schema and self.supports_json_schema
        self.attempts = max(1, prov.retries)
        self._owns_client = client is None
        self.client = client if client is not None else make_client(config)
        self._sleep = sleep
        self._wait = wait or BackoffWait()  # one jitter source for the provider's life
        self._clock = clock
        self.breaker = CircuitBreaker(
            self.name,
            failures=prov.breaker_failures,
            cooldown_s=prov.breaker_cooldown_s,
            clock=clock,
            on_change=on_event,
        )
        self._slots = asyncio.Semaphore(max(1, prov.max_concurrency))

    def __repr__(self) -> str:
        key = "set" if self.__key else "not set"
        return f"<{type(self).__name__} {redact_url(self.base_url)} model={self.model} key={key}>"

    @property
    def has_key(self) -> bool:
        return bool(self.__key)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.__key:
            headers["Authorization"] = f"Bearer {self.__key}"
        return headers

    def _body(self, request: ChatRequest) -> bytes:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_message(m) for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": False,
        }
        if request.response_format is not None:
            body["response_format"] = request.response_format
        if request.tools is not None:
            body["tools"] = request.tools
            body["tool_choice"] = request.tool_choice or "auto"
        return _request_encoder.encode(body)

    def _refused_key(self, failure: CallFailure) -> KeyRefusedError:
        return KeyRefusedError(
            f"the API key in {self.key_env} was refused by {self.name}; set a valid key in "
            f"{self.key_env} or run with --engine offline",
            failure,
        )

    def _scrub(self, text: str) -> str:
        """Remove the key (and any long piece of it) from text a server sent back."""
        key = self.__key
        if key:
            text = text.replace(key, "***")
            if len(key) >= 12:
                for piece in (key[:8], key[-8:]):
                    text = text.replace(piece, "***")
        return text

    async def complete(self, request: ChatRequest) -> ChatResult:
        if self.needs_key and not self.__key:
            raise AuthError(f"No API key: set {self.key_env} or run with --engine offline")
        self.breaker.before_call()
        started = self._clock()
        attempts = 0
        body = self._body(request)

        async def attempt() -> ChatResult:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                _log.warning(
                    "%s: retrying a call to %s (attempt %d of %d)",
                    self.name,
                    request.model,
                    attempts,
                    self.attempts,
                )
            return await self._attempt(request, body)

        def failure(status: int, error: str) -> CallFailure:
            latency = int((self._clock() - started) * 1000)
            return CallFailure(status=status, attempts=attempts, latency_ms=latency, error=error)

        try:
            result = await with_retries(
                attempt, attempts=self.attempts, wait=self._wait, sleep=self._sleep
            )
        except Transient as exc:
            self.breaker.record_failure(str(exc))
            if exc.status == 429:
                raise RateLimitedError(
                    f"{self.name} is rate-limiting promptd (429 after {attempts} attempts); "
                    "lower provider.max_concurrency or try again later",
                    failure(exc.status, str(exc)),
                ) from None
            raise ProviderCallError(
                f"{self.name} call failed after {attempts} attempts: {exc}",
                failure(exc.status, str(exc)),
            ) from None
        except ProviderCallError as exc:
            # a 4xx says nothing about the provider's health: the breaker does not count it
            self.breaker.cancel_call()
            raise type(exc)(str(exc), failure(exc.failure.status, str(exc))) from None
        except BaseException:
            self.breaker.cancel_call()
            raise
        self.breaker.record_success()
        latency = int((self._clock() - started) * 1000)
        return msgspec.structs.replace(result, latency_ms=latency, attempts=attempts)

    async def _attempt(self, request: ChatRequest, body: bytes) -> ChatResult:
        async with self._slots:
            try:
                response = await self.client.post(self.url, content=body, headers=self._headers())
            except httpx.TimeoutException as exc:
                raise Transient(f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                where = redact_url(self.base_url)
                raise Transient(f"cannot reach {where} ({type(exc).__name__})") from None
        status = response.status_code
        if status == 200:
            return self._parse(request, response)
        text = self._scrub(_error_text(response))
        if _refuses_tools(request, status, text):
            # remembered per model by the agents, like a json_schema refusal
            fail = CallFailure(status=status, error=f"HTTP {status}: {text}")
            raise ToolsUnsupportedError(f"{self.name} does not accept tools: {text}", fail)
        if _refuses_schema(request, status, text):
            # llama.cpp's server says so with a 500 ("Input should be 'text' or
            # 'json_object'"), others with a 400: not worth a retry either way
            fail = CallFailure(status=status, error=f"HTTP {status}: {text}")
            raise SchemaUnsupportedError(f"{self.name} does not accept json_schema: {text}", fail)
        if status == 429 or status >= 500:
            raise Transient(
                f"HTTP {status}: {text}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        fail = CallFailure(status=status, error=f"HTTP {status}: {text}")
        lowered = text.lower()
        if status in (401, 403) or (status == 400 and any(w in lowered for w in _KEY_WORDS)):
            # the server's text may quote part of the key: it is not kept
            raise self._refused_key(CallFailure(status=status, error=f"HTTP {status}: key refused"))
        if status == 404:
            raise ProviderCallError(
                f"{self.name} answered 404 for model {request.model!r} at {self.url}: {text}; "
                "check provider.model and provider.base_url (promptd models lists the models)",
                fail,
            )
        raise ProviderCallError(f"{self.name} refused the request (HTTP {status}): {text}", fail)

    def _parse(self, request: ChatRequest, response: httpx.Response) -> ChatResult:
        try:
            data = _completion_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ProviderCallError(
                f"{self.name} answered 200 with a body that is not a chat completion ({exc})",
                CallFailure(status=200, error="malformed completion"),
            ) from None
        if not data.choices:
            raise ProviderCallError(
                f"{self.name} answered with no choices",
                CallFailure(status=200, error="no choices"),
            )
        choice = data.choices[0]
        content = choice.message.content
        calls = _tool_calls(choice.message.tool_calls)
        if content is None and calls:
            content = ""
        if content is None:
            reason = choice.message.refusal or "empty answer"
            raise ProviderCallError(
                f"{self.name} gave no content ({reason})",
                CallFailure(status=200, error=reason),
            )
        usage = self._usage(data.usage)
        reported = None
        if data.usage is not None and data.usage.cost_in_usd_ticks is not None:
            reported = round(data.usage.cost_in_usd_ticks)
        return ChatResult(
            content=content,
            model=data.model or request.model,
            usage=usage,
            reported_cost_ticks=reported,
            finish_reason=choice.finish_reason or "",
            tool_calls=calls,
        )

    def _usage(self, raw: _Usage | None) -> Usage:
        if raw is None:
            return Usage()
        prompt = raw.prompt_tokens or 0
        completion = raw.completion_tokens or 0
        cached = raw.prompt_tokens_details.cached_tokens if raw.prompt_tokens_details else None
        reasoning = (
            raw.completion_tokens_details.reasoning_tokens
            if raw.completion_tokens_details
            else None
        )
        reasoning = reasoning or 0
        if self.reasoning_in_completion:
            completion = max(0, completion - reasoning)
        return Usage(
            prompt_tokens=prompt,
            cached_tokens=min(cached or 0, prompt),
            completion_tokens=completion,
            reasoning_tokens=reasoning,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()


def _message(m: Message) -> dict[str, Any]:
    """One message on the wire; an assistant's tool calls and a tool's answer included."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


def _tool_calls(raw: list[_ToolCall] | None) -> list[ToolCall]:
    calls = []
    for i, c in enumerate(raw or []):
        args = c.function.arguments
        text = args if isinstance(args, str) else _request_encoder.encode(args).decode()
        calls.append(ToolCall(id=c.id or f"call_{i}", name=c.function.name, arguments=text))
    return calls


def _refuses_tools(request: ChatRequest, status: int, text: str) -> bool:
    """A 400, 422 or 500 to a request with tools whose error names tools or functions."""
    if not request.tools or status not in (400, 422, 500):
        return False
    lowered = text.lower()
    return any(w in lowered for w in _TOOL_WORDS)


def _refuses_schema(request: ChatRequest, status: int, text: str) -> bool:
    """A 400 or 500 to a json_schema request whose error names the response format."""
    fmt = request.response_format
    if fmt is None or fmt.get("type") != "json_schema" or status not in (400, 422, 500):
        return False
    lowered = text.lower()
    return any(w in lowered for w in _SCHEMA_WORDS)


def provider_error_failure(exc: ProviderError) -> CallFailure:
    """The failure record of any provider error (ours carry one; others get a plain one)."""
    if isinstance(exc, ProviderCallError):
        return exc.failure
    return CallFailure(error=str(exc))
