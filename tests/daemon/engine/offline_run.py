"""``optimize(text)``: one offline run through the whole pipeline (guards included), as
``promptd optimize --engine offline`` does it, for the engine's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from promptd.daemon.api import OptimizeResult
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, run_pipeline, to_result
from promptd.daemon.events import Event


def optimize(text: str, prompt_type: str = "auto") -> OptimizeResult:
    async def go() -> OptimizeResult:
        async def emit(batch: Sequence[Event]) -> None:
            return None

        outcome = await run_pipeline(
            OptimizationRequest(text=text, prompt_type=prompt_type), OfflineAgents(), emit=emit
        )
        return to_result(outcome)

    return asyncio.run(go())
