"""``eval.estimate`` and ``eval.run`` on the control API: their params and results.

Light (msgspec and the event Structs only): the CLI imports it without the engine.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..api import Params
from ..events import EvalVerdict

Runs = Annotated[int, msgspec.Meta(ge=1, le=10)]


class EvalParams(Params):
    """What to compare, on what, and how often.

    Give ``opt_id`` (an optimization: its original against its rewrite) or both
    ``original`` and ``candidate``. ``inputs``: the samples as JSONL text (None: the model
    drafts 5); ``inputs_name`` names it in error messages (the file's name).
    ``target_model``/``judge_model``: "" for the configured model.
    """

    opt_id: str = ""
    original: str = ""
    candidate: str = ""
    inputs: str | None = None
    inputs_name: str = "the inputs"
    target_model: str = ""
    judge_model: str = ""
    runs: Runs = 1
    source: str = "cli"
    progress_token: str | None = None  # eval.run: a progress notification per sample


class EvalEstimate(msgspec.Struct, kw_only=True):
    """What an evaluation will do and cost, before any call (``eval.estimate``)."""

    opt_id: str
    target_model: str
    judge_model: str
    samples: int  # given, or to be drafted
    drafted: bool
    runs: int
    comparisons: int  # samples x runs
    calls: int  # target + judge calls (+1 when the inputs are drafted)
    estimated_usd: float  # a typical run: answers use half of their max_tokens
    worst_case_usd: float  # every answer at its max_tokens: the most the budget is asked for
    variables: list[str]  # the placeholders the samples fill
    note: str = ""


class EvalResult(msgspec.Struct, kw_only=True):
    """The outcome of ``eval.run`` (what ``promptd eval --json`` prints)."""

    eval_id: str
    opt_id: str
    status: str  # completed | stopped
    stopped_reason: str
    target_model: str
    judge_model: str
    drafted: bool
    runs: int
    comparisons: int  # planned
    wins: int
    ties: int
    losses: int
    score: float  # (wins + ties/2) / compared
    low: float  # 95% Wilson interval of score
    high: float
    conclusion: str
    cost_usd: float
    calls: int
    cached_calls: int
    duration_ms: int
    verdicts: list[EvalVerdict]
