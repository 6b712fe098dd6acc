"""The daemon's log: structured lines with time and level in ``run/daemon.log``, rotated by size.

One line per record, ``logfmt`` style so people and ``grep`` read it alike::

    2026-11-27T10:12:03.481Z INFO  promptd.daemon.server started pid=4242 engine=offline

Values that hold an API key never reach the file: :class:`SecretFilter` replaces the value of
every key variable (``XAI_API_KEY``, ``OPENAI_API_KEY`` and the one config names) with ``***``
in the message and its arguments, at every level. Prompt text is only logged at DEBUG.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..redact import redact_urls

LOGGER_NAME = "promptd"
_KEY_VARS = ("XAI_API_KEY", "OPENAI_API_KEY")


def get(name: str = "") -> logging.Logger:
    """The daemon's logger, or a child of it (``get("rpc")`` -> ``promptd.rpc``)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LineFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER message key=value ...``; ``extra={"fields": {...}}`` adds pairs."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"{ts}.{int(record.msecs):03d}Z {record.levelname:<5} {record.name} "
        line += record.getMessage().replace("\n", "\\n")
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line += "".join(f" {k}={_quote(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class SecretFilter(logging.Filter):
    """Replace the value of every API-key variable with ``***`` before a record is written."""

    def __init__(self, variables: Iterable[str] = ()) -> None:
        super().__init__()
        self.variables = tuple(dict.fromkeys((*_KEY_VARS, *variables)))

    def _secrets(self) -> list[str]:
        return [v for name in self.variables if len(v := os.environ.get(name, "")) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._secrets()
        text = record.getMessage()
        if "://" in text:  # a URL's userinfo and secret query values (redact.py)
            text = redact_urls(text)
            record.msg, record.args = text, None
        if not secrets:
            return True
        fields = getattr(record, "fields", None)
        for secret in secrets:
            text = text.replace(secret, "***")
            if isinstance(fields, dict):
                fields = {k: str(v).replace(secret, "***") for k, v in fields.items()}
        record.msg, record.args = text, None
        if fields is not None:
            record.fields = fields
        return True


class _RotatingHandler(logging.handlers.RotatingFileHandler):
    """Size-rotated file; when ``own_stderr`` is set, fd 2 follows the current file, so a
    traceback Python prints on its own (a crash) lands in daemon.log too."""

    def __init__(self, path: Path, max_bytes: int, backups: int, own_stderr: bool) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self.own_stderr = own_stderr
        self._follow()

    def _follow(self) -> None:
        if self.own_stderr and self.stream is not None:
            self.stream.flush()
            os.dup2(self.stream.fileno(), 2)

    def doRollover(self) -> None:
        super().doRollover()
        self._follow()


def setup(
    log_file: Path,
    *,
    level: str = "INFO",
    max_bytes: int = 5 * 1024 * 1024,
    backups: int = 3,
    key_vars: Iterable[str] = (),
    foreground: bool = False,
    detached: bool = False,
) -> logging.Logger:
    """Configure the ``promptd`` logger: the rotating file, plus the terminal when in the
    foreground. ``detached``: stderr is the log file (a crash traceback is kept)."""
    logger = get()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    numeric = logging.getLevelName(level.upper())
    logger.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    logger.propagate = False
    secret_filter = SecretFilter(key_vars)
    file_handler = _RotatingHandler(log_file, max_bytes, backups, own_stderr=detached)
    file_handler.setFormatter(LineFormatter())
    file_handler.addFilter(secret_filter)
    logger.addHandler(file_handler)
    if foreground:
        term = logging.StreamHandler(sys.stderr)
        term.setFormatter(LineFormatter())
        term.addFilter(secret_filter)
        logger.addHandler(term)
    return logger


def fields(**values: Any) -> dict[str, Any]:
    """``log.info("msg", extra=fields(pid=1))``: key=value pairs after the message."""
    return {"fields": values}
