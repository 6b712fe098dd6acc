"""``LLMEngine``: what the daemon builds once per life to run the LLM agents.

engine = LLMEngine(config, log)              # one provider, one HTTP/2 client
agents = engine.agents_for(opt_id, prompt, model=None, no_cache=False)
...                                          # the pipeline runs agents.deconstruct() ...
agents.model, agents.model_reason, agents.cost_ticks, agents.degraded_reasons
engine.estimate(prompt)                      # cost before a run, no call
engine.models()                              # the provider's models with prices
engine.circuit                               # closed | open | half_open
await engine.aclose()
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache

import httpx
import msgspec

from ..api import EstimateResult
from ..config import Config
from ..engine.pipeline import choose_route
from ..engine.rules import RULES
from ..errors import ConfigError
from ..events import LintCompleted
from ..library.grounding import Lookup, Material
from ..values import ticks_to_usd
from .agents import (
    DEFAULT_CONTEXT_TOKENS,
    JsonMode,
    LLMAgents,
    RunFacts,
    answer_tokens,
    meta_prompt,
)
from .answers import AnalysisAnswer, DesignAnswer
from .budget_rules import RunHold, periods, remaining_fraction
from .calls import MESSAGE_OVERHEAD_TOKENS, Meter, estimate_tokens
from .library_tool import ToolMode
from .llm_lint import llm_lint
from .modes import json_mode_for
from .openai_compat import OpenAICompatProvider
from .ports import EventLogPort, budget_state
from .prices import PriceTable, cost_ticks, worst_case_ticks
from .prices import Usage as TokenUsage
from .router import Choice, Router
from .schema import schema_text
from .xai import XAIProvider

# A typical run: an 800-character prompt on the full route (the analysis and the Designer).
TYPICAL_PROMPT_CHARS = 800
TYPICAL_OUTPUT_SHARE = 0.5  # a typical answer uses about half of the max_tokens it is given
HOLD_TTL_S = 600.0  # a run still holding budget after this long has been abandoned


class ModelInfo(msgspec.Struct, kw_only=True):
    """One row of ``promptd models``."""

    model: str
    provider: str
    input_usd_per_m: float
    cached_input_usd_per_m: float
    output_usd_per_m: float
    reasoning_usd_per_m: float
    context: int
    tiers: list[str]
    default: bool
    typical_optimization_usd: float
    aliases: list[str] = msgspec.field(default_factory=list)


class PlannedCall(msgspec.Struct, frozen=True, kw_only=True):
    """One LLM call a run is expected to make: its kind and its token bounds."""

    kind: str  # analysis | designer
    input_tokens: int
    max_tokens: int


def plan_calls(
    prompt: str, max_tokens: int, context_tokens: int, grounding_tokens: int = 0
) -> list[PlannedCall]:
    """The calls a run on ``prompt`` makes when all goes well: the one count of calls.

    The full route: the analysis (Deconstructor + Diagnoser) and the Designer; the fast
    route: the Designer only. The Evaluator's rubric runs offline; its pairwise judge (two
    small calls) and a Designer's second try only come when needed, and are not planned.
    ``grounding_tokens``: the library's examples and passages the Designer also reads.
    """
    size = estimate_tokens(prompt)
    calls = []
    kinds = ("analysis", "designer") if choose_route(prompt)[0] == "full" else ("designer",)
    for kind in kinds:
        struct = AnalysisAnswer if kind == "analysis" else DesignAnswer
        system = estimate_tokens(meta_prompt(kind)) + estimate_tokens(schema_text(struct))
        # the Designer also reads the deconstruction (~ the prompt again) and the findings
        # (about 100 tokens each as JSON; a prompt rarely has more than 20)
        user = size + 200 if kind == "analysis" else 2 * size + 2000 + grounding_tokens
        input_tokens = system + user + 3 * MESSAGE_OVERHEAD_TOKENS
        calls.append(
            PlannedCall(
                kind=kind,
                input_tokens=input_tokens,
                max_tokens=answer_tokens(kind, prompt, input_tokens, max_tokens, context_tokens),
            )
        )
    return calls


def calls_for(prompt: str) -> int:
    """How many LLM calls a run on ``prompt`` makes when all goes well (1 or 2)."""
    return 2 if choose_route(prompt)[0] == "full" else 1


def provider_for(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.monotonic,
    environ: dict[str, str] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> OpenAICompatProvider:
    kind = config.provider_kind()
    if kind == "xai":
        return XAIProvider(config, client=client, clock=clock, environ=environ, sleep=sleep)
    if kind == "openai":
        return OpenAICompatProvider(
            config, client=client, clock=clock, environ=environ, sleep=sleep
        )
    raise ConfigError(
        'the LLM engine needs a provider: set XAI_API_KEY, or provider.kind = "xai" or '
        '"openai" in config.toml (the offline engine needs none)'
    )


class LLMEngine:
    def __init__(
        self,
        config: Config,
        log: EventLogPort,
        client: httpx.AsyncClient | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        now_ns: Callable[[], int] = time.time_ns,
        environ: dict[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.log = log
        self.prices = PriceTable(config.prices)
        self.provider = provider_for(
            config, client=client, clock=clock, environ=environ, sleep=sleep
        )
        self.meter = Meter(self.provider, log, config, prices=self.prices, now_ns=now_ns)
        self.provider.breaker.on_change = self.meter.circuit_changed
        self.router = Router(config, self.provider.model, self.prices, self.provider.name)
        self.mode: JsonMode = json_mode_for(  # what this endpoint refused, even before a restart
            log,
            self.provider.name,
            self.provider.base_url,
            self.provider.json_schema,
            self.meter.background,
        )
        self.tools = ToolMode(self.provider.supports_tools)
        self._now_ns = now_ns
        self._clock = clock
        self._runs: list[tuple[float, LLMAgents]] = []

    @property
    def circuit(self) -> str:
        return self.provider.breaker.state

    @property
    def name(self) -> str:
        return self.provider.name

    def remaining_budget(self) -> float | None:
        """The smallest share of a budget left now (None: no budget set)."""
        day, month = periods(self._now_ns() / 1e9)
        with self.log.view() as view:
            state = budget_state(view, self.meter.limits, day, month)
        return remaining_fraction(state)

    def choose(self, prompt: str, model: str | None = None) -> Choice:
        return self.router.choose(prompt, explicit=model, remaining=self.remaining_budget())

    def agents_for(
        self,
        opt_id: str,
        prompt: str,
        *,
        model: str | None = None,
        no_cache: bool = False,
        choice: Choice | None = None,
        meta: RunFacts | None = None,
        hold: bool = False,
        grounding: Sequence[Material] = (),
        lookup: Callable[[str], Awaitable[Lookup]] | None = None,
    ) -> LLMAgents:
        """The agents of one run; ``.model``/``.model_reason`` say which model and why.

        ``choice``: a :meth:`choose` already made (so the cache key and the run agree);
        ``meta``: the engine's ``RunMeta``, kept current with the run's cost and degradation;
        ``hold``: hold the run's worst case at its first call (refused up front when it does
        not fit), so under a tight budget admitted runs finish and the others spend nothing;
        the agents give it back after the last evaluation, on failure, on
        ``await agents.finish()``, or after ``HOLD_TTL_S``. Without it each call holds only
        its own worst case (the budget is never overshot either way).
        ``grounding``: the library's examples and passages for the Designer (held for too);
        ``lookup``: the library search behind the Designer's ``search_library`` tool.
        """
        choice = choice or self.choose(prompt, model)
        self._expire_holds()
        agents = self._agents(choice.model, choice.reason, no_cache=no_cache, meta=meta)
        agents.grounding = list(grounding)
        agents.lookup = lookup
        if hold:
            extra = sum(m.tokens for m in grounding)
            agents.hold = RunHold(self.run_worst_case(prompt, choice.model, extra), opt_id)
            self._runs.append((self._clock(), agents))
        return agents

    def _agents(
        self,
        model: str,
        reason: str = "",
        *,
        no_cache: bool = False,
        meta: RunFacts | None = None,
    ) -> LLMAgents:
        return LLMAgents(
            self.meter,
            model=model,
            model_reason=reason,
            mode=self.mode,
            no_cache=no_cache,
            max_tokens=self.config.provider.max_output_tokens,
            context_tokens=self.context_tokens(model),
            rule_codes=_rule_codes(),
            rule_names=_rule_names(),
            meta=meta,
            tool_mode=self.tools,
        )

    def context_tokens(self, model: str) -> int:
        return context_tokens(self.config, self.prices, model)

    def run_worst_case(self, prompt: str, model: str, grounding_tokens: int = 0) -> int:
        """The most a run's planned calls can cost: each at its ``max_tokens``."""
        price = self.prices.get(model)
        plan = plan_calls(
            prompt,
            self.config.provider.max_output_tokens,
            self.context_tokens(model),
            grounding_tokens,
        )
        return sum(worst_case_ticks(price, c.input_tokens, c.max_tokens) for c in plan)

    def _expire_holds(self) -> None:
        """Give back holds of runs nobody finished (a pipeline that stopped early)."""
        now = self._clock()
        keep: list[tuple[float, LLMAgents]] = []
        for started, agents in self._runs:
            if agents.hold is None or agents.hold.finished:
                continue
            if now - started > HOLD_TTL_S:
                self.meter.background(agents.finish("run hold expired"))
            else:
                keep.append((started, agents))
        self._runs = keep

    def estimate(self, prompt: str, model: str | None = None) -> EstimateResult:
        """What a run on ``prompt`` should cost, and at most, without calling anything."""
        chosen = self.choose(prompt, model).model
        return estimate_run(prompt, chosen, self.config, self.prices)

    async def lint(
        self, text: str, prompt_type: str = "auto", *, no_cache: bool = False
    ) -> tuple[LintCompleted, bool]:
        """The model's findings for ``text`` (lint cache first); ``(result, cached)``."""
        agents = self.agents_for("", text, choice=self.router.choose(text), no_cache=no_cache)
        return await llm_lint(agents, text, prompt_type, config=self.config.engine)

    def models(self) -> list[ModelInfo]:
        return list_models(
            self.config, self.prices, self.router, self.provider.name, self.provider.model
        )

    async def aclose(self) -> None:
        for _, agents in self._runs:
            await agents.finish("daemon stopping")
        self._runs = []
        await self.meter.flush()
        await self.provider.aclose()


