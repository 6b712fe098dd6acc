"""The inbox: drop a file of prompts, get optimized prompts back in ``outbox/``.

Modules (one concept each):

* :mod:`.formats` read txt/md/prompt/json/jsonl/csv as a stream of rows (exported here: the
  CLI needs only these, and they import nothing heavy)
* :mod:`.output` write results in the same format, row by row, through a temporary file
* :mod:`.stability` which dropped files are complete (temporary names, settle time, renames)
* :mod:`.watcher` watchfiles + periodic scans + re-arm when the folder is replaced
* :mod:`.book` batches folded from their events (resume, duplicates)
* :mod:`.batch` the runner: bounded concurrency, budget, events, atomic output
* :mod:`.report` ``NAME.report.md``
* :mod:`.bridge` the event log and the daemon's optimize call
* :mod:`.memory` freed memory back to the system after (and during) a big batch
* :mod:`.inbox_service` :class:`~.inbox_service.InboxService`, the daemon service
  (``batch.*`` methods)
"""

from __future__ import annotations

from .formats import FORMATS, Item, Parsed, format_of, output_name, parse, report_name
from .output import render

__all__ = [
    "FORMATS",
    "Item",
    "Parsed",
    "format_of",
    "output_name",
    "parse",
    "render",
    "report_name",
]
