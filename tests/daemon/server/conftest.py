"""Shared fixtures for the daemon-server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promptd.daemon.server import logs


@pytest.fixture(autouse=True)
def _close_log_handlers() -> Iterator[None]:
    """``logs.setup`` opens files on the process-wide logger: close them after each test."""
    yield
    logger = logs.get()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
