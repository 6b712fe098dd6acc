"""The ``promptd`` command: one click group whose subcommands load lazily.

Each command lives in its own module and is imported only when it runs, so ``promptd
--help`` and ``promptd status`` stay fast (DESIGN.md "CLI").
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import PromptdError
from ..paths import private_umask

# command name -> (module relative to this package, attribute, one-line help in `promptd --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "start": (
        ".lifecycle",
        "start",
        "Start the daemon (in the background by default).",
    ),
    "stop": (".lifecycle", "stop", "Stop the daemon gracefully."),
    "status": (
        ".lifecycle",
        "status",
        "Show the dashboard: daemon, spend, cache, backups.",
    ),
    "optimize": (
        ".optimize",
        "optimize",
        "Optimize a prompt and print the result.",
    ),
    "lint": (
        ".lint",
        "lint",
        "Print the Diagnoser's findings for a prompt (offline).",
    ),
    "history": (".records", "history", "List recent optimizations."),
    "show": (
        ".records",
        "show",
        "Show one optimization with its agent steps and costs.",
    ),
    "costs": (
        ".records",
        "costs",
        "Show spend by day, model and source, with a forecast.",
    ),
    "budget": (".records", "budget", "Show or set the daily and monthly budget."),
    "models": (".models", "models", "List the provider's models with prices."),
    "batch": (
        ".batch",
        "batch",
        "Optimize every prompt in a file (txt, md, json, jsonl, csv).",
    ),
    "backup": (".backup", "backup", "Make, list, verify or restore backups."),
    "export": (".backup", "export", "Export history as json, jsonl, csv or zip."),
    "import": (".backup", "import_", "Merge an export's events into the log."),
    "rebuild": (
        ".store",
        "rebuild",
        "Rebuild every projection from the event log.",
    ),
    "verify": (".store", "verify", "Check the event log and every projection."),
    "search": (".library", "search", "Search past optimizations and library prompts."),
    "library": (".library", "library", "Show the prompt library's index and folders."),
    "keep": (".library", "keep", "Say you kept a rewrite (it becomes an example)."),
    "reject": (".library", "reject", "Say you rejected a rewrite."),
    "lsp": (
        ".lsp",
        "lsp",
        "Run the language server on stdio (editors start this).",
    ),
}


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
        # Short help from the table above: --help imports no command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, spec[2]) for name, spec in COMMANDS.items()])


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
