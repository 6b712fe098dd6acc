"""What every provider is: one method, ``complete``, and capabilities as class attributes.

A provider turns a :class:`ChatRequest` into a :class:`ChatResult` over HTTP, behind retries
and its circuit breaker. It knows nothing of budgets, caches or events: the metered call in
:mod:`promptd.daemon.providers.calls` wraps it with those. A failed call raises a
:class:`~promptd.daemon.errors.ProviderError` subclass carrying a :class:`CallFailure` (status,
attempts, latency) so the failure can be recorded too.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from ..errors import ProviderError
from .prices import Usage


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A function the model asked to call (OpenAI-compatible ``tool_calls``)."""

    id: str
    name: str
    arguments: str  # the JSON text the model wrote


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    role: str  # system | user | assistant | tool
    content: str
    tool_calls: list[ToolCall] | None = None  # an assistant message that asked for tools
    tool_call_id: str | None = None  # a tool message: the call it answers


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One chat-completion request, in the form that is hashed for the response cache."""

    model: str
    messages: list[Message]
    max_tokens: int = 4096
    temperature: float = 0.2
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None  # OpenAI-compatible function tools
    tool_choice: str | None = None  # auto | none


class ChatResult(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    model: str  # as the provider answered (may differ from the one asked for)
    usage: Usage
    reported_cost_ticks: int | None = None  # usage.cost_in_usd_ticks when the answer had it
    status: int = 200
    latency_ms: int = 0
    attempts: int = 1
    finish_reason: str = ""
    tool_calls: list[ToolCall] = msgspec.field(default_factory=list)


class CallFailure(msgspec.Struct, frozen=True, kw_only=True):
    """How a call that raised went: what the ProviderCallCompleted(ok=False) event records."""

    status: int = 0
    attempts: int = 1
    latency_ms: int = 0
    error: str = ""


class ProviderCallError(ProviderError):
    """A provider call that failed after its retries (a 5xx, a timeout, a refused request)."""

    def __init__(self, message: str, failure: CallFailure | None = None) -> None:
        super().__init__(message)
        self.failure = failure or CallFailure(error=message)


class SchemaUnsupportedError(ProviderCallError):
    """The endpoint refused ``response_format: json_schema`` (a 400 or 500 naming it)."""


class ToolsUnsupportedError(ProviderCallError):
    """The endpoint refused a request with ``tools`` (a 400, 422 or 500 naming them)."""


class Provider:
    """Base of the providers. Subclasses set the class attributes and implement ``complete``."""

    name: ClassVar[str] = ""  # xai | openai
    default_base_url: ClassVar[str] = ""
    default_model: ClassVar[str] = ""
    needs_key: ClassVar[bool] = False
    supports_json_schema: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = True  # OpenAI-compatible tools (a refusal is remembered)
    reasoning_in_completion: ClassVar[bool] = True  # OpenAI counts reasoning inside completion
    reports_cost: ClassVar[bool] = False  # the answer carries usage.cost_in_usd_ticks

    async def complete(self, request: ChatRequest) -> ChatResult:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close the HTTP client when this provider created it."""
