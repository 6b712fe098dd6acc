"""The daemon's one "optimize one prompt" call: cache, engine choice, pipeline, progress.

* The optimization cache first (unless ``no_cache``): a hit answers at once with the stored
  result, marked ``cached``, and records ``CacheHit`` + the request/completion (cost 0).
* Else the pipeline (:mod:`promptd.daemon.engine.pipeline`) on the offline agents or the LLM agents
  (with the offline agents as fallback: a failing provider gives a ``degraded`` answer).
  Its events go to the log as they happen; a run cut off by a stop records itself as
  ``OptimizationFailed(interrupted=True)``.
* ``progress`` notifications per agent step.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .. import api
from ..config import Config
from ..engine.guards import check_input
from ..engine.offline import OfflineAgents
from ..engine.pipeline import OptimizationRequest, RunMeta, new_opt_id, run_pipeline, to_result
from ..engine.text import normalize, prompt_hash
from ..errors import ConfigError
from ..events import (
    CacheHit,
    CacheMiss,
    Event,
    LintCompleted,
    OptimizationCompleted,
    OptimizationRequested,
)
from ..projections import StoreView
from ..store.writer import AsyncEventLog
from ..values import Related
from . import logs, queries

if TYPE_CHECKING:
    from ..library.grounding import Lookup, Retrieval
    from ..providers import LLMEngine

log = logs.get("optimize")

ENGINE_VERSION = "2"  # part of the cache key: bump when the engines' output changes
_STEPS = {"deconstructor": 1, "diagnoser": 2, "designer": 3, "evaluator": 4}

Progress = Callable[[api.Progress], None]


def cache_key(
    text: str, prompt_type: str, engine: str, model: str, instruct: str = "", target: str = ""
) -> str:
    """normalized prompt + type + engine + model + engine version (DESIGN "Caches"), and the
    instruction and target model when given (same prompt, another instruction: another key;
    without them the key is what it always was, so earlier entries still answer)."""
    h = hashlib.sha256()
    for part in (normalize(text), prompt_type, engine, model, ENGINE_VERSION):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    if instruct or target:
        for part in ("instruct", " ".join(instruct.split()), "target", target):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
    return h.hexdigest()


class Optimizer:
    """Owns the engines for one config (a SIGHUP builds a new one)."""

    def __init__(self, config: Config, store: AsyncEventLog[StoreView]) -> None:
        self.config = config
        self.store = store
        self.offline = OfflineAgents(config.engine)
        self._recording: set[asyncio.Task[Any]] = set()
        self.running = 0  # optimizations in the pipeline now
        self.llm: LLMEngine | None = None
        if config.engine_name() == "llm":
            from ..providers import LLMEngine

            self.llm = LLMEngine(config, store)

    def provider_status(self) -> api.ProviderStatus:
        if self.llm is None:
            return queries.provider_status(self.config)
        llm = self.llm
        modes = llm.mode.modes()
        return api.ProviderStatus(
            name=llm.name,
            model=llm.provider.model,
            circuit=llm.circuit,
            json_mode=modes.get(llm.provider.model)
            or ("json_schema" if llm.mode.json_schema else "json_object"),
            json_modes=modes,
            calls_in_flight=llm.meter.in_flight,
        )

    def _llm(self) -> LLMEngine:
        if self.llm is None:
            raise ConfigError(
                "the llm engine needs a provider: set XAI_API_KEY (or OPENAI_API_KEY with "
                'provider.kind = "openai" in config.toml), or use --engine offline'
            )
        return self.llm

    def estimate(self, params: api.OptimizeParams) -> api.EstimateResult:
        check_input(params.text, self.config.engine)
        engine = params.engine or self.config.engine_name()
        if engine == "offline":
            return api.EstimateResult(
                engine="offline",
                model="",
                calls=0,
                input_tokens=0,
                max_output_tokens=0,
                estimated_usd=0.0,
                worst_case_usd=0.0,
            )
        if self.llm is None:  # no key: the price table still knows what a run costs
            from ..providers.llm_engine import estimate_without_provider

            return estimate_without_provider(self.config, params.text, params.model)
        return self.llm.estimate(params.text, params.model)

    async def llm_lint(self, text: str, prompt_type: str) -> tuple[LintCompleted, bool]:
        """The model's findings for ``text`` (the lint cache first); ``(result, cached)``."""
        return await self._llm().lint(text, prompt_type)

    async def optimize(
        self,
        params: api.OptimizeParams,
        progress: Progress,
        *,
        batch_id: str = "",
        related: Sequence[Related] = (),
        retrieval: Retrieval | None = None,
        lookup: Callable[[str], Awaitable[Lookup]] | None = None,
    ) -> api.OptimizeResult:
        """One optimization. ``related``: what the library found, shown with the result;
        ``retrieval``: the same with the LLM Designer's examples and passages (and why there
        are none), recorded as the result's ``grounding`` / ``grounding_note``; ``lookup``: the
        library search behind the LLM Designer's ``search_library`` tool."""
        started = time.perf_counter()
        engine = params.engine or self.config.engine_name()
        if engine not in ("offline", "llm"):
            raise ConfigError(f"unknown engine {engine!r}; use offline or llm")
        check_input(params.text, self.config.engine)
        opt_id = new_opt_id()
        model, model_reason = "", ""
        llm = self._llm() if engine == "llm" else None
        choice = None
        if llm is not None:
            choice = llm.choose(params.text, params.model)
            model, model_reason = choice.model, choice.reason
        instruct = params.instruct or ""
        target = params.target or self.config.engine.target
        target = "" if target == "generic" else target
        key = cache_key(params.text, params.prompt_type, engine, model, instruct, target)
        if not params.no_cache:
            hit = self._cached(key)
            if hit is not None:
                return self._answer_cached(hit, key, opt_id, params, batch_id, started)
        request = OptimizationRequest(
            text=params.text,
            prompt_type=params.prompt_type,
            opt_id=opt_id,
            source=params.source,
            batch_id=batch_id,
            no_cache=params.no_cache,
            model=model,
            instruct=instruct,
            target=target,
        )
        meta = RunMeta(model=model, model_reason=model_reason, cache_key=key)
        agents: Any = self.offline
        if llm is not None:
            # the agents keep ``meta`` current: cost, stale-cache degradation
            agents = llm.agents_for(
                opt_id,
                params.text,
                model=params.model,
                no_cache=params.no_cache,
                choice=choice,
                meta=meta,
                hold=True,  # the run's planned calls are held up front: admitted runs finish
                grounding=retrieval.materials if retrieval is not None else (),
                lookup=lookup,
            )
        final: list[OptimizationCompleted] = []
        miss: list[Event] = (
            [] if params.no_cache else [CacheMiss(cache="optimization", key=key, opt_id=opt_id)]
        )

        async def emit(events: Sequence[Event]) -> object:
            out: list[Event] = []
            for ev in events:
                if isinstance(ev, OptimizationCompleted):
                    if llm is not None and ev.cost_ticks < agents.cost_ticks:
                        # every provider call of this run, the fallback's too
                        ev = msgspec.structs.replace(ev, cost_ticks=agents.cost_ticks)
                    if ev.degraded:  # a stand-in answer must not be served from cache later
                        ev = msgspec.structs.replace(ev, cache_key="")
                    if related:  # what the library found, for `show` and the result
                        ev = msgspec.structs.replace(ev, related=list(related))
                    if related and llm is None:  # offline: retrieval shows as findings
                        ev = _similar_found(ev, related)
                    if llm is not None and retrieval is not None:
                        ev = _grounded(ev, agents.grounded, retrieval)
                    final.append(ev)
                out.append(ev)
            if miss:
                out = [*miss, *out]
                miss.clear()
            return await self.store.append(out)

        def on_step(agent: str, attempt: int) -> None:
            progress(
                api.Progress(
                    token="",
                    kind="optimize",
                    message=f"{agent} (try {attempt})" if attempt > 1 else agent,
                    done=_STEPS.get(agent, 0) - 1,
                    total=4,
                    opt_id=opt_id,
                    agent=agent,
                )
            )

        self.running += 1
        since = self.store.last_seq()
        try:
            outcome = await run_pipeline(
                request,
                agents,
                emit=emit,
                config=self.config.engine,
                fallback=self.offline if llm is not None else None,
                on_step=on_step,
                meta=meta,
            )
        finally:
            self.running -= 1
            if llm is not None:
                await asyncio.shield(agents.finish())  # what is left of the run's hold
        done = final[-1] if final else outcome.completed
        if done.degraded:
            log.warning("optimization %s answered degraded: %s", done.opt_id, done.degraded_reason)
        result = to_result(done)
        if llm is not None:
            alerts = await asyncio.to_thread(self._alerts_since, since)
            if alerts:
                result = msgspec.structs.replace(result, alerts=alerts)
        return result

    def _alerts_since(self, seq: int) -> list[str]:
        """The budget alerts recorded after ``seq`` (those this run crossed), for stderr."""
        with self.store.view() as view:
            return queries.budget_alerts(view, self.config, since=seq)

    def _cached(self, key: str) -> OptimizationCompleted | None:
        with self.store.view() as view:
            return view.cache.optimization(key, time.time_ns())

    def _answer_cached(
        self,
        hit: OptimizationCompleted,
        key: str,
        opt_id: str,
        params: api.OptimizeParams,
        batch_id: str,
        started: float,
    ) -> api.OptimizeResult:
        duration_ms = round((time.perf_counter() - started) * 1000)
        done = msgspec.structs.replace(
            hit,
            opt_id=opt_id,
            cached=True,
            cost_ticks=0,
            duration_ms=duration_ms,
            source=params.source,
            batch_id=batch_id,
        )
        events: list[Event] = [
            OptimizationRequested(
                opt_id=opt_id,
                prompt=params.text,
                prompt_hash=prompt_hash(params.text),
                prompt_type=params.prompt_type,
                engine=hit.engine,
                model=hit.model,
                source=params.source,
                batch_id=batch_id,
                instruct=hit.instruct,
                target=hit.target,
            ),
            CacheHit(
                cache="optimization",
                key=key,
                opt_id=opt_id,
                source_opt_id=hit.opt_id,
                saved_ticks=hit.cost_ticks,
            ),
            done,
        ]
        # Recorded in the next group commit; the answer does not wait for the disk (a hit
        # costs nothing, and a crash in that millisecond loses only its record).
        task = asyncio.get_running_loop().create_task(self.store.append(events))
        self._recording.add(task)
        task.add_done_callback(self._recorded)
        return to_result(done)

    def _recorded(self, task: asyncio.Task[Any]) -> None:
        self._recording.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not record a cache hit", exc_info=task.exception())

    async def aclose(self) -> None:
        """Wait for cache hits still being recorded, then close the provider's client."""
        if self._recording:
            await asyncio.gather(*self._recording, return_exceptions=True)
        if self.llm is not None:
            await self.llm.aclose()


def _similar_found(ev: OptimizationCompleted, related: Sequence[Related]) -> OptimizationCompleted:
    """``ev`` with a ``PD023 similar-prompt`` finding for each similar past optimization."""
    from ..library.grounding import similar_findings

    found = similar_findings(related)
    return msgspec.structs.replace(ev, findings=[*ev.findings, *found]) if found else ev


def _grounded(
    ev: OptimizationCompleted, given: Sequence[Any], retrieval: Retrieval
) -> OptimizationCompleted:
    """``ev`` saying what the LLM Designer was given from the library, and why not more."""
    from ..library.grounding import grounding_of, mark_used

    used = grounding_of(given)
    notes = [retrieval.note] if retrieval.note else []
    if retrieval.materials and not used:
        notes.append("the LLM Designer did not run, so no example or passage was used")
    return msgspec.structs.replace(
        ev,
        grounding=used,
        grounding_note="; ".join(notes),
        related=mark_used(ev.related, used),
    )
