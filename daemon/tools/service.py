"""The prompt tools on the control API: ``templatize`` and ``trim``.

Both are pure and quick; they run in a worker thread so a long prompt (or the tokenizer's
first load) never holds up the daemon's other clients. ``trim`` without a model counts with
the tokenizer of the daemon's configured model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..wire import Call, Method
from . import types
from .templatize import templatize
from .trim import trim

if TYPE_CHECKING:
    from ..server.app import Daemon


class ToolsService:
    """Prompt tools beside optimization (no state, no events: the prompt is not recorded)."""

    name = "tools"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def methods(self) -> Mapping[str, Method]:
        return {
            "templatize": Method(types.TemplatizeParams, self.templatize),
            "trim": Method(types.TrimParams, self.trim),
        }

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def templatize(
        self, params: types.TemplatizeParams, call: Call
    ) -> types.TemplatizeResult:
        return await asyncio.to_thread(templatize, params.text, self.daemon.config.engine)

    async def trim(self, params: types.TrimParams, call: Call) -> types.TrimResult:
        model = params.model or self._model()
        return await asyncio.to_thread(
            trim, params.text, params.max_tokens, model, self.daemon.config.engine
        )

    def _model(self) -> str:
        """The configured provider's model; empty on the offline engine."""
        core = self.daemon.core
        if core is None or core.optimizer is None or self.daemon.config.engine_name() == "offline":
            return ""
        return core.optimizer.provider_status().model
