"""``python -m promptd.daemon.server [--home DIR] [--detached]``: an internal entry kept for
scripts that used it; it is ``promptd [--home DIR] start --foreground`` (or ``--detached``),
parsed by the one CLI."""

from __future__ import annotations

import sys

from ..cli import main

_args = sys.argv[1:]
_mode = "--detached" if "--detached" in _args else "--foreground"
main([*(a for a in _args if a != "--detached"), "start", _mode])
