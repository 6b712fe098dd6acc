"""promptd: the daemon, its event log, the optimization engine and the CLI."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
