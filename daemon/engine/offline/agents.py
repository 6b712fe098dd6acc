""":class:`OfflineAgents`: Deconstructor, Diagnoser, Designer and Evaluator as rules.

Every method is deterministic and pure (same input, same output); they are ``async`` only to
fit the :class:`~promptd.daemon.engine.types.Agents` protocol the LLM engine shares.
"""

from __future__ import annotations

from ...config import EngineConfig
from .. import instruct
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
            done = instruct.apply_offline(ctx.prompt, instruct.parse(ctx.instruct), self.config)
            return Design(prompt=done.text, changes=done.changes, unmet=done.unmet)
        # The second try (with the Evaluator's feedback) keeps the author's layout. A target
        # model's layout is laid over the result by the pipeline (engine.targets).
        mode: Mode = "minimal" if feedback else "full"
        return design(
            ctx.prompt, ctx.prompt_type, diagnosis.findings, mode=mode, config=self.config
        )

    async def evaluate(
        self, ctx: AgentContext, deconstruction: Deconstruction, design: Design
    ) -> Evaluation:
        return evaluate_texts(ctx.prompt, design.prompt, ctx.prompt_type)
