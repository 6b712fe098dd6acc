"""`promptd --help`: each command's line is its docstring's first sentence, read lazily."""

from __future__ import annotations

import click
from click.testing import CliRunner

from promptd.daemon.cli import COMMANDS, cli, first_sentence

from .test_daemon_commands import _modules_after


def test_the_listing_is_each_docstrings_first_sentence() -> None:
    listing = CliRunner().invoke(cli, ["--help"], terminal_width=200).output
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, name
        line = first_sentence(command.help)
        assert f"  {name}" in listing and line in listing, (name, line)
        assert line.endswith(".") and len(line) <= 80, f"{name}: keep the first sentence short"


def test_the_summary_opens_the_commands_own_help() -> None:
    ctx = click.Context(cli)
    status = cli.get_command(ctx, "status")
    assert status is not None and status.help
    own_help = CliRunner().invoke(cli, ["status", "--help"]).output
    assert first_sentence(status.help) in " ".join(own_help.split())


def test_help_imports_no_command_module() -> None:
    mods = _modules_after("--help")
    loaded = {m for m in mods if m.startswith("promptd.daemon.cli.")}
    assert not loaded, loaded
