"""``python -m promptd.daemon.server``: what ``promptd start`` runs in the background."""

from __future__ import annotations

from .main import run_module

run_module()
