"""Helpers every command shares: the home folder, JSON output, error exits."""

from __future__ import annotations

import sys
from typing import Any

import click
import msgspec

from .. import paths as _paths


def home_paths(ctx: click.Context) -> _paths.Paths:
    """The layout for the ``--home`` given to the group (or PROMPTD_HOME, or XDG)."""
    root = ctx.find_root()
    home = root.obj if isinstance(root.obj, str) else None
    return _paths.resolve(home)


def print_json(value: Any) -> None:
    """Print one JSON document on stdout (``--json`` output)."""
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(value), indent=2))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
