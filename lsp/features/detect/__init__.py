"""Finding prompts in a document: Python, JS/TS/JSX/TSX, Markdown and prompt files.

``detect(document, min_words)`` picks the detector by language id and file name, and
never raises on a bad document: a detector that fails yields no prompts (and is logged).
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from . import javascript, markdown, python
from .model import Piece, Prompt, Style, find_at

__all__ = [
    "Piece",
    "Prompt",
    "Style",
    "detect",
    "detect_text",
    "find_at",
    "language_of",
    "redetect",
]

log = logging.getLogger(__name__)

_BY_ID = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "tsx",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "markdown": "markdown",
    "prompt": "markdown",
    "prompty": "markdown",
}
_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "tsx",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".prompt": "markdown",
    ".prompty": "markdown",
}


def language_of(path: PurePosixPath, language_id: str) -> str:
    """python | javascript | typescript | tsx | markdown | "" (not ours)."""
    if markdown.is_prompt_file(path):
        return "markdown"
    by_suffix = _BY_SUFFIX.get(path.suffix.lower(), "")
    if language_id == "javascript" and by_suffix == "tsx":
        return "tsx"  # .jsx opened as plain javascript
    return _BY_ID.get(language_id, "") or by_suffix


def _eol(text: str) -> str:
    index = text.find("\n")
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def detect_text(text: str, path: PurePosixPath, language_id: str, min_words: int) -> list[Prompt]:
    lang = language_of(path, language_id)
    eol = _eol(text)
    if lang == "python":
        return python.detect(text, min_words, eol)
    if lang in javascript.GRAMMARS:
        return javascript.detect(text, lang, min_words, eol)
    if lang == "markdown":
        return markdown.detect(text, path, eol)
    return []


def detect(text: str, path: PurePosixPath, language_id: str, min_words: int) -> list[Prompt]:
    """Prompts in a document, sorted by position; [] (logged) if a detector fails."""
    try:
        return detect_text(text, path, language_id, min_words)
    except Exception:
        log.exception("prompt detection failed for %s; no prompts reported", path)
        return []


def redetect(
    old_text: str,
    old: list[Prompt],
    text: str,
    path: PurePosixPath,
    language_id: str,
    min_words: int,
) -> list[Prompt]:
    """``detect(text, ...)``, given ``old == detect(old_text, ...)``: a Python edit inside
    one prompt's literal re-reads that literal only (typing in a prompt costs well under a
    millisecond instead of a scan of the file); anything else is detected afresh."""
    if language_of(path, language_id) == "python":
        try:
            found = python.redetect(old_text, old, text, min_words, _eol(text))
        except Exception:
            log.exception("incremental detection failed for %s; scanning the file", path)
            found = None
        if found is not None:
            return found
    return detect(text, path, language_id, min_words)
