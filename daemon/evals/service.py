"""``eval.estimate`` and ``eval.run`` on the control API (``promptd eval`` is their client).

``eval.run`` sends a ``progress`` notification (kind ``eval``) per sample and answers an
:class:`~.types.EvalResult`; the evaluation is recorded as ``EvaluationCompleted``. Both
refuse on the offline engine: there is no model to run the prompts on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import api, wire
from ..engine.guards import check_input
from ..errors import ConfigError, InputError
from ..events import EvaluationCompleted
from ..values import ticks_to_usd
from . import tally
from .runner import EvalRun
from .samples import parse_samples
from .types import EvalEstimate, EvalParams, EvalResult

if TYPE_CHECKING:
    from ..providers import LLMEngine
    from ..server.app import Daemon

OFFLINE_REFUSAL = (
    "eval runs both prompts on a model, and this daemon has none (the offline engine): set "
    'XAI_API_KEY, or OPENAI_API_KEY with provider.kind = "openai" (and base_url for a local '
    "server) in config.toml, then restart the daemon (promptd stop; promptd start)"
)


def result_of(done: EvaluationCompleted) -> EvalResult:
    """What ``eval.run`` answers (and ``promptd eval --json`` prints) for a recorded run."""
    return EvalResult(
        eval_id=done.eval_id,
        opt_id=done.opt_id,
        status=done.status,
        stopped_reason=done.stopped_reason,
        target_model=done.target_model,
        judge_model=done.judge_model,
        drafted=done.drafted,
        runs=done.runs,
        comparisons=done.planned,
        wins=done.wins,
        ties=done.ties,
        losses=done.losses,
        score=done.score,
        low=done.low,
        high=done.high,
        conclusion=tally.conclusion(done.low, done.high, len(done.verdicts)),
        cost_usd=ticks_to_usd(done.cost_ticks),
        calls=done.calls,
        cached_calls=done.cached_calls,
        duration_ms=done.duration_ms,
        verdicts=list(done.verdicts),
    )


class EvalService:
    """A/B evaluation of a rewrite on sample inputs, on the daemon's LLM engine."""

    name = "eval"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def methods(self) -> Mapping[str, wire.Method]:
        return {
            "eval.estimate": wire.Method(EvalParams, self.estimate),
            "eval.run": wire.Method(EvalParams, self.run, work=True),
        }

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _engine(self) -> LLMEngine:
        core = self.daemon.core
        llm = core.optimizer.llm if core is not None and core.optimizer is not None else None
        if llm is None:
            raise ConfigError(OFFLINE_REFUSAL)
        return llm

    def _prepare(self, params: EvalParams) -> EvalRun:
        engine = self._engine()
        original, candidate, opt_id = self._prompts(params)
        config = self.daemon.config.engine
        check_input(original, config)
        check_input(candidate, config)
        samples = None
        if params.inputs is not None:
            samples = parse_samples(params.inputs, params.inputs_name)
        return EvalRun(
            engine,
            original=original,
            candidate=candidate,
            samples=samples,
            target_model=params.target_model,
            judge_model=params.judge_model,
            runs=params.runs,
            opt_id=opt_id,
            source=params.source,
            inputs_name=params.inputs_name,
        )

    def _prompts(self, params: EvalParams) -> tuple[str, str, str]:
        """(original, candidate, opt_id) from an optimization id or the two texts."""
        if params.opt_id:
            if params.original or params.candidate:
                raise InputError("give an optimization ID or --original and --candidate, not both")
            from ..server import queries

            core = self.daemon.core
            if core is None or core.store is None:
                raise RuntimeError("the core service has not started")
            with core.store.view() as view:
                shown = queries.show(view, api.ShowParams(id=params.opt_id))
            opt = shown.optimization
            if not opt.changed or opt.optimized == opt.original:
                raise InputError(
                    f"optimization {opt.id} left the prompt unchanged: there is nothing to "
                    "compare; evaluate two files with --original F --candidate F"
                )
            return opt.original, opt.optimized, opt.id
        if not params.original.strip() or not params.candidate.strip():
            raise InputError(
                "give an optimization ID (promptd history lists them), or both "
                "--original FILE and --candidate FILE"
            )
        return params.original, params.candidate, ""

    async def estimate(self, params: EvalParams, call: wire.Call) -> EvalEstimate:
        return self._prepare(params).estimate()

    async def run(self, params: EvalParams, call: wire.Call) -> EvalResult:
        done = await self._prepare(params).run(call.progress)
        return result_of(done)
