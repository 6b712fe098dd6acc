"""The request modes an endpoint was seen to refuse, remembered across restarts.

An endpoint that answers ``response_format: json_schema`` with a refusal (llama.cpp's server:
HTTP 500 "Input should be 'text' or 'json_object'") is asked with ``json_object`` plus the
schema from then on (:class:`~.agents.JsonMode`). The first refusal of each model is recorded
as a :class:`~promptd.daemon.events.ProviderModeLearned` event; the ``provider_modes``
projection keeps it, and :func:`json_mode_for` reads it back when the engine is built, so a
restarted daemon asks with ``json_object`` at once. The key is the provider, the base URL
(redacted: a changed key or password does not re-learn, a changed host, port or path does)
and the model: pointing ``provider.base_url`` or ``provider.model`` elsewhere starts from
``json_schema`` again.

Tool calls (``feature="tools"``) can use the same event and projection when they come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..events import ProviderModeLearned
from ..redact import redact_url
from .agents import JsonMode
from .ports import EventLogPort

FEATURE = "response_format"
_log = logging.getLogger("promptd.providers")


def endpoint_of(base_url: str) -> str:
    """The endpoint as events and the projection name it: redacted, no trailing slash."""
    return redact_url(base_url.rstrip("/"))


def learned_refusals(log: EventLogPort, provider: str, base_url: str) -> set[str]:
    """The models of this endpoint recorded as refusing ``json_schema``."""
    with log.view() as view:
        modes = getattr(view, "provider_modes", None)  # a bare test log has no projection
        if modes is None:
            return set()
        learned = modes.learned(provider, endpoint_of(base_url), FEATURE)
    return {model for model, entry in learned.items() if entry.mode == "json_object"}


def json_mode_for(
    log: EventLogPort,
    provider: str,
    base_url: str,
    json_schema: bool,
    background: Callable[[Coroutine[Any, Any, Any]], None],
) -> JsonMode:
    """The engine's :class:`JsonMode`: what was learned before, and new refusals recorded."""
    endpoint = endpoint_of(base_url)
    refused = learned_refusals(log, provider, base_url) if json_schema else set()
    if refused:
        _log.info(
            "%s at %s: asking %s with json_object (json_schema was refused before)",
            provider,
            endpoint,
            ", ".join(sorted(refused)),
        )

    def record(model: str, why: str) -> None:
        event = ProviderModeLearned(
            provider=provider,
            base_url=endpoint,
            model=model,
            feature=FEATURE,
            mode="json_object",
            refused="json_schema",
            reason=redact_url(why)[:300],
        )
        background(log.append([event]))

    return JsonMode(json_schema, refused, on_refuse=record)
