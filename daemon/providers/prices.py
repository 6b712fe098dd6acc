"""The price table and the cost function.

Prices are a data file shipped with the package (``daemon/data/prices.toml``), merged with the
user's ``[prices."model"]`` rows from config.toml. Money is computed in integer USD ticks
(1 USD = 10**10 ticks): a price of P USD per million tokens is P * 10**4 ticks per token, so
every rate is turned into an exact integer of ticks per token-million once, and costs are
exact integers with no float drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Final, Literal

import msgspec

from ..config import ModelPrice
from ..values import TICKS_PER_USD

Tier = Literal["fast", "quality"]
LONG_CONTEXT_TOKENS: Final = 200_000  # past this many prompt tokens the long-context tier applies
_MILLION: Final = 1_000_000


class PriceRow(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of ``prices.toml``."""

    input: float
    cached_input: float
    output: float
    reasoning: float | None = None
    context: int = 0
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    provider: str = ""
    tier: Tier | None = None


class PriceFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    models: dict[str, PriceRow] = msgspec.field(default_factory=dict)
    aliases: dict[str, str] = msgspec.field(default_factory=dict)


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts of one call, in xAI's accounting.

    ``prompt_tokens`` includes ``cached_tokens``; ``completion_tokens`` excludes
    ``reasoning_tokens`` (xAI reports them apart and bills them at the output rate).
    """

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved price: USD per million tokens, as people read them."""

    model: str
    input: float
    cached_input: float
    output: float
    reasoning: float
    context: int = 0
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    provider: str = ""
    tier: Tier | None = None


def _rate(usd_per_million: float) -> int:
    """Ticks per million tokens (exact integer)."""
    return round(usd_per_million * TICKS_PER_USD)


def _div_round(numerator: int, denominator: int) -> int:
    return (numerator + denominator // 2) // denominator


@lru_cache(maxsize=1)
def builtin_table() -> PriceFile:
    """The table shipped with promptd (read once)."""
    data = resources.files("promptd.daemon").joinpath("data/prices.toml").read_bytes()
    return msgspec.toml.decode(data, type=PriceFile)


class PriceTable:
    """Prices by model name, with aliases and the user's overrides applied."""

    def __init__(
        self,
        overrides: Mapping[str, ModelPrice] | None = None,
        table: PriceFile | None = None,
    ) -> None:
        base = table if table is not None else builtin_table()
        self.aliases: dict[str, str] = dict(base.aliases)
        self._rows: dict[str, Price] = {}
        for name, row in base.models.items():
            self._rows[name] = _price(name, row)
        for name, user in (overrides or {}).items():
            known = self._rows.get(self.canonical(name))
            self._rows[name] = Price(
                model=name,
                input=user.input,
                cached_input=user.cached_input,
                output=user.output,
                reasoning=user.reasoning if user.reasoning is not None else user.output,
                context=user.context or (known.context if known else 0),
                input_above_200k=user.input_above_200k,
                output_above_200k=user.output_above_200k,
                provider=known.provider if known else "",
                tier=known.tier if known else None,
            )
            self.aliases.pop(name, None)  # a user row wins over an alias of the same name

    def canonical(self, model: str) -> str:
        """The model a name is billed as (retired names map to their successor)."""
        return self.aliases.get(model, model)

    def get(self, model: str) -> Price | None:
        """The price of ``model`` (through aliases); None when unknown (a local model: free)."""
        return self._rows.get(model) or self._rows.get(self.canonical(model))

    def models(self, provider: str | None = None) -> list[Price]:
        rows = list(self._rows.values())
        if provider is not None:
            rows = [p for p in rows if p.provider == provider]
        return rows

    def cost_ticks(self, model: str, usage: Usage) -> int:
        """What ``usage`` costs on ``model``, in USD ticks (0 for a model with no price)."""
        price = self.get(model)
        return 0 if price is None else cost_ticks(price, usage)


def _price(name: str, row: PriceRow) -> Price:
    return Price(
        model=name,
        input=row.input,
        cached_input=row.cached_input,
        output=row.output,
        reasoning=row.reasoning if row.reasoning is not None else row.output,
        context=row.context,
        input_above_200k=row.input_above_200k,
        output_above_200k=row.output_above_200k,
        provider=row.provider,
        tier=row.tier,
    )


def cost_ticks(price: Price, usage: Usage) -> int:
    """The cost of one call in USD ticks.

    Cached tokens are part of ``prompt_tokens`` and billed at the cached rate; reasoning
    tokens are outside ``completion_tokens`` and billed at the reasoning (= output) rate.
    Past 200k prompt tokens the long-context rates apply to the whole request, as xAI bills.
    """
    long = usage.prompt_tokens > LONG_CONTEXT_TOKENS
    input_rate = price.input
    output_rate = price.output
    reasoning_rate = price.reasoning
    if long and price.input_above_200k is not None:
        input_rate = price.input_above_200k
    if long and price.output_above_200k is not None:
        scale = price.output_above_200k / price.output if price.output else 1.0
        output_rate = price.output_above_200k
        reasoning_rate = price.reasoning * scale
    cached = min(max(usage.cached_tokens, 0), max(usage.prompt_tokens, 0))
    uncached = max(usage.prompt_tokens, 0) - cached
    total = (
        uncached * _rate(input_rate)
        + cached * _rate(price.cached_input)
        + max(usage.completion_tokens, 0) * _rate(output_rate)
        + max(usage.reasoning_tokens, 0) * _rate(reasoning_rate)
    )
    return _div_round(total, _MILLION)


def worst_case_ticks(price: Price | None, input_tokens: int, max_output_tokens: int) -> int:
    """The most a call can cost: no cache hits, every output token used (reasoning included)."""
    if price is None:
        return 0
    return cost_ticks(price, Usage(prompt_tokens=input_tokens, completion_tokens=max_output_tokens))
