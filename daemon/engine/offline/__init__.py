"""The offline engine: the four agents as deterministic rules (no network).

Exports :class:`OfflineAgents` (``name = "offline"``), which implements
:class:`promptd.daemon.engine.types.Agents`.
"""

from __future__ import annotations

from .agents import OfflineAgents

__all__ = ["OfflineAgents"]
