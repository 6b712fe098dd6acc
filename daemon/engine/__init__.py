"""The optimization engine: four agents, the offline rules engine, guards and scoring.

Public surface (import from here):

* :func:`run_pipeline` / :class:`Pipeline` — optimize one :class:`OptimizationRequest` on
  any :class:`Agents` (``OfflineAgents`` or the LLM engine), emitting
  ``OptimizationRequested``, one ``AgentStepCompleted`` per step, then
  ``OptimizationCompleted`` / ``OptimizationFailed``. Returns an
  :class:`OptimizationOutcome`; :func:`to_result` turns it (or a stored
  ``OptimizationCompleted``) into ``promptd.daemon.api.OptimizeResult``. :class:`RunMeta` carries
  what the caller owns (cost, cache, degraded, model and why).
* :class:`OfflineAgents` — the rules engine (``name = "offline"``).
* :func:`lint` → :class:`LintReport`; :func:`detect_type` → ``(type, confidence)``;
  :func:`resolve_type` (``auto`` → a concrete type).
* guards: :func:`placeholders`, :func:`check` → ``list[GuardViolation]``,
  :func:`check_input` (raises ``InputError``), :func:`missing_intent`.
* :data:`RULES` / :func:`rule` — the rule table (codes ``PD001``...).
* :func:`prompt_hash` — sha256 of the normalized prompt (``OptimizationRequested``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Imported eagerly: ``lint`` is what most callers want, and the submodule of the same name
# would otherwise shadow the function.
from .lint import LintReport, detect_type, lint, resolve_type

if TYPE_CHECKING:
    from .guards import GuardViolation, check, check_input, missing_intent, placeholders
    from .offline import OfflineAgents
    from .pipeline import (
        OptimizationOutcome,
        OptimizationRequest,
        Pipeline,
        RunMeta,
        choose_route,
        new_opt_id,
        run_pipeline,
        to_result,
    )
    from .rules import RULES, Rule, rule
    from .text import prompt_hash
    from .types import AgentContext, Agents, Deconstruction, Design, Diagnosis, Evaluation

# The rest load on first use, so ``promptd lint`` does not import the pipeline (asyncio,
# events, the API structs) or the offline Designer.
_EXPORTS = {
    "GuardViolation": "guards",
    "check": "guards",
    "check_input": "guards",
    "missing_intent": "guards",
    "placeholders": "guards",
    "OfflineAgents": "offline",
    "OptimizationOutcome": "pipeline",
    "OptimizationRequest": "pipeline",
    "Pipeline": "pipeline",
    "RunMeta": "pipeline",
    "choose_route": "pipeline",
    "new_opt_id": "pipeline",
    "run_pipeline": "pipeline",
    "to_result": "pipeline",
    "RULES": "rules",
    "Rule": "rules",
    "rule": "rules",
    "prompt_hash": "text",
    "AgentContext": "types",
    "Agents": "types",
    "Deconstruction": "types",
    "Design": "types",
    "Diagnosis": "types",
    "Evaluation": "types",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "RULES",
    "AgentContext",
    "Agents",
    "Deconstruction",
    "Design",
    "Diagnosis",
    "Evaluation",
    "GuardViolation",
    "LintReport",
    "OfflineAgents",
    "OptimizationOutcome",
    "OptimizationRequest",
    "Pipeline",
    "Rule",
    "RunMeta",
    "check",
    "check_input",
    "choose_route",
    "detect_type",
    "lint",
    "missing_intent",
    "new_opt_id",
    "placeholders",
    "prompt_hash",
    "resolve_type",
    "rule",
    "run_pipeline",
    "to_result",
]
