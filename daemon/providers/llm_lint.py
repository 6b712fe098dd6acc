"""LLM lint behind the lint cache: the model's Diagnoser, for ``promptd lint --engine llm``.

The offline lint (``promptd.daemon.engine.lint``) is fast enough to run on every keystroke and is
not cached. A lint by the model costs money and seconds, so its analysis is kept: the lint
cache (default TTL 2 h, ``cache.lint_ttl_s``) maps normalized prompt + type + model + version
to the ``LintCompleted`` event that holds the findings and the whole analysis. The agents
(:meth:`~promptd.daemon.providers.agents.LLMAgents.analyze`) read and fill it, so a prompt
linted by the model is optimized without asking for its analysis again, and the other way
round. A hit is a ``CacheHit`` and costs nothing.
"""

from __future__ import annotations

from ..config import EngineConfig
from ..engine.guards import check_input
from ..engine.lint import resolve_type
from ..engine.scoring import score
from ..engine.text import prompt_hash
from ..engine.types import AgentContext
from ..events import LintCompleted
from .agents import LLMAgents
from .answers import lint_key

__all__ = ["lint_key", "llm_lint"]


async def llm_lint(
    agents: LLMAgents,
    text: str,
    prompt_type: str = "auto",
    *,
    config: EngineConfig | None = None,
) -> tuple[LintCompleted, bool]:
    """``(result, cached)``: the model's findings for ``text``, from the cache when it can."""
    check_input(text, config)
    ptype, _ = resolve_type(prompt_type, text)
    ctx = AgentContext(opt_id="", prompt=text, prompt_type=ptype, model=agents.model)
    diagnosis = await agents.diagnose(ctx)
    done = LintCompleted(
        key=lint_key(text, ptype, agents.model),
        prompt_hash=prompt_hash(text),
        findings=list(diagnosis.findings),
        score=score(text, ptype, list(diagnosis.findings)).scores.total,
        engine="llm",
        model=agents.model,
    )
    return done, agents.analysis_cached