def context_tokens(config: Config, prices: PriceTable, model: str) -> int:
    """The model's context window: config, else the price table, else a small default."""
    price = prices.get(model)
    known = price.context if price is not None else 0
    return config.provider.context_tokens or known or DEFAULT_CONTEXT_TOKENS


def estimate_run(prompt: str, model: str, config: Config, prices: PriceTable) -> EstimateResult:
    """What a run on ``prompt`` should cost, and at most, from the price table (no key)."""
    price = prices.get(model)
    plan = plan_calls(
        prompt, config.provider.max_output_tokens, context_tokens(config, prices, model)
    )
    input_tokens = sum(c.input_tokens for c in plan)
    max_out = sum(c.max_tokens for c in plan)
    typical = worst = 0
    if price is not None:
        typical = cost_ticks(
            price,
            TokenUsage(
                prompt_tokens=input_tokens,
                completion_tokens=round(max_out * TYPICAL_OUTPUT_SHARE),
            ),
        )
        worst = sum(worst_case_ticks(price, c.input_tokens, c.max_tokens) for c in plan)
    return EstimateResult(
        engine="llm",
        model=model,
        calls=len(plan),
        input_tokens=input_tokens,
        max_output_tokens=max_out,
        estimated_usd=ticks_to_usd(typical),
        worst_case_usd=ticks_to_usd(worst),
    )


