"""Origins: which imported records came from where, so an import is idempotent.

One table, ``origins``: ``"<store_id>/<seq>"`` -> the local sequence number it was given.
``append_records`` skips an envelope whose origin is already here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..events import Record
from .base import Projection, Reader, State, Table

ORIGINS = Table("origins", int)


class OriginsProjection(Projection):
    name = "origins"
    version = 1
    tables = (ORIGINS,)

    imported_only = True

    def fold_batch(self, state: State, records: Sequence[Record], kinds: Counter[type]) -> None:
        for rec in records:
            if rec.origin:
                state.put(ORIGINS, rec.origin.encode(), rec.seq)


class OriginsView:
    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def seq_of(self, origin: str) -> int | None:
        """The local sequence an imported origin was stored at, or ``None``."""
        return self._r.get(ORIGINS, origin.encode())
