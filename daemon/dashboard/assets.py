"""The page's script and style, read once at start and kept in memory.

A fresh load needs two requests: the page, and its one script, ``app.js``, under a URL that
carries a digest of it (``/assets/VERSION/app.js``), so a browser may keep it for good
(``immutable``) and a new daemon with another script gets another URL. A request naming
another version is refused with 404, so a page of an older daemon reloads instead of mixing
old and new files; an ``If-None-Match`` that names the current ETag gets 304. The style goes
inside the page (:attr:`Assets.style`): the charts' style (pygal's, from
:func:`.charts.stylesheet`) followed by ``app.css``, whose rules win at equal specificity.
No build step: the sources in ``promptd/daemon/data/dashboard/`` are the files people edit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import charts

CACHE_FOREVER = "private, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    """One served file: its bytes, its type and its ETag."""

    body: bytes
    content_type: str
    etag: str


class Assets:
    """The script and style of one daemon start; the script under one version."""

    def __init__(self, folder: Path) -> None:
        self.style = charts.stylesheet() + "\n" + (folder / "app.css").read_text("utf-8")
        script = (folder / "app.js").read_bytes()
        self.version = hashlib.sha256(script).hexdigest()[:16]
        self.files = {
            "app.js": Asset(
                body=script, content_type="text/javascript", etag=f'"{self.version}-app.js"'
            )
        }

    def url(self, name: str) -> str:
        """The versioned URL of a served file (``/assets/VERSION/NAME``)."""
        return f"/assets/{self.version}/{name}"

    def get(self, version: str, name: str) -> Asset | None:
        """The file ``name`` when ``version`` is this start's, else None."""
        return self.files.get(name) if version == self.version else None
