"""promptd's language server: a thin stdio client of the daemon."""

from __future__ import annotations

__all__: list[str] = []
