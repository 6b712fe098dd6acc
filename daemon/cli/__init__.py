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
from ..paths import private_umask

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
    "eval": (".evaluate", "evaluate"),
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


# Misspellings close enough to a command that guessing is safe (click's own suggestion only
# covers names it can see, and the commands load lazily).
ALIASES: dict[str, str] = {"optimise": "optimize", "optimzie": "optimize", "stats": "status"}

_HOME_HELP = "Keep every file under this folder (default: XDG folders). Env: PROMPTD_HOME."


def _set_home(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj = value


def _accept_home(command: click.Command) -> None:
    """Let ``--home`` follow the subcommand too (``promptd status --home DIR``), as the README
    says every command takes it; given there, it wins over the group's and PROMPTD_HOME."""
    if not any("--home" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(
            click.Option(
                ["--home"],
                type=click.Path(file_okay=False),
                expose_value=False,
                is_eager=True,
                callback=_set_home,
                help=_HOME_HELP,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_home(sub)


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
        _accept_home(command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            import difflib

            guess = ALIASES.get(name.lower()) or next(
                iter(difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.75)), None
            )
            hint = f" Did you mean {guess!r}?" if guess else ""
            ctx.fail(f"No such command {name!r}.{hint} See 'promptd --help' for the list.")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Each command's summary from its docstring, read without importing its module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary(name)) for name in COMMANDS])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="PROMPTD_HOME",
    help=_HOME_HELP,
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
    private_umask()  # everything promptd writes is 0600/0700, whatever the user's umask
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
