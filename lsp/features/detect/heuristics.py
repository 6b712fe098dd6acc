"""When is a string literal a prompt? Names that say so, role messages, markers, prose."""

from __future__ import annotations

import re
from typing import Final

PROMPT_WORDS: Final = frozenset(
    {
        "prompt",
        "prompts",
        "system",
        "instruction",
        "instructions",
        "template",
        "templates",
        "message",
        "messages",
        "content",
        "query",
        "question",
        "persona",
        "preamble",
        "directive",
        "directives",
    }
)
# A name that also has one of these words is not about a prompt (error_message, ...).
NOT_PROMPT_WORDS: Final = frozenset(
    {
        "error",
        "err",
        "exception",
        "log",
        "logger",
        "commit",
        "status",
        "warning",
        "warn",
        "exit",
        "type",
        "id",
        "path",
        "file",
        "url",
        "sql",
        "regex",
        "pattern",
        "format",
        "encoding",
        "header",
        "headers",
        "length",
    }
)
# Calls whose string arguments are never prompts, even when they read like prose.
NOT_PROMPT_CALLS: Final = frozenset(
    {
        "print",
        "log",
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "fatal",
        "echo",
        "secho",
        "write",
        "gettext",
        "ngettext",
        "_",
        "assert",
        "fail",
        "skip",
        "xfail",
        "system",  # os.system(...)
        "run",
        "check_call",
        "check_output",
        "popen",
        "execute",
        "executemany",
        "compile",
        "match",
        "search",
        "sub",
        "require",
        "describe",
        "it",
        "test",
        "expect",
        "throw",
        "alert",
        "confirm",
    }
)
NOT_PROMPT_KWARGS: Final = frozenset({"help", "description", "doc", "epilog", "usage", "msg"})

MARKER: Final = re.compile(r"promptd:\s*prompt\b")
IGNORE_MARKER: Final = re.compile(r"promptd:\s*ignore\b")

_CAMEL: Final = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_WORD: Final = re.compile(r"[^\W\d_][^\W_]*(?:['’-][^\W\d_]+)*")
_CODEY: Final = re.compile(
    r"[{}();=<>\[\]|&$\\/]|::|->|=>|\w+\.\w+\(|^\s*(?:SELECT|INSERT|UPDATE)\b"
)


def name_words(name: str) -> list[str]:
    """``systemPrompt`` / ``SYSTEM_PROMPT`` / ``system-prompt`` -> ["system", "prompt"]."""
    return [w.lower() for part in re.split(r"[\W_]+", name) for w in _CAMEL.findall(part)]


def is_prompt_name(name: str) -> bool:
    words = name_words(name)
    return (
        bool(words)
        and any(w in PROMPT_WORDS for w in words)
        and not any(w in NOT_PROMPT_WORDS for w in words)
    )


def is_excluded_name(name: str) -> bool:
    """A name that says it holds something else (error_message, log_text, sql...)."""
    return any(w in NOT_PROMPT_WORDS for w in name_words(name))


def is_excluded_call(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.lower() in NOT_PROMPT_CALLS or last.endswith(("Error", "Exception", "Warning"))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def looks_natural(text: str, min_words: int) -> bool:
    """Long, sentence-like natural language: enough words, mostly words, little code."""
    if len(text) < min_words * 2:
        return False
    words = _WORD.findall(text)
    if len(words) < min_words:
        return False
    letters = sum(len(w) for w in words)
    if letters < 0.6 * len(text.replace(" ", "").replace("\n", "")):
        return False
    code_marks = len(_CODEY.findall(text))
    if code_marks > max(2, len(words) // 6):
        return False
    # Sentence-like: spaces between words, and some lowercase prose.
    return text.count(" ") >= min_words - 1 and any(w.islower() for w in words)


def has_marker(line: str) -> bool:
    return MARKER.search(line) is not None


def has_ignore(line: str) -> bool:
    return IGNORE_MARKER.search(line) is not None
