"""``promptd search``, ``library status|upload``, ``keep`` and ``reject``: the prompt library.

The library is the daemon's (it keeps the index current), so these start it when needed, as
``optimize`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import click

from .. import api
from ..client import Client
from ..library import types
from .common import home_paths, print_json

T = TypeVar("T")


def _call(ctx: click.Context, method: str, params: Any, result_type: type[T]) -> T:
    with Client.connect(home_paths(ctx), autostart=True, timeout=15.0) as client:
        result: T = client.call(method, params, result_type=result_type, timeout=60.0)
    return result


def _one_line(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@click.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["optimization", "file"]),
    help="Only this kind of hit (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def search(
    ctx: click.Context, text: tuple[str, ...], limit: int, kinds: tuple[str, ...], as_json: bool
) -> None:
    """Search your past optimizations and library prompt files, best first.

    Each hit says where it came from (an optimization id or a file) and how similar it is.
    Kept rewrites rank first among close matches.

    \b
    Examples:
      promptd search fix the bug in this code
      promptd search "summarize a meeting" --kind file --json
    """
    params = types.SearchParams(text=" ".join(text), limit=limit, kinds=list(kinds))
    result = _call(ctx, "library.search", params, types.SearchResult)
    if as_json:
        print_json(result)
        return
    if not result.hits:
        click.echo(f"nothing similar to {result.query!r} in the library", err=True)
        return
    for n, hit in enumerate(result.hits, 1):
        where = hit.title if hit.kind == "file" else f"{hit.ref.removeprefix('opt:')} {hit.at}"
        marks = " kept" if hit.kept else " rejected" if hit.rejected else ""
        score = f" score {hit.score}" if hit.kind == "optimization" else ""
        click.echo(f"{n:>2}. [{hit.similarity:>3}% similar]{score}{marks}  {where}")
        click.echo(f"    {_one_line(hit.text)}")
    click.echo(f"{len(result.hits)} hits in {result.took_ms:.1f} ms", err=True)


@click.group()
def library() -> None:
    """The prompt library: what is indexed, and uploads to xAI Collections.

    \b
    Examples:
      promptd library status
      promptd library upload ~/prompts --collection collection_123
    """


@library.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def library_status(ctx: click.Context, as_json: bool) -> None:
    """What the library index holds and how often rewrites are kept."""
    result = _call(ctx, "library.status", api.Empty(), types.LibraryStatus)
    if as_json:
        print_json(result)
        return
    rate = (
        f"{result.acceptance_rate:.0%} kept ({result.kept} kept, {result.rejected} rejected)"
        if result.acceptance_rate is not None
        else "no verdicts yet (promptd keep ID / promptd reject ID)"
    )
    rows = [
        ("index", f"{result.path} ({result.index_bytes / 1024:.0f} KiB)"),
        ("optimizations", str(result.optimizations)),
        ("prompt files", str(result.files)),
        ("folders", ", ".join(result.folders) or "none ([library] paths in config.toml)"),
        ("collections", ", ".join(result.collections) or "none"),
        ("acceptance", rate),
    ]
    if result.pending:
        rows.append(("catching up", f"{result.pending} events not indexed yet"))
    if result.error:
        rows.append(("problem", result.error))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")


def _verdict(ctx: click.Context, method: str, id: str, why: str = "") -> None:
    result = _call(ctx, method, types.VerdictParams(id=id, why=why), types.VerdictResult)
    rate = (
        f"; {result.acceptance_rate:.0%} of rewrites kept so far"
        if result.acceptance_rate is not None
        else ""
    )
    click.echo(f"{result.id}: {result.verdict}{rate}", err=True)


@click.command()
@click.argument("id")
@click.pass_context
def keep(ctx: click.Context, id: str) -> None:
    """Say you kept a rewrite: it ranks first as an example for similar prompts.

    ID may be a unique prefix (as `promptd history` prints it).

    \b
    Example:
      promptd keep 01JD3Q8
    """
    _verdict(ctx, "optimization.keep", id)


@click.command()
@click.argument("id")
@click.option("--why", default="", help="What was wrong with it (kept in the log).")
@click.pass_context
def reject(ctx: click.Context, id: str, why: str) -> None:
    """Say you rejected a rewrite: it is never offered as an example again.

    \b
    Example:
      promptd reject 01JD3Q8 --why "dropped the JSON example"
    """
    _verdict(ctx, "optimization.reject", id, why)


@library.command("upload")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--collection", required=True, help="The xAI collection id (collection_...).")
def library_upload(path: Path, collection: str) -> None:
    """Upload prompt files (a folder's, or one file) to an xAI Collection.

    Needs XAI_API_KEY and XAI_MANAGEMENT_API_KEY (a management key with the
    AddFileToCollection permission); promptd never stores either. Then list the collection in
    config.toml ([library] xai_collections) so `promptd search` searches it.

    \b
    Example:
      promptd library upload ~/prompts --collection collection_123
    """
    import asyncio
    import os

    from ..errors import InputError
    from ..library import feed
    from ..library.collections import CollectionsClient, management_key

    files = list(feed.prompt_files([path])) if path.is_dir() else [path]
    if not files:
        suffixes = ", ".join(sorted(feed.PROMPT_SUFFIXES))
        raise InputError(f"no prompt files under {path} (looked for {suffixes})")

    async def upload_all() -> None:
        import httpx

        async with httpx.AsyncClient() as http:
            client = CollectionsClient(
                http, api_key=os.environ.get("XAI_API_KEY", ""), management_key=management_key()
            )
            for n, file in enumerate(files, 1):
                file_id = await client.upload(file, collection)
                click.echo(f"[{n}/{len(files)}] {file} -> {file_id}", err=True)

    asyncio.run(upload_all())
    click.echo(f"uploaded {len(files)} files to {collection}", err=True)
