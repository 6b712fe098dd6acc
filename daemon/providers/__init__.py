"""LLM providers: xAI and any OpenAI-compatible endpoint, metered, cached and budgeted.

The daemon builds one :class:`LLMEngine` per life and asks it for the agents of each run::

    from promptd.daemon.providers import LLMEngine
    engine = LLMEngine(config, log)                 # log: promptd.daemon.store's AsyncEventLog
    choice = engine.choose(prompt, model=None)      # .model, .reason (router: fast/quality)
    agents = engine.agents_for(opt_id, prompt, choice=choice, meta=run_meta, hold=True)
    await run_pipeline(request, agents, fallback=OfflineAgents(...), meta=run_meta, ...)
    await agents.finish()                           # give back the run's budget hold
    # agents.cost_ticks / run_meta.cost_ticks, run_meta.degraded(_reason) are kept current
    engine.estimate(prompt)                         # EstimateResult, no call made
    engine.models()                                 # rows of `promptd models`
    await engine.lint(text)                         # the model's findings, lint-cached
    engine.circuit                                  # closed | open | half_open
    engine.mode.modes()                             # models that refused json_schema
    await engine.aclose()                           # releases holds, flushes, closes HTTP

A full-route run makes two calls (the analysis, then the Designer), a fast-route run one; the
Evaluator's pairwise judge only when the rubric cannot decide (:mod:`.agents`). At daemon
start (no call in flight yet), ``await recover_calls(log)`` books the calls a killed daemon
left in flight at their reservation and gives back every other hold.

Modules: :mod:`.agents` (the four agents in few calls), :mod:`.answers` (the strict answer
Structs), :mod:`.calls` (the metered call), :mod:`.budget_rules` (pure budget decisions),
:mod:`.llm_engine` (:class:`LLMEngine`), :mod:`.llm_lint`, :mod:`.openai_compat` and
:mod:`.xai` (the providers), :mod:`.breaker`, :mod:`.retry`, :mod:`.router`, :mod:`.prices`,
:mod:`.schema`, :mod:`.forecast`, :mod:`.ports`.

Errors a run can raise (answer from the offline engine, marked degraded with ``str(exc)``):
:class:`~promptd.daemon.errors.BudgetError`, :class:`~promptd.daemon.errors.AuthError`,
:class:`~promptd.daemon.errors.CircuitOpenError`, :class:`~promptd.daemon.errors.RateLimitError`,
:class:`~promptd.daemon.errors.InvalidAnswerError`, and other
 :class:`~promptd.daemon.errors.ProviderError`.

Also exported: the price table (:class:`PriceTable`, :func:`cost_ticks`), the 30-day
:func:`forecast`, the :class:`CircuitBreaker`, and the providers themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Light, and imported eagerly: the submodule ``forecast`` would otherwise shadow the function.
from .forecast import Forecast, forecast

if TYPE_CHECKING:
    from .agents import LLMAgents
    from .base import ChatRequest, ChatResult, Message, Provider
    from .breaker import CircuitBreaker
    from .budget_rules import config_limits, periods, recover_calls, release_stale_holds
    from .calls import Meter, request_key
    from .llm_engine import LLMEngine, ModelInfo, list_models, provider_for
    from .openai_compat import OpenAICompatProvider, make_client
    from .prices import Price, PriceTable, Usage, cost_ticks
    from .router import Router
    from .xai import XAIProvider

# Exports are loaded on first use: the package pulls httpx and the engine (~0.4 s), and a
# light submodule such as ``promptd.daemon.providers.forecast`` (used by ``promptd status``)
# must not pay for that.
_EXPORTS = {
    "LLMAgents": "agents",
    "ChatRequest": "base",
    "ChatResult": "base",
    "Message": "base",
    "Provider": "base",
    "CircuitBreaker": "breaker",
    "config_limits": "budget_rules",
    "periods": "budget_rules",
    "recover_calls": "budget_rules",
    "release_stale_holds": "budget_rules",
    "Meter": "calls",
    "request_key": "calls",
    "LLMEngine": "llm_engine",
    "ModelInfo": "llm_engine",
    "list_models": "llm_engine",
    "provider_for": "llm_engine",
    "OpenAICompatProvider": "openai_compat",
    "make_client": "openai_compat",
    "Price": "prices",
    "PriceTable": "prices",
    "Usage": "prices",
    "cost_ticks": "prices",
    "Router": "router",
    "XAIProvider": "xai",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ChatRequest",
    "ChatResult",
    "CircuitBreaker",
    "Forecast",
    "LLMAgents",
    "LLMEngine",
    "Message",
    "Meter",
    "ModelInfo",
    "OpenAICompatProvider",
    "Price",
    "PriceTable",
    "Provider",
    "Router",
    "Usage",
    "XAIProvider",
    "config_limits",
    "cost_ticks",
    "forecast",
    "list_models",
    "make_client",
    "periods",
    "provider_for",
    "recover_calls",
    "release_stale_holds",
    "request_key",
]
