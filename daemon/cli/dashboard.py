"""``promptd dashboard``: open the daemon's web dashboard in the browser."""

from __future__ import annotations

import webbrowser

import click
import msgspec

from ..client import Client
from .common import home_paths, print_json


class _Url(msgspec.Struct):
    url: str


@click.command()
@click.option("--no-open", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--json", "as_json", is_flag=True, help='Print {"url": ...} and open nothing.')
@click.pass_context
def dashboard(ctx: click.Context, no_open: bool, as_json: bool) -> None:
    """Open the web dashboard (charts, history, audit, backups) in your browser.

    Starts the daemon when it is not running. The URL holds a token that changes at every
    daemon start; the page swaps it for a cookie. It is served on 127.0.0.1 only.

    \b
    Examples:
      promptd dashboard
      promptd dashboard --no-open      # print the URL (e.g. over SSH with a tunnel)
      promptd dashboard --json | jq -r .url
    """
    paths = home_paths(ctx)
    with Client.connect(paths, autostart=True, timeout=15.0) as client:
        url = client.call("dashboard.url", result_type=_Url, timeout=10.0).url
    if as_json:
        print_json({"url": url})
        return
    if no_open or not webbrowser.open(url):
        if not no_open:
            click.echo("promptd: no browser to open here; open this URL yourself:", err=True)
        click.echo(url)
        return
    click.echo(f"Opened the dashboard in your browser: {url.split('?', 1)[0]}")
