"""``promptd models``: the configured provider's models, prices, tiers and typical cost."""

from __future__ import annotations

import click
import msgspec

from .. import config as _config
from ..providers.llm_engine import TYPICAL_CALLS, ModelInfo, list_models
from ..providers.openai_compat import OpenAICompatProvider
from ..providers.prices import PriceTable
from ..providers.router import Router
from ..providers.xai import XAI_DEFAULT_MODEL
from ..redact import redact_url
from .common import home_paths, print_json


class ModelsResult(msgspec.Struct, kw_only=True):
    """What ``promptd models --json`` prints."""

    provider: str  # the provider whose models are listed (xai when the engine is offline)
    engine: str  # offline | llm
    default_model: str
    fast_model: str
    quality_model: str
    note: str
    models: list[ModelInfo]


def models_result(cfg: _config.Config) -> ModelsResult:
    kind = cfg.provider_kind()
    prices = PriceTable(cfg.prices)
    note = ""
    if kind == "offline":
        provider, default = "xai", XAI_DEFAULT_MODEL
        note = (
            "the engine is offline (no API key): these are xAI's models; set XAI_API_KEY "
            "to use them"
        )
    elif kind == "xai":
        provider, default = "xai", cfg.provider.model or XAI_DEFAULT_MODEL
    else:
        provider = "openai"
        default = cfg.provider.model or OpenAICompatProvider.default_model
        base = cfg.provider.base_url or OpenAICompatProvider.default_base_url
        note = (
            f"OpenAI-compatible endpoint at {redact_url(base)}; models without a price cost nothing"
        )
    router = Router(cfg, default, prices, provider)
    return ModelsResult(
        provider=provider,
        engine=cfg.engine_name(),
        default_model=default,
        fast_model=router.fast,
        quality_model=router.quality,
        note=note,
        models=list_models(cfg, prices, router, provider, default),
    )


def _price(value: float) -> str:
    """A per-million price: at least cents, more digits only when the price has them."""
    if value == 0:
        return "$0"
    text = f"{value:,.4f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def _cost(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _tokens(n: int) -> str:
    if n <= 0:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    return f"{n // 1000}k"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the provider's models with prices per million tokens.

    Shows each model's input, cached input and output price, its context window, the tier it
    serves (fast or quality) and what a typical optimization costs on it, so you can compare
    before choosing with --model or provider.fast_model / provider.quality_model.

    \b
    Example:
      promptd models
      promptd models --json
    """
    cfg = _config.load(home_paths(ctx).config_file)
    result = models_result(cfg)
    if as_json:
        print_json(result)
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{result.provider} models: USD per million tokens",
        caption=(
            f"ctx: context window; per run: a typical optimization ({TYPICAL_CALLS} calls, "
            "as --estimate counts them)"
        ),
        box=box.SIMPLE_HEAD,
    )
    table.add_column("model", overflow="fold", ratio=1)
    for column in ("in", "cached", "out", "ctx"):
        table.add_column(column, justify="right")
    table.add_column("tier")
    table.add_column("per run", justify="right")
    for row in result.models:
        name = row.model + (" (default)" if row.default else "")
        table.add_row(
            name,
            _price(row.input_usd_per_m),
            _price(row.cached_input_usd_per_m),
            _price(row.output_usd_per_m),
            _tokens(row.context),
            ", ".join(row.tiers) or "-",
            _cost(row.typical_optimization_usd),
        )
    out = Console(highlight=False)
    out.print(table)
    for row in result.models:
        if row.aliases:
            out.print(f"Billed as {row.model}: {', '.join(row.aliases)}", style="dim")
    if result.note:
        Console(stderr=True, highlight=False).print(result.note)
