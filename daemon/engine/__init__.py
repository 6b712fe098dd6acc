"""The optimization engine: four agents, the offline rules engine, guards and scoring.

Public surface (import from here):

* :func:`run_pipeline` / :class:`Pipeline` — optimize one :class:`OptimizationRequest` on
  any :class:`Agents` (``OfflineAgents`` or the LLM engine), emitting
  ``OptimizationRequested``, one ``AgentStepCompleted`` per step, then
  ``OptimizationCompleted`` / ``OptimizationFailed``. Returns an
  :class:`OptimizationOutcome`; :func:`to_result` turns it (or a stored
  ``OptimizationCompleted``) into ``daemon.api.OptimizeResult``. :class:`RunMeta` carries
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

from .guards import GuardViolation, check, check_input, missing_intent, placeholders
from .lint import LintReport, detect_type, lint, resolve_type
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
