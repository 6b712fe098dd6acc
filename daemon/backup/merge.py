"""Merging an export into a log: which events go in, and what to tell the person.

Shared by the daemon (``events.import``) and ``promptd import`` without a daemon. The store
does the idempotence (``append_records`` skips origins it holds, and this store's own);
this module leaves out the exporting home's local machinery (see
:data:`~promptd.daemon.backup.importer.LOCAL_ONLY_TAGS`) and counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ..events import Envelope, EventsImported
from .importer import LOCAL_ONLY_TAGS, ParsedImport, read_import

if TYPE_CHECKING:
    from ..projections import StoreView
    from ..store import EventLog

__all__ = ["ImportSummary", "envelopes_for", "merge_into", "summary"]


class ImportSummary(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    format: str
    events: int  # in the file
    imported: int  # added to the log
    skipped: int  # already here, or local to the exporting home
    local_only: int  # of the skipped: backups, budget settings, breaker states


def envelopes_for(parsed: ParsedImport) -> tuple[list[Envelope], int]:
    """The envelopes to hand ``append_records``, and how many events were left out."""
    envelopes = [
        Envelope(seq=0, ts_ns=r.ts_ns, schema=r.schema, event=r.event, origin=r.origin)
        for r in parsed.records
        if r.tag not in LOCAL_ONLY_TAGS
    ]
    return envelopes, len(parsed.records) - len(envelopes)


def summary(parsed: ParsedImport, *, imported: int, local_only: int) -> ImportSummary:
    total = len(parsed.records)
    return ImportSummary(
        file=parsed.path,
        format=parsed.format,
        events=total,
        imported=imported,
        skipped=total - imported,
        local_only=local_only,
    )


def merge_into(log: EventLog[StoreView], path: Path) -> ImportSummary:
    """Merge the export at ``path`` into ``log`` (no daemon running)."""
    parsed = read_import(path)
    envelopes, local_only = envelopes_for(parsed)
    seqs = log.append_records(envelopes)
    result = summary(parsed, imported=len(seqs), local_only=local_only)
    if seqs:
        log.append(
            EventsImported(file_name=path.name, imported=result.imported, skipped=result.skipped)
        )
    return result
