"""LLM lint behind the lint cache: the Diagnoser on a model, for the language server.

The offline lint (``promptd.daemon.engine.lint``) is fast enough to run on every keystroke and is
not
cached. A lint by the model costs money and seconds, so its findings are kept: the lint cache
(default TTL 2 h, ``cache.lint_ttl_s``) maps normalized prompt + type + model + version to
the ``LintCompleted`` event that holds them. A hit is a ``CacheHit`` and costs nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final

from ..config import EngineConfig
from ..engine.guards import check_input
from ..engine.lint import resolve_type
from ..engine.scoring import score
from ..engine.text import normalize, prompt_hash
from ..engine.types import AgentContext
from ..events import CacheHit, CacheMiss, LintCompleted
from .agents import LLMAgents
from .ports import EventLogPort

LINT_VERSION: Final = "1"  # part of the key: bump when the Diagnoser's prompt changes


def lint_key(text: str, prompt_type: str, model: str) -> str:
    """The lint-cache key: normalized prompt + type + engine + model + version."""
    h = hashlib.sha256()
    for part in (normalize(text), prompt_type, "llm", model, LINT_VERSION):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


async def llm_lint(
    agents: LLMAgents,
    log: EventLogPort,
    text: str,
    prompt_type: str = "auto",
    *,
    config: EngineConfig | None = None,
    no_cache: bool = False,
    now_ns: Callable[[], int] = time.time_ns,
) -> tuple[LintCompleted, bool]:
    """``(result, cached)``: the model's findings for ``text``, from the cache when it can."""
    check_input(text, config)
    ptype, _ = resolve_type(prompt_type, text)
    key = lint_key(text, ptype, agents.model)
    if not no_cache:
        with log.view() as view:
            hit = view.cache.get("lint", key, now_ns())
            event = getattr(hit, "event", None)
        if isinstance(event, LintCompleted):
            await log.append([CacheHit(cache="lint", key=key)])
            return event, True
    ctx = AgentContext(opt_id="", prompt=text, prompt_type=ptype, model=agents.model)
    diagnosis = await agents.diagnose(ctx)
    done = LintCompleted(
        key=key,
        prompt_hash=prompt_hash(text),
        findings=list(diagnosis.findings),
        score=score(text, ptype, list(diagnosis.findings)).scores.total,
        engine="llm",
        model=agents.model,
    )
    miss = [] if no_cache else [CacheMiss(cache="lint", key=key)]
    await log.append([*miss, done])
    return done, False
