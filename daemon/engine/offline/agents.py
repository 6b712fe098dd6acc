""":class:`OfflineAgents`: Deconstructor, Diagnoser, Designer and Evaluator as rules.

Every method is deterministic and pure (same input, same output); they are ``async`` only to
fit the :class:`~promptd.daemon.engine.types.Agents` protocol the LLM engine shares.
"""

from __future__ import annotations

from ...config import EngineConfig
from .. import instruct, targets
from ..analysis import deconstruct
from ..checks import diagnose
from ..scoring import score
from ..types import AgentContext, Deconstruction, Design, Diagnosis, Evaluation
from .design import Mode, design


def evaluate_texts(original: str, rewritten: str, prompt_type: str) -> Evaluation:
    """The offline Evaluator: the rubric before and after, accepted only when strictly better."""
    before = score(original, prompt_type)
    if rewritten == original:
        return Evaluation(
            before=before.scores,
            after=before.scores,
            accepted=False,
            reasons=before.reasons,
            feedback="",
        )
    after = score(rewritten, prompt_type)
    accepted = after.scores.total > before.scores.total
    reasons = [f"before: {r}" for r in before.reasons] + [f"after: {r}" for r in after.reasons]
    feedback = ""
    if not accepted:
        reasons.append(
            f"rejected: the rewrite scores {after.scores.total}, "
            f"not above the original's {before.scores.total}"
        )
        feedback = (
            "The rewrite did not score higher than the original; make smaller edits that keep "
            "the original's layout and fix only the findings."
        )
    return Evaluation(
        before=before.scores,
        after=after.scores,
        accepted=accepted,
        reasons=reasons,
        feedback=feedback,
    )


def directed(base: Design, ctx: AgentContext, config: EngineConfig | None = None) -> Design:
    """``base`` rewritten by the run's instruction (:mod:`..instruct`), then laid out for its
    target model (:mod:`..targets`); what could not be done is in ``unmet``."""
    text, changes, unmet = base.prompt, list(base.changes), list(base.unmet)
    if ctx.instruct:
        by_instruction = instruct.apply_offline(text, instruct.parse(ctx.instruct), config)
        text = by_instruction.text
        changes += by_instruction.changes
        unmet += by_instruction.unmet
    if ctx.target:
        for_target = targets.apply_target(text, ctx.target, config)
        text = for_target.text
        changes += for_target.changes
        unmet += for_target.unmet
    return Design(prompt=text, changes=changes, unmet=unmet)


class OfflineAgents:
    """The rules engine. ``config`` sets the size guard the Designer keeps within."""

    name = "offline"

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()

    async def deconstruct(self, ctx: AgentContext) -> Deconstruction:
        return deconstruct(ctx.prompt)

    async def diagnose(self, ctx: AgentContext) -> Diagnosis:
        return Diagnosis(findings=diagnose(ctx.prompt, ctx.prompt_type))

    async def design(
        self,
        ctx: AgentContext,
        deconstruction: Deconstruction,
        diagnosis: Diagnosis,
        feedback: str = "",
    ) -> Design:
        if ctx.instruct:  # the author said what to change: that, and only that
            return directed(Design(prompt=ctx.prompt), ctx, self.config)
        # The second try (with the Evaluator's feedback) keeps the author's layout.
        mode: Mode = "minimal" if feedback else "full"
        base = design(
            ctx.prompt, ctx.prompt_type, diagnosis.findings, mode=mode, config=self.config
        )
        return directed(base, ctx, self.config) if ctx.target else base

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation:
        return evaluate_texts(ctx.prompt, design.prompt, ctx.prompt_type)