def estimate_without_provider(
    config: Config, prompt: str, model: str | None = None
) -> EstimateResult:
    """``--estimate`` with no key set: the configured (or xAI's default) model's prices."""
    kind = config.provider_kind()
    cls = OpenAICompatProvider if kind == "openai" else XAIProvider
    default = config.provider.model or cls.default_model
    prices = PriceTable(config.prices)
    choice = Router(config, default, prices, cls.name).choose(prompt, explicit=model)
    return estimate_run(prompt, choice.model, config, prices)


TYPICAL_CALLS = calls_for("x " * (TYPICAL_PROMPT_CHARS // 2))


def _typical_cost(model: str, config: Config, prices: PriceTable) -> float:
    """A typical optimization (:data:`TYPICAL_CALLS` calls), as ``--estimate`` counts it."""
    typical = estimate_run("x " * (TYPICAL_PROMPT_CHARS // 2), model, config, prices)
    return typical.estimated_usd


def list_models(
    config: Config, prices: PriceTable, router: Router, provider: str, default_model: str
) -> list[ModelInfo]:
    """The provider's models with prices, tiers and a typical run's cost."""
    names = [p.model for p in prices.models(provider)]
    for extra in (router.fast, router.quality, default_model):
        if extra not in names:
            names.append(extra)
    rows = []
    for name in names:
        price = prices.get(name)
        aliases = sorted(a for a, target in prices.aliases.items() if target == name)
        rows.append(
            ModelInfo(
                model=name,
                provider=provider,
                input_usd_per_m=price.input if price else 0.0,
                cached_input_usd_per_m=price.cached_input if price else 0.0,
                output_usd_per_m=price.output if price else 0.0,
                reasoning_usd_per_m=price.reasoning if price else 0.0,
                context=price.context if price else 0,
                tiers=router.tier_of(name),
                default=name == default_model,
                typical_optimization_usd=_typical_cost(name, config, prices) if price else 0.0,
                aliases=aliases,
            )
        )
    return rows


@lru_cache(maxsize=1)
def _rule_codes() -> str:
    """The Diagnoser's rule codes with their names, from the offline engine's rules."""
    return "\n".join(f"{rule.code} {rule.name}" for rule in RULES if not rule.from_library)


@lru_cache(maxsize=1)
def _rule_names() -> dict[str, str]:
    return {rule.code: rule.name for rule in RULES}
