"""Helpers every command shares: the home folder, JSON output, error exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from .. import paths as _paths
from ..errors import InputError


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


def read_prompt(text: str | None, file: str | os.PathLike[str] | None, command: str) -> str:
    """The prompt from TEXT, ``-`` (stdin) or ``--file``: exactly one of them; UTF-8, with or
    without a BOM."""
    if text is not None and file is not None:
        raise click.UsageError("give the prompt as TEXT or with --file, not both")
    if file is not None:
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {file}: {exc.strerror}; check the path") from exc
    elif text == "-" or (text is None and not sys.stdin.isatty()):
        data = sys.stdin.buffer.read()
    elif text is not None:
        return _not_empty(text, "TEXT")
    else:
        raise click.UsageError(f'give a prompt: promptd {command} "TEXT", - for stdin, or --file F')
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the prompt is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    return _not_empty(text, "the file" if file is not None else "stdin")


def _not_empty(text: str, where: str) -> str:
    """Refuse an empty prompt here, before a daemon is started for nothing."""
    if not text.strip():
        raise InputError(f"the prompt is empty ({where} holds no text); give the text of a prompt")
    return text
