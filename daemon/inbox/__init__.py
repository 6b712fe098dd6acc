"""The inbox: drop a file of prompts, get optimized prompts back in ``outbox/``.

Exports the file formats (:func:`parse`, :func:`render`), the batch runner and the daemon
service that watches the inbox folder.
"""

from __future__ import annotations

from .formats import FORMATS, Item, Parsed, format_of, output_name, parse, render, report_name

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
