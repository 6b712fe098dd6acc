"""Prompts and lint reports of documents, cached so every feature shares one pass.

Detection runs once per document version (an edit inside a prompt re-reads that prompt
only); lint runs once per distinct prompt text (an edit re-lints only the prompt it
touched). Both are offline and pure: they keep working when the daemon is down.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptd.daemon.errors import PromptdError

from .detect import Prompt, detect, redetect
from .documents import Document

if TYPE_CHECKING:
    from promptd.daemon.engine.lint import LintReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Checked:
    """A prompt and its lint report (None when the engine refused the text)."""

    prompt: Prompt
    report: LintReport | None
    error: str = ""


class Analyzer:
    def __init__(self, lint_cache_size: int = 4096) -> None:
        # uri -> (version, text, (language id, min words), prompts found in that text)
        self._prompts: dict[str, tuple[int, str, tuple[str, int], list[Prompt]]] = {}
        self._lint: OrderedDict[tuple[str, str], tuple[LintReport | None, str]] = OrderedDict()
        self._lint_size = lint_cache_size

    def prompts(self, doc: Document, min_words: int) -> list[Prompt]:
        """The document's prompts (cached per version and text; after an edit, detection
        reuses the prompts of the text before it)."""
        cached = self._prompts.get(doc.uri)
        how = (doc.language_id, min_words)
        if cached is None or cached[2] != how:
            found = detect(doc.text, doc.path, doc.language_id, min_words)
        elif cached[0] == doc.version and cached[1] is doc.text:
            return cached[3]
        else:
            found = redetect(cached[1], cached[3], doc.text, doc.path, doc.language_id, min_words)
        self._prompts[doc.uri] = (doc.version, doc.text, how, found)
        return found

    def forget(self, uri: str) -> None:
        self._prompts.pop(uri, None)

    def lint(self, text: str, prompt_type: str = "auto") -> tuple[LintReport | None, str]:
        key = (prompt_type, text)
        hit = self._lint.get(key)
        if hit is not None:
            self._lint.move_to_end(key)
            return hit
        try:
            from promptd.daemon.engine.lint import lint  # the engine loads at the first lint

            result: tuple[LintReport | None, str] = (lint(text, prompt_type), "")
        except PromptdError as exc:
            result = (None, str(exc))
        except Exception as exc:  # the engine must not take the server down
            log.exception("lint failed")
            result = (None, f"lint failed: {exc}")
        self._lint[key] = result
        if len(self._lint) > self._lint_size:
            self._lint.popitem(last=False)
        return result

    def checked(self, doc: Document, min_words: int) -> list[Checked]:
        out: list[Checked] = []
        for prompt in self.prompts(doc, min_words):
            report, error = self.lint(prompt.content)
            out.append(Checked(prompt=prompt, report=report, error=error))
        return out
