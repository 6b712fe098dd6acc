"""The ``promptd`` command: one click group whose subcommands load lazily.

Each command lives in its own module and is imported only when it runs, so ``promptd
--help`` and ``promptd status`` stay fast (DESIGN.md "CLI"). A command's docstring is its
help; ``promptd --help`` shows the first sentence, read from the module's source.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..errors import PromptdError

# command name -> (module relative to this package, attribute). Each command's help, the
# line in `promptd --help` too, is its docstring: the one source.
COMMANDS: dict[str, tuple[str, str]] = {
    "start": (".lifecycle", "start"),
    "stop": (".lifecycle", "stop"),
    "status": (".lifecycle", "status"),
    "optimize": (".optimize", "optimize"),
    "lint": (".lint_command", "lint"),
    "templatize": (".tools", "templatize"),
    "trim": (".tools", "trim"),
    "history": (".records", "history"),
    "show": (".records", "show"),
    "costs": (".records", "costs"),
    "budget": (".records", "budget"),
    "models": (".models", "models"),
    "batch": (".batch", "batch"),
    "backup": (".backup", "backup"),
    "export": (".backup", "export"),
    "import": (".backup", "import_"),
    "rebuild": (".store", "rebuild"),
    "verify": (".store", "verify"),
    "dashboard": (".dashboard", "dashboard"),
    "search": (".library", "search"),
    "library": (".library", "library"),
    "keep": (".library", "keep"),
    "reject": (".library", "reject"),
    "lsp": (".lsp", "lsp"),
}


def first_sentence(doc: str) -> str:
    """The summary of a docstring: its first sentence (of its first paragraph)."""
    text = " ".join(doc.strip().partition("\n\n")[0].split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


@functools.cache
def _docstrings(module: str) -> dict[str, str]:
    """The docstrings of a command module's functions, read from its source: no import."""
    spec = importlib.util.find_spec(module, __package__)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return {}
    tree = ast.parse(Path(spec.origin).read_bytes())
    return {
        node.name: ast.get_docstring(node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def summary(name: str) -> str:
    """The line ``promptd --help`` shows for command ``name``: its docstring's first sentence."""
    module, attr = COMMANDS[name]
    doc = _docstrings(module).get(attr)
    if doc is None:  # no source to read (a frozen install): import the command after all
        command = getattr(importlib.import_module(module, __package__), attr)
        doc = command.help or ""
    return first_sentence(doc)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0], __package__)
        command = getattr(module, spec[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Each command's summary from its docstring, read without importing its module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary(name)) for name in COMMANDS])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="PROMPTD_HOME",
    help="Keep every file under this folder (default: XDG folders). Env: PROMPTD_HOME.",
)
@click.version_option(__version__, prog_name="promptd")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """promptd: a personal prompt optimizer that runs as a local daemon.

    \b
    Examples:
      promptd optimize "write some stuff about dogs"
      promptd lint --file prompts/system.prompt
      promptd status
    """
    ctx.obj = home


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="promptd", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PromptdError as exc:
        click.echo(f"promptd: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
