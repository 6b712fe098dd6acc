"""Prompts and lint reports of documents, cached so every feature shares one pass.

Detection runs once per document version (an edit inside a prompt re-reads that prompt
only); lint runs once per distinct prompt text (an edit re-lints only the prompt it
touched). Both are offline and pure: they keep working when the daemon is down.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from promptd.daemon.errors import PromptdError

from .detect import Prompt, detect, redetect
from .documents import Document

if TYPE_CHECKING:
    from promptd.daemon.engine.lint import LintReport

log = logging.getLogger(__name__)

# Prompts per document that diagnostics and code lenses check: lint takes ~0.5 ms a prompt,
# so a generated file of 20,000 prompts would take seconds on every edit and flood the
# editor. Past the limit the document gets a summary diagnostic; hover and code actions
# still lint the one prompt they are asked about.
MAX_PROMPTS: Final = 500


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
        hit = self.cached(doc, min_words)
        if hit is not None:
            return hit
        found = self.detection(doc, min_words)()
        self.store(doc, min_words, found)
        return found

    def cached(self, doc: Document, min_words: int) -> list[Prompt] | None:
        """The prompts of the document as it is now, when they are known."""
        cached = self._prompts.get(doc.uri)
        if cached is None or cached[2] != (doc.language_id, min_words):
            return None
        if cached[0] == doc.version and cached[1] is doc.text:
            return cached[3]
        return None

    def detection(self, doc: Document, min_words: int) -> Callable[[], list[Prompt]]:
        """The detection of the document as it is now, as a pure function of nothing: it can
        run in another thread (a huge file takes seconds); hand its result to ``store``."""
        cached = self._prompts.get(doc.uri)
        text, path, language = doc.text, doc.path, doc.language_id
        if cached is None or cached[2] != (language, min_words):
            return functools.partial(detect, text, path, language, min_words)
        return functools.partial(redetect, cached[1], cached[3], text, path, language, min_words)

    def store(self, doc: Document, min_words: int, found: list[Prompt]) -> None:
        self._prompts[doc.uri] = (doc.version, doc.text, (doc.language_id, min_words), found)

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

    def check(self, prompt: Prompt) -> Checked:
        report, error = self.lint(prompt.content)
        return Checked(prompt=prompt, report=report, error=error)

    def checked(self, doc: Document, min_words: int, limit: int = MAX_PROMPTS) -> list[Checked]:
        """The first ``limit`` prompts of the document, linted."""
        return [self.check(prompt) for prompt in self.prompts(doc, min_words)[:limit]]
