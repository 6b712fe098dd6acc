"""``python -m promptd.daemon``: the ``promptd`` command (how a detached daemon is started)."""

from __future__ import annotations

from .cli import main

main()
