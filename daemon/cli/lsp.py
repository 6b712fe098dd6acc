"""``promptd lsp``: the language server on stdio (the ``lsp`` package does the work)."""

from __future__ import annotations

import click


@click.command()
@click.pass_context
def lsp(ctx: click.Context) -> None:
    """Run the language server on stdio (editors start this).

    \b
    Example (Neovim 0.11+):
      vim.lsp.config("promptd", { cmd = { "promptd", "lsp" } })
    """
    import os

    home = ctx.find_root().obj
    if isinstance(home, str):  # --home reaches the server the way PROMPTD_HOME does
        os.environ["PROMPTD_HOME"] = home
    from promptd.lsp.server import main

    main()
