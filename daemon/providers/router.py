"""Model routing: a fast and a quality model, chosen by prompt complexity and budget left.

Order of precedence, each with the reason that becomes ``model_reason`` in the result:

1. an explicit model (``--model``, the API's ``model``) always wins;
2. under ``fast_below_pct`` (default 20%) of a budget left: the fast model;
3. a complex prompt (long, several tasks or many constraints): the quality model;
4. otherwise the fast model.

Without ``fast_model``/``quality_model`` in config, a configured ``model`` serves both tiers;
with neither, the price table's fast and quality models of the provider are used.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from ..config import Config
from .prices import PriceTable

COMPLEX_CHARS: Final = 1200
COMPLEX_LINES: Final = 15
COMPLEX_TASKS: Final = 3
_TASK_WORDS = re.compile(
    r"\b(write|explain|list|summari[sz]e|compare|analy[sz]e|generate|create|describe|review|"
    r"refactor|translate|classify|extract|implement|design|evaluate|then|also)\b",
    re.IGNORECASE,
)
_CONSTRAINT_WORDS = re.compile(
    r"\b(must|should|never|always|at most|at least|exactly|only|do not|don't|avoid)\b",
    re.IGNORECASE,
)


class Choice(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    tier: str  # fast | quality | explicit
    reason: str


def is_complex(prompt: str) -> bool:
    """Long, several tasks or many constraints: worth the quality model."""
    if len(prompt) >= COMPLEX_CHARS or prompt.count("\n") >= COMPLEX_LINES:
        return True
    tasks = len(_TASK_WORDS.findall(prompt))
    constraints = len(_CONSTRAINT_WORDS.findall(prompt))
    return tasks >= COMPLEX_TASKS or constraints >= 4


class Router:
    def __init__(self, config: Config, default_model: str, prices: PriceTable, provider: str):
        prov = config.provider
        self.fast_below = config.budget.fast_below_pct / 100
        tiered: dict[str, str] = {}
        for price in prices.models(provider):  # the first of each tier in the table wins
            if price.tier is not None:
                tiered.setdefault(price.tier, price.model)
        base = prov.model or ""
        self.fast = prov.fast_model or base or tiered.get("fast", default_model)
        self.quality = prov.quality_model or base or tiered.get("quality", default_model)

    def choose(
        self, prompt: str, *, explicit: str | None = None, remaining: float | None = None
    ) -> Choice:
        if explicit:
            return Choice(model=explicit, tier="explicit", reason="asked for explicitly")
        if remaining is not None and remaining < self.fast_below:
            return Choice(
                model=self.fast,
                tier="fast",
                reason=(
                    f"budget: {remaining:.0%} left (under {self.fast_below:.0%}), so the fast model"
                ),
            )
        if is_complex(prompt):
            return Choice(
                model=self.quality,
                tier="quality",
                reason="complex prompt (long, several tasks or many constraints): quality model",
            )
        return Choice(model=self.fast, tier="fast", reason="short, simple prompt: fast model")

    def tier_of(self, model: str) -> list[str]:
        """Which tiers a model serves (for ``promptd models``)."""
        tiers = []
        if model == self.fast:
            tiers.append("fast")
        if model == self.quality:
            tiers.append("quality")
        return tiers
