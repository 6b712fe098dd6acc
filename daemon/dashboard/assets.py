"""The page's static files, read once at start and served from memory.

A fresh load needs two requests (the page, one script): the style sheet goes inside the page.
It is the charts' style (pygal's, from :func:`.charts.stylesheet`) followed by ``app.css``,
joined when the daemon starts (no build step: the sources in
``promptd/daemon/data/dashboard/`` are the files people edit). Their URLs carry a version,
a digest of what they hold
(``/assets/VERSION/app.js``), so a browser may keep them for good (``immutable``) and a new
daemon with other files gets other URLs. A request naming another version is refused with
404, so a page of an older daemon reloads instead of mixing old and new files; an
``If-None-Match`` that names the current ETag gets 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import charts

# What each served file is made of: its type, its source (under the dashboard's data
# folder), and what the daemon puts ahead of it (made once per start; the source comes
# last, so its rules win over what was put ahead at equal specificity).
BUNDLES: dict[str, tuple[str, str, Callable[[], str] | None]] = {
    "app.css": ("text/css", "app.css", charts.stylesheet),
    "app.js": ("text/javascript", "app.js", None),
}
CACHE_FOREVER = "private, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    """One served file: its bytes, its type and its ETag."""

    body: bytes
    content_type: str
    etag: str


class Assets:
    """The bundles of one daemon start, under one version."""

    def __init__(self, folder: Path) -> None:
        files: dict[str, Asset] = {}
        digest = hashlib.sha256()
        for name, (content_type, source, added) in BUNDLES.items():
            body = (added().encode() + b"\n" if added else b"") + _read(folder / source)
            files[name] = Asset(body=body, content_type=content_type, etag="")
            digest.update(name.encode() + b"\0" + body)
        self.version = digest.hexdigest()[:16]
        self.files = {
            name: Asset(body=a.body, content_type=a.content_type, etag=f'"{self.version}-{name}"')
            for name, a in files.items()
        }

    def url(self, name: str) -> str:
        """The versioned URL of a bundle (``/assets/VERSION/NAME``)."""
        return f"/assets/{self.version}/{name}"

    def get(self, version: str, name: str) -> Asset | None:
        """The bundle ``name`` when ``version`` is this start's, else None."""
        return self.files.get(name) if version == self.version else None


def _read(path: Path) -> bytes:
    # a file's last line may be a comment: the newline keeps what is added out of it
    return path.read_bytes().rstrip(b"\n") + b"\n"
