"""Prompt tools beside optimization: :mod:`.templatize` (pull literal values out into
placeholders) and :mod:`.trim` (fit a prompt into a token budget). Pure functions; the
daemon's :mod:`.service` puts them on the control API and ``promptd templatize|trim`` call
them. Params and results are the Structs of :mod:`.types` (light: the CLI imports them).
"""

from __future__ import annotations
